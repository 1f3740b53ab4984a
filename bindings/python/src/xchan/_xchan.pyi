# The native module; its public names are re-exported (and typed) by
# xchan/__init__.pyi.
from typing import Any

def __getattr__(name: str) -> Any: ...
