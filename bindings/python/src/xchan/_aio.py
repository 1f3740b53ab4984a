"""asyncio glue for xchan (the slow path of awaitable channel operations).

The fast path lives in C: awaiting ``ch.take()``, ``ch.put(v)`` or
``alts_async(...)`` first tries the operation without waiting and finishes
without suspending when it can.  Otherwise ``_slow`` runs: the operation is
registered with the core in notify mode against the running loop's hub,
and the task awaits a plain asyncio future that the hub resolves.

One hub per loop: an eventfd watched with ``loop.add_reader``.  Completions
on any thread push onto the hub's lock-free stack; only the push that finds
it empty writes the eventfd, so a burst costs the loop one wake.

Cancellation: if the task is cancelled while waiting, the core's
cancel-or-collect decides.  Either the cancel won (nothing was transferred;
the CancelledError propagates), or the operation had already completed: then
the task gets the result and the cancellation is re-armed, so it is raised
at the task's next suspension (Task.uncancel(), then Task.cancel() from the
loop); a task that returns first ends with its result.  A value is never
lost nor delivered twice.
"""
from __future__ import annotations

import asyncio
import weakref
from asyncio import events

from . import _xchan

__all__ = ["hub_for"]

_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _xchan._Hub]" = (
    weakref.WeakKeyDictionary()
)
_last_loop = None
_last_hub = None


def hub_for(loop):
    """The hub of `loop`, created and registered on first use."""
    global _last_loop, _last_hub
    if loop is _last_loop:
        return _last_hub
    hub = _hubs.get(loop)
    if hub is None:
        hub = _xchan._Hub()
        loop.add_reader(hub.fileno(), hub.drain)
        _hubs[loop] = hub
    # A strong reference to the last loop only; closed loops fall out of
    # the weak dictionary.
    _last_loop, _last_hub = loop, hub
    return hub


def _recancel():
    """The task was cancelled but its operation had completed: it gets the
    result, and the cancellation is re-raised at its next suspension.

    The cancel is re-issued from the loop (call_soon) rather than at once:
    if the coroutine returns before it awaits again, the task ends with its
    result instead of ending cancelled with the value thrown away (the case
    of asyncio.wait_for(ch.take(), t) and ensure_future(ch.take()))."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
        task.get_loop().call_soon(task.cancel)


def _wait(fut, op, stop_on_close):
    try:
        result = yield from fut
    except asyncio.CancelledError:
        if fut.done() and not fut.cancelled():
            # Resolved after the cancel request reached the task.
            _recancel()
            result = fut.result()
        else:
            try:
                completed, result = op.cancel()
            except BaseException:
                _recancel()  # the result was an exception: deliver it
                raise
            if not completed:
                raise
            _recancel()
    if stop_on_close and result is None:
        raise StopAsyncIteration
    return result


def _slow(awaitable):
    loop = events.get_running_loop()
    fut = loop.create_future()
    op = awaitable._start(hub_for(loop), fut)
    return _wait(fut, op, awaitable._stop_on_close)


_xchan._set_slow_path(_slow)
