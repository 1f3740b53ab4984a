"""Reference counts and memory over a million operations."""
import gc
import os
import resource
import sys
import tracemalloc
import warnings

import xchan
from xchan import Chan

N = 1_000_000
# Under ASan (the python-asan CI stage) the allocator's quarantine grows the
# RSS by design: the RSS bounds apply only to the normal build; reference
# counts and the Python heap are checked in both.
SANITIZED = bool(os.environ.get("XCHAN_PY_SANITIZED"))


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() // 1024


def test_million_ops_refcounts_and_memory():
    objs = [object() for _ in range(10)]
    s = "a string value"
    counts = [sys.getrefcount(o) for o in objs]
    s_count = sys.getrefcount(s)
    ch = Chan(64)
    # Warm up (allocator pools, caches), then measure.
    for i in range(10_000):
        ch.put(objs[i % 10])
        ch.take()
    gc.collect()
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    rss0 = rss_kib()
    for i in range(N // 4):
        o = objs[i % 10]
        ch.put(o)
        assert ch.take() is o
        ch.offer(s)
        ch.poll()
    del o
    gc.collect()
    snap1 = tracemalloc.take_snapshot()
    rss1 = rss_kib()
    tracemalloc.stop()
    assert [sys.getrefcount(o) for o in objs] == counts
    assert sys.getrefcount(s) == s_count
    grown = sum(d.size_diff for d in snap1.compare_to(snap0, "filename"))
    assert grown < 256 * 1024, f"Python heap grew by {grown} bytes"
    assert SANITIZED or rss1 - rss0 < 16 * 1024, f"RSS grew by {rss1 - rss0} KiB"


def test_channels_and_awaitables_freed():
    gc.collect()
    rss0 = rss_kib()
    o = object()
    c0 = sys.getrefcount(o)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(100_000):
            ch = Chan(2)
            ch.put(o)
            ch.put_async(o)  # never awaited: its value is released
            del ch
    gc.collect()
    assert sys.getrefcount(o) == c0
    assert SANITIZED or rss_kib() - rss0 < 16 * 1024


def test_thread_results_do_not_leak():
    o = object()
    c0 = sys.getrefcount(o)
    for _ in range(2000):
        assert xchan.thread(lambda: o).take() is o
    gc.collect()
    assert sys.getrefcount(o) == c0
