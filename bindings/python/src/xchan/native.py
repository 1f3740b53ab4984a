"""Native workers: run a function of a plain shared library on the core's
executors, called through libffi (the core's ``xchan_native_run``).

The library needs no Python glue: it receives channels and scalars as C
arguments.  ``signature`` is the core's grammar (``xchan_ext.h``): a return
letter, then the argument letters in parentheses, e.g. ``"v(ci)"`` is
``void f(xchan_chan *, int64_t)``.  Letters: ``i`` int, ``d`` float,
``b`` bool, ``s`` str, ``p`` Box (or None), ``c`` Chan; ``v`` (return only)
void.

    >>> ch = xchan.Chan()
    >>> done = xchan.native.io_thread("./libsensor.so", "stream", "v(ci)", ch, 100)
    >>> list(ch)[:3]
    [1, 2, 3]

Each function returns a Chan that receives the function's return value and
then closes (a void function's closes empty).  Nothing runs when the call is
wrong: a library or symbol that cannot be found raises ``xchan.ELOAD``, a
malformed signature or a wrong argument count ``xchan.EINVAL``, an argument
of the wrong type ``xchan.ETYPE``; the message names the problem.
"""
from __future__ import annotations

import os
from typing import Any, Union

from . import _xchan

__all__ = ["go", "thread", "io_thread"]

_Path = Union[str, "os.PathLike[str]"]


def _run(workload: int, lib: _Path, symbol: str, signature: str,
         args: tuple[Any, ...]) -> _xchan.Chan:
    return _xchan._native_run(workload, os.fspath(lib), symbol, signature, args)


def go(lib: _Path, symbol: str, signature: str, *args: Any) -> _xchan.Chan:
    """Runs ``symbol`` as a go task: its channel operations park the task;
    it must not block in the operating system (use thread/io_thread)."""
    return _run(_xchan.WORKLOAD_DISPATCH, lib, symbol, signature, args)


def thread(lib: _Path, symbol: str, signature: str, *args: Any) -> _xchan.Chan:
    """Runs ``symbol`` on the core's thread executor (core.async ``thread``)."""
    return _run(_xchan.WORKLOAD_MIXED, lib, symbol, signature, args)


def io_thread(lib: _Path, symbol: str, signature: str, *args: Any) -> _xchan.Chan:
    """Runs ``symbol`` on the core's IO executor (core.async ``io-thread``)."""
    return _run(_xchan.WORKLOAD_IO, lib, symbol, signature, args)
