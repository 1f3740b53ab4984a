import os
from typing import Any, Union

from . import Chan

__all__ = ["go", "thread", "io_thread"]

_Path = Union[str, os.PathLike[str]]

def go(lib: _Path, symbol: str, signature: str, *args: Any) -> Chan[Any]: ...
def thread(lib: _Path, symbol: str, signature: str, *args: Any) -> Chan[Any]: ...
def io_thread(lib: _Path, symbol: str, signature: str, *args: Any) -> Chan[Any]: ...
