"""Transducers for xchan channels, pipelines and transduce.

A transducer is a recipe: every channel (or pipeline element) it is given
to gets a fresh transform, run by the core in front of the channel's buffer.
``take`` and ``partition_all`` are the core's own transforms (no Python runs
in their steps); the others call your Python functions from the thread that
adds to the channel, holding the GIL only for the call.

    >>> from xchan import Chan, xf
    >>> ch = Chan(10, xf.comp(xf.map(lambda x: x * 2), xf.filter(lambda x: x > 2)))

An exception raised by a step goes to the channel's ``ex_handler`` (or is
reported as unraisable), as core.async's ex-handler.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from . import _xchan

__all__ = [
    "Transducer", "Reduced", "reduced", "comp", "map", "filter", "remove",
    "keep", "mapcat", "cat", "take", "drop", "take_while", "drop_while",
    "take_nth", "partition_all", "partition_by", "distinct", "dedupe",
    "interpose", "map_indexed", "keep_indexed", "replace", "halt_when",
]



class Reduced(list):
    """Outputs of a step followed by "stop" (core.async's ``reduced``).

    A generic step returns it to emit its items and then close the channel;
    a reduce function returns ``reduced(x)`` to stop with ``x``.
    """


_xchan._set_reduced_type(Reduced)


def reduced(x: Any) -> Reduced:
    """Stop a reduce (or a step) early with x."""
    return Reduced([x])


class Transducer:
    """A transform recipe; give it to Chan(n, xform), pipeline, transduce."""

    __slots__ = ("_make", "_name")

    def __init__(self, make: Callable[[], Any], name: str):
        self._make = make
        self._name = name

    def _xchan_xform(self):
        """A fresh native transform (a capsule 'xchan.xform')."""
        return self._make()

    def __repr__(self) -> str:
        return f"<xchan.xf.{self._name}>"


def _step(name: str, factory: Callable[[], tuple]) -> Transducer:
    """A Python-stepped transducer.  factory() returns (step, complete):
    step(v) returns None or an iterable of outputs (a Reduced one stops);
    complete() (or None) returns the outputs to flush at close."""

    def make():
        step, complete = factory()
        return _xchan._xf_step(step, complete)

    return Transducer(make, name)


def _callable(f, what):
    if not callable(f):
        raise TypeError(f"xf.{what} needs a callable, not {type(f).__name__}")


def _count(n, what, least=0):
    if not isinstance(n, int) or isinstance(n, bool):
        raise _xchan.ETYPE(f"xf.{what} needs an int, not {type(n).__name__}")
    if n < least:
        raise _xchan.EINVAL(f"xf.{what} needs n >= {least}, got {n}")


def comp(*xforms: Transducer) -> Transducer:
    """Compose transducers; the first is applied first."""
    for x in xforms:
        if not isinstance(x, Transducer):
            raise TypeError(f"xf.comp takes transducers, not {type(x).__name__}")
    if not xforms:
        return map(lambda v: v)
    return Transducer(lambda: _xchan._xf_comp([x._xchan_xform() for x in xforms]),
                      "comp(" + ", ".join(x._name for x in xforms) + ")")


def map(f: Callable[[Any], Any]) -> Transducer:  # noqa: A001
    """Emit f(v) for each v (f returning None fails the step: ENIL)."""
    _callable(f, "map")
    return Transducer(lambda: _xchan._xf_map(f), "map")


def filter(pred: Callable[[Any], Any]) -> Transducer:  # noqa: A001
    """Emit v when pred(v) is true."""
    _callable(pred, "filter")
    return Transducer(lambda: _xchan._xf_filter(pred), "filter")


def remove(pred: Callable[[Any], Any]) -> Transducer:
    """Emit v when pred(v) is false."""
    _callable(pred, "remove")
    return Transducer(lambda: _xchan._xf_filter(lambda v: not pred(v)), "remove")


def keep(f: Callable[[Any], Any]) -> Transducer:
    """Emit f(v) when it is not None."""
    _callable(f, "keep")

    def factory():
        def step(v):
            r = f(v)
            return None if r is None else (r,)
        return step, None
    return _step("keep", factory)


def mapcat(f: Callable[[Any], Iterable]) -> Transducer:
    """Emit every item of f(v)."""
    _callable(f, "mapcat")
    return _step("mapcat", lambda: (f, None))


def _cat_factory():
    return (lambda v: v), None


cat = _step("cat", _cat_factory)
"""Emit every item of each (iterable) value."""


def take(n: int) -> Transducer:
    """The first n values, then the channel closes (the core's take)."""
    _count(n, "take", 1)  # the core's take: n == 0 is EINVAL
    return Transducer(lambda: _xchan._xf_take(n), f"take({n})")


def drop(n: int) -> Transducer:
    """Skip the first n values."""
    _count(n, "drop")

    def factory():
        left = [n]

        def step(v):
            if left[0] > 0:
                left[0] -= 1
                return None
            return (v,)
        return step, None
    return _step(f"drop({n})", factory)


def take_while(pred: Callable[[Any], Any]) -> Transducer:
    """Values while pred(v) is true; the first false one closes the channel."""
    _callable(pred, "take_while")
    return _step("take_while",
                 lambda: ((lambda v: (v,) if pred(v) else Reduced()), None))


def drop_while(pred: Callable[[Any], Any]) -> Transducer:
    """Skip values while pred(v) is true, then pass everything."""
    _callable(pred, "drop_while")

    def factory():
        dropping = [True]

        def step(v):
            if dropping[0] and pred(v):
                return None
            dropping[0] = False
            return (v,)
        return step, None
    return _step("drop_while", factory)


def take_nth(n: int) -> Transducer:
    """Every n-th value, starting with the first."""
    _count(n, "take_nth", 1)

    def factory():
        i = [-1]

        def step(v):
            i[0] += 1
            return (v,) if i[0] % n == 0 else None
        return step, None
    return _step(f"take_nth({n})", factory)


def partition_all(n: int) -> Transducer:
    """Lists of n values; the last, shorter one at close (the core's)."""
    _count(n, "partition_all", 1)
    return Transducer(lambda: _xchan._xf_partition_all(n), f"partition_all({n})")


def partition_by(f: Callable[[Any], Any]) -> Transducer:
    """Lists of consecutive values with the same f(v)."""
    _callable(f, "partition_by")
    none = object()

    def factory():
        state = {"key": none, "run": []}

        def step(v):
            k = f(v)
            if state["key"] is none or k == state["key"]:
                state["key"] = k
                state["run"].append(v)
                return None
            out, state["run"], state["key"] = state["run"], [v], k
            return (out,)

        def complete():
            out, state["run"] = state["run"], []
            return (out,) if out else None
        return step, complete
    return _step("partition_by", factory)


def distinct() -> Transducer:
    """Each value once (values must be hashable)."""
    def factory():
        seen = set()

        def step(v):
            if v in seen:
                return None
            seen.add(v)
            return (v,)
        return step, None
    return _step("distinct", factory)


def dedupe() -> Transducer:
    """Drop values equal to the one just before."""
    none = object()

    def factory():
        last = [none]

        def step(v):
            if last[0] is not none and last[0] == v:
                return None
            last[0] = v
            return (v,)
        return step, None
    return _step("dedupe", factory)


def interpose(sep: Any) -> Transducer:
    """sep between values."""
    if sep is None:
        raise TypeError("xf.interpose: None cannot be put on a channel")

    def factory():
        first = [True]

        def step(v):
            if first[0]:
                first[0] = False
                return (v,)
            return (sep, v)
        return step, None
    return _step("interpose", factory)


def map_indexed(f: Callable[[int, Any], Any]) -> Transducer:
    """Emit f(i, v), i counting from 0."""
    _callable(f, "map_indexed")

    def factory():
        i = [-1]

        def step(v):
            i[0] += 1
            return (f(i[0], v),)
        return step, None
    return _step("map_indexed", factory)


def keep_indexed(f: Callable[[int, Any], Any]) -> Transducer:
    """Emit f(i, v) when it is not None."""
    _callable(f, "keep_indexed")

    def factory():
        i = [-1]

        def step(v):
            i[0] += 1
            r = f(i[0], v)
            return None if r is None else (r,)
        return step, None
    return _step("keep_indexed", factory)


def replace(smap: dict) -> Transducer:
    """Replace values found as keys of smap by their value."""
    if not isinstance(smap, dict):
        raise TypeError("xf.replace needs a dict")
    return map(lambda v: smap.get(v, v) if _hashable(v) else v)


def halt_when(pred: Callable[[Any], Any]) -> Transducer:
    """Pass values until pred(v) is true; then close (v is not emitted)."""
    _callable(pred, "halt_when")
    return _step("halt_when",
                 lambda: ((lambda v: Reduced() if pred(v) else (v,)), None))


def _hashable(v):
    try:
        hash(v)
        return True
    except TypeError:
        return False
