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
    AsyncOp,
    Box,
    Cancel,
    Chan,
    InvalidArgumentType,
    Mix,
    Mult,
    Pub,
    XchanError,
    alts,
    alts_async,
    check_version,
    execute,
    in_go,
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
    set_task_error_hook,
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
    "Buffer", "InvalidArgumentType", "set_task_error_hook", "AsyncOp",
    "in_go", "execute",
]

_NONE, _FIXED, _DROPPING, _SLIDING, _PROMISE = 0, 1, 2, 3, 4


class Buffer:
    """A channel's buffer by kind name and capacity, for Chan(buf).

    ``Buffer(kind, n=0)``: kind is one of the names Chan.info() reports:
    "unbuffered" (n must be 0), "fixed", "dropping", "sliding" (n > 0),
    "promise" (n must be 0: it keeps the first value).  An unknown kind or
    a capacity the kind does not take raises ``xchan.EINVAL`` (a
    ValueError); a non-int n ``xchan.ETYPE``.  buffer(n), dropping(n) and
    sliding(n) are the short forms.
    """

    __slots__ = ("_xchan_kind", "n")
    _kinds = {"unbuffered": _NONE, "fixed": _FIXED, "dropping": _DROPPING,
              "sliding": _SLIDING, "promise": _PROMISE}
    _names = {v: k for k, v in _kinds.items()}

    def __init__(self, kind: str, n: int = 0):
        code = self._kinds.get(kind) if isinstance(kind, str) else None
        if code is None:
            raise _xchan.EINVAL(f"unknown buffer kind {kind!r} (one of "
                                f"{', '.join(self._kinds)})")
        if not isinstance(n, int) or isinstance(n, bool):
            raise _xchan.ETYPE(f"Buffer({kind!r}, n) needs an int n, "
                               f"not {type(n).__name__}")
        if code in (_NONE, _PROMISE):
            if n != 0:
                raise _xchan.EINVAL(f"a {kind} buffer takes no capacity, "
                                    f"got {n}")
        elif n <= 0:
            raise _xchan.EINVAL(f"a {kind} buffer needs n > 0, got {n}")
        self._xchan_kind = code
        self.n = n

    @property
    def kind(self) -> str:
        """The kind's name ("fixed", "sliding", ...)."""
        return self._names[self._xchan_kind]

    def __repr__(self) -> str:
        return f"xchan.Buffer({self.kind!r}, {self.n})"


def buffer(n: int) -> Buffer:
    """A fixed buffer of n: puts wait while it is full (same as Chan(n))."""
    return Buffer("fixed", n)


def dropping(n: int) -> Buffer:
    """A buffer of n that drops new values while it is full; puts never wait."""
    return Buffer("dropping", n)


def sliding(n: int) -> Buffer:
    """A buffer of n that drops the oldest value when full; puts never wait."""
    return Buffer("sliding", n)


def promise_chan(xform: Optional["xf.Transducer"] = None,
                 ex_handler: Optional[Callable[[BaseException], Any]] = None) -> Chan:
    """A channel that keeps the first value put and gives it to every taker
    (core.async promise-chan).  Later puts are accepted and dropped."""
    return Chan(Buffer("promise"), xform, ex_handler)


_running_go = set()


def _close_unstarted(coro: Any) -> None:
    """A coroutine go refused is closed: it never runs, and Python does not
    warn that it was never awaited."""
    close = getattr(coro, "close", None)
    if callable(close):
        close()


def go(coro: Awaitable[Any], *, name: Optional[str] = None) -> Chan:
    """Run the coroutine as a go task; returns a channel that receives its
    result (nothing if it is None) and then closes.

    Where an asyncio loop runs in the calling thread, the go is a task on
    that loop: it may await anything asyncio can.  Where none runs (a plain
    thread, a thread() body, another such go), it is a go task of the
    core's DISPATCH executor (the one ``execute('dispatch', ...)`` uses:
    the executor factory's, else MIXED's when the factory gives None for
    dispatch, else the core's pool): each step of the coroutine runs on a
    dispatch thread, and an ``await`` of an xchan operation (``ch.take()``,
    ``ch.put(v)``, ``alts_async(...)``, a timeout's take) parks the go
    without holding a thread until the operation completes.  Inside it
    ``in_go()`` is True and ``ch.put(v)``/``ch.take()`` return awaitables.
    It can await only xchan operations: awaiting anything else (an asyncio
    future, ``asyncio.sleep(0)``) raises TypeError at that await, and asyncio
    functions that need a running loop (``asyncio.sleep(t)``, ``wait_for``)
    raise asyncio's RuntimeError; wait with ``xchan.timeout(ms)`` and
    ``alts_async(..., timeout=t)`` instead, and run blocking code with
    ``await xchan.thread(fn).take()``.

    Either way: if the coroutine raises, the channel closes without a value
    and the task error hook (set_task_error_hook) gets (name, exception),
    as for the core's tasks; a CancelledError just closes the channel.
    name defaults to the coroutine's __qualname__.  After xchan.shutdown()
    it raises xchan.ESHUTDOWN, as the core's tasks do."""
    loop = _asyncio._get_running_loop()
    if _xchan._is_shut_down():
        _close_unstarted(coro)
        raise _xchan.ESHUTDOWN("go: xchan is shut down")
    if name is None:
        name = getattr(coro, "__qualname__", None) or repr(coro)
    if loop is None:
        out = Chan(1)
        try:
            _xchan._go_dispatch(coro, str(name), out)
        except BaseException:
            _close_unstarted(coro)
            raise
        return out
    task = loop.create_task(coro, name=name)
    out = Chan(1)
    _running_go.add(task)

    def done(t: "_asyncio.Task") -> None:
        _running_go.discard(t)
        if not t.cancelled():
            e = t.exception()
            if e is not None:
                out.close()
                _xchan._task_failed(name, e)
                return
            r = t.result()
            if r is not None:
                out.offer(r)
        out.close()

    task.add_done_callback(done)
    return out


def get_include() -> str:
    """The directory holding xchan/xchan.h and xchan/xchan_ext.h, for C
    extensions that use the function table (``xchan._C_API``)."""
    return _os.path.join(_os.path.dirname(__file__), "include")
