"""Sharing channels with a C extension (tests/cross/python/xchan_cross.c)
that reaches the core only through the function table xchan._C_API: its
pthreads produce into and consume from channels Python made, while Python
reads and writes them from threads and from asyncio."""
import asyncio
import importlib.util
import os
import shutil
import subprocess
import sysconfig
import threading

import pytest

import xchan
from xchan import Chan

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "cross",
                   "python", "xchan_cross.c")


@pytest.fixture(scope="module")
def cross(tmp_path_factory):
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("no C compiler to build the cross extension")
    out = tmp_path_factory.mktemp("cross") / ("xchan_cross" + sysconfig.get_config_var("EXT_SUFFIX"))
    cmd = [cc, "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-std=c11",
           "-I", xchan.get_include(), "-I", sysconfig.get_paths()["include"],
           os.path.abspath(SRC), "-o", str(out), "-lpthread"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    spec = importlib.util.spec_from_file_location("xchan_cross", out)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_capsules():
    import ctypes
    cap = xchan._C_API
    assert type(cap).__name__ == "PyCapsule"
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    assert get_name(cap) == b"xchan._C_API"
    assert get_name(Chan().capsule()) == b"xchan.chan"
    assert os.path.isfile(os.path.join(xchan.get_include(), "xchan", "xchan_ext.h"))


def test_c_threads_produce_python_threads_consume(cross):
    ch = Chan(64)
    n, threads = 20_000, 4
    h = cross.start_producers(ch.capsule(), n, threads)
    got = []

    def consume():
        local = []
        for v in ch:
            local.append(v)
        got.append(local)
    ts = [threading.Thread(target=consume) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    cross.join(h)
    values = sorted(v for part in got for v in part)
    assert values == list(range(n * threads))


def test_python_threads_produce_c_threads_consume(cross):
    ch = Chan(16)
    h = cross.start_consumers(ch.capsule(), 3)
    big = 2**80
    words = ["héllo", "wörld"]

    def produce(k):
        for i in range(1000):
            ch.put(k * 1000 + i)
        for w in words:
            ch.put(w)
        ch.put(big)         # a host object: C reading it as int gets ETYPE
        ch.put(object())
    ts = [threading.Thread(target=produce, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    ch.close()
    ints, int_sum, strings, string_bytes, others = cross.join(h)
    assert ints == 4000 and int_sum == sum(range(4000))
    assert strings == 8 and string_bytes == 4 * sum(len(w.encode()) for w in words)
    assert others == 8


def test_c_threads_into_asyncio_and_back(cross):
    async def main():
        src, back = Chan(32), Chan(32)
        n = 5000
        hp = cross.start_producers(src.capsule(), n, 2)
        hc = cross.start_consumers(back.capsule(), 2)
        total = 0
        async for v in src:
            total += v
            await back.put(v)
        back.close()
        return total, hp, hc
    total, hp, hc = asyncio.run(main())
    assert total == sum(range(10_000))
    cross.join(hp)
    ints, int_sum, *_ = cross.join(hc)
    assert (ints, int_sum) == (10_000, sum(range(10_000)))


def test_values_made_in_c_arrive_natural(cross):
    ch = Chan(10)
    cross.put_samples(ch.capsule())
    assert ch.take() == -7
    assert ch.take() == 2.5
    assert ch.take() is True
    assert ch.take() == "héllo"
    assert ch.take() == b"\x00b"
    assert ch.take() == [1, "two"]
    assert ch.take() == ch


def test_channel_outlives_python_wrapper(cross):
    ch = Chan(8)
    h = cross.start_producers(ch.capsule(), 100, 1)
    got = []
    for v in ch:
        got.append(v)
    cap = ch.capsule()
    del ch  # the capsule and the C job still hold the channel
    cross.join(h)
    again = Chan.from_capsule(cap)
    assert got == list(range(100)) and again.closed


def test_box_made_in_c_round_trips_and_is_freed_once(cross):
    ch = Chan(2)
    freed = cross.boxes_freed()
    cross.put_box(ch.capsule(), "native thing")
    box = ch.take(5)
    assert isinstance(box, xchan.Box)
    assert cross.box_tag(box.address) == "native thing"
    # Put back and taken again: a new Box object, the same native pointer.
    assert ch.put(box, 5)
    again = ch.take(5)
    assert again == box and hash(again) == hash(box)
    assert again.address == box.address
    assert cross.box_tag(again.address) == "native thing"
    assert cross.boxes_freed() == freed
    del box
    assert cross.boxes_freed() == freed  # `again` still holds it
    del again
    assert cross.boxes_freed() == freed + 1  # the destructor ran once
    # Dropped by a sliding buffer: released there, once.
    s = Chan(xchan.sliding(1))
    cross.put_box(s.capsule(), "old")
    cross.put_box(s.capsule(), "new")
    assert cross.boxes_freed() == freed + 2
    assert cross.box_tag(s.take(5).address) == "new"
    assert cross.boxes_freed() == freed + 3


def test_value_of_another_runtime_is_eruntime_and_released(cross):
    ch = Chan(2)
    released = cross.foreign_released()
    cross.put_foreign(ch.capsule(), "theirs")
    with pytest.raises(xchan.ERUNTIME):
        ch.take(5)
    assert ch.put(1, 5) and ch.take(5) == 1
    assert cross.foreign_released() == released + 1  # not lost, not leaked

    async def main():
        cross.put_foreign(ch.capsule(), "theirs too")
        with pytest.raises(xchan.ERUNTIME):
            await ch.take()
    asyncio.run(main())
    assert cross.foreign_released() == released + 2
