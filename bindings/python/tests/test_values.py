"""The value mapping (identity for Python objects, natural values for C)."""
import gc
import sys

import pytest

import xchan
from xchan import Chan


def roundtrip(v):
    ch = Chan(1)
    assert ch.put(v) is True
    return ch.take()


@pytest.mark.parametrize("v", [0, 1, -5, 2**63 - 1, -(2**63), 3.25, True, False])
def test_scalars(v):
    r = roundtrip(v)
    assert r == v and type(r) is type(v)


def test_objects_come_back_identical():
    for v in [object(), [1, 2], {"a": 1}, (1, 2), Exception("e"), 2**64, -(2**100)]:
        assert roundtrip(v) is v


def test_str_and_bytes_identity():
    s = "héllo wörld" * 3
    b = b"\x00\x01bytes"
    assert roundtrip(s) is s
    assert roundtrip(b) is b


def test_str_and_bytes_values():
    assert roundtrip("héllo") == "héllo"
    assert roundtrip(b"\x00ab") == b"\x00ab"
    lone = "\ud800"  # not UTF-8: carried as the object itself
    assert roundtrip(lone) is lone


def test_subclasses_keep_their_type():
    class MyInt(int):
        pass

    class MyStr(str):
        pass
    i, s = MyInt(3), MyStr("x")
    assert roundtrip(i) is i
    assert roundtrip(s) is s


def test_chan_in_chan():
    inner = Chan(1)
    got = roundtrip(inner)
    assert got == inner
    got.put(7)
    assert inner.take() == 7


def test_none_cannot_be_put():
    ch = Chan(1)
    with pytest.raises(xchan.ENIL) as ei:
        ch.put(None)
    assert isinstance(ei.value, TypeError) and isinstance(ei.value, xchan.XchanError)
    with pytest.raises(xchan.ENIL):
        ch.offer(None)
    assert ch.info()["count"] == 0


def test_refcount_balanced_over_put_take():
    o = object()
    before = sys.getrefcount(o)
    ch = Chan(100)
    for _ in range(1000):
        ch.put(o)
        assert ch.take() is o
    assert sys.getrefcount(o) == before


def test_values_left_in_freed_channel_are_released():
    o = object()
    before = sys.getrefcount(o)
    ch = Chan(10)
    for _ in range(5):
        ch.put(o)
    assert sys.getrefcount(o) == before + 5
    del ch
    gc.collect()
    assert sys.getrefcount(o) == before


def test_dropped_values_are_released():
    o = object()
    before = sys.getrefcount(o)
    ch = Chan(xchan.dropping(1))
    for _ in range(10):
        ch.put(o)
    assert sys.getrefcount(o) == before + 1
    ch.poll()
    assert sys.getrefcount(o) == before


def test_partition_all_gives_lists():
    ch = Chan(10, xchan.xf.partition_all(2))
    for i in range(5):
        ch.put(i)
    ch.close()
    assert list(ch) == [[0, 1], [2, 3], [4]]
