"""xchan: Clojure core.async channels for Python, shared with C.

Channels work from threads (blocking put/take release the GIL), from
asyncio (``await ch.put(v)``, ``await ch.take()``, ``async for``) and from
C extensions (``ch.capsule()`` and the function table ``xchan._C_API``), all
at once, on the same channel.

    >>> import xchan
    >>> ch = xchan.Chan(10)
    >>> ch.put("hello")
    True
    >>> ch.take()
    'hello'

Errors are subclasses of ``XchanError``, one per core error name
(``ECLOSED``, ``ETIMEDOUT``, ``ENIL``, ...); several also derive from the
matching Python builtin (``ETIMEDOUT`` is a ``TimeoutError``, ``ENIL`` a
``TypeError``, ``EINVAL`` a ``ValueError``).
"""
from __future__ import annotations

import asyncio as _asyncio
import atexit as _atexit
import os as _os
from typing import Any, Awaitable, Callable, Optional

from . import _xchan
from ._xchan import (  # noqa: F401  (re-exported)
    Box,
    Cancel,
    Chan,
    Mix,
    Mult,
    Pub,
    XchanError,
    alts,
    alts_async,
    check_version,
    into,
    io_thread,
    merge,
    mix,
    mult,
    onto_chan,
    pipe,
    pipeline,
    pipeline_async,
    pipeline_blocking,
    pub,
    random_seed,
    reduce,
    set_executor_factory,
    shutdown,
    split,
    thread,
    timeout,
    to_chan,
    transduce,
)
from ._xchan import map as map  # noqa: A004  (core.async's name)
from ._xchan import take as take  # noqa: F401
from . import _aio  # noqa: F401  (installs the asyncio slow path)
from . import xf  # noqa: F401
from . import native  # noqa: F401  (xchan.native.go/thread/io_thread)

# One exception class per core error name: xchan.ECLOSED, xchan.ETIMEDOUT, ...
for _code, _cls in _xchan._errors_by_code.items():
    globals()[_cls.__name__] = _cls
del _code, _cls

__version__ = "0.2.0"
core_version: str = _xchan.core_version

if hasattr(_xchan, "_C_API"):
    _C_API = _xchan._C_API

_atexit.register(_xchan._at_exit)

__all__ = [
    "Chan", "Box", "Mult", "Pub", "Mix", "XchanError", "buffer", "dropping",
    "sliding", "promise_chan", "timeout", "alts", "alts_async", "go",
    "thread", "io_thread", "set_executor_factory", "pipe", "pipeline",
    "pipeline_blocking", "pipeline_async", "mult", "pub", "mix", "merge",
    "split", "reduce", "transduce", "into", "onto_chan", "to_chan",
    "get_include", "xf", "Cancel", "check_version", "random_seed", "shutdown",
]

_FIXED, _DROPPING, _SLIDING, _PROMISE = 1, 2, 3, 4


class Buffer:
    """A buffer for Chan(): made by buffer(n), dropping(n), sliding(n)."""

    __slots__ = ("_xchan_kind", "n")
    _names = {_FIXED: "buffer", _DROPPING: "dropping", _SLIDING: "sliding",
              _PROMISE: "promise"}

    def __init__(self, kind: int, n: int):
        if kind != _PROMISE:
            if not isinstance(n, int) or isinstance(n, bool):
                raise _xchan.ETYPE(f"{self._names[kind]}(n) needs an int n, "
                                   f"not {type(n).__name__}")
            if n <= 0:
                raise _xchan.EINVAL(f"{self._names[kind]}(n) needs n > 0, got {n}")
        self._xchan_kind = kind
        self.n = n

    def __repr__(self) -> str:
        return f"xchan.{self._names[self._xchan_kind]}({self.n})"


def buffer(n: int) -> Buffer:
    """A fixed buffer of n: puts wait while it is full (same as Chan(n))."""
    return Buffer(_FIXED, n)


def dropping(n: int) -> Buffer:
    """A buffer of n that drops new values while it is full; puts never wait."""
    return Buffer(_DROPPING, n)


def sliding(n: int) -> Buffer:
    """A buffer of n that drops the oldest value when full; puts never wait."""
    return Buffer(_SLIDING, n)


def promise_chan(xform: Optional["xf.Transducer"] = None,
                 ex_handler: Optional[Callable[[BaseException], Any]] = None) -> Chan:
    """A channel that keeps the first value put and gives it to every taker
    (core.async promise-chan).  Later puts are accepted and dropped."""
    return Chan(Buffer(_PROMISE, 0), xform, ex_handler)


_running_go = set()


def go(coro: Awaitable[Any]) -> Chan:
    """Run the coroutine as a task on the running asyncio loop; returns a
    channel that receives its result (nothing if it is None) and then closes.
    If the coroutine raises, taking from the channel raises that exception."""
    loop = _asyncio.get_running_loop()
    task = loop.create_task(coro)
    out = Chan(1)
    _running_go.add(task)

    def done(t: "_asyncio.Task") -> None:
        _running_go.discard(t)
        try:
            r = t.result()
        except BaseException as e:  # noqa: BLE001 (carried to the taker)
            r = _xchan._failure(e)
        if r is not None:
            out.offer(r)
        out.close()

    task.add_done_callback(done)
    return out


def get_include() -> str:
    """The directory holding xchan/xchan.h and xchan/xchan_ext.h, for C
    extensions that use the function table (``xchan._C_API``)."""
    return _os.path.join(_os.path.dirname(__file__), "include")
