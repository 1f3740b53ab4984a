#!/usr/bin/env python3
"""bench/python/bench.py — row 14 of bench/README.md (The rows): the Python binding against the
standard library's queues, one run, printed as a table.

    build-python/venv/bin/python bench/python/bench.py [--n 200000] [--repeats 3]

Run it with a Python where xchan is installed (pip install ./bindings/python;
janus too, if you want it as an extra peer).  Cases (ns per message, the best
of --repeats runs):
  (a) put+take on the same thread      xchan Chan(1024)  vs queue.SimpleQueue
  (b) thread -> thread stream          xchan Chan(1024)  vs queue.Queue(1024), SimpleQueue
  (c) ping-pong between two threads    xchan 2x Chan()   vs 2x queue.Queue
                                       (ns per round trip)
  (d) asyncio stream in one loop       xchan Chan(1024)  vs asyncio.Queue(1024)
  (e) C thread -> asyncio              xchan: a pthread of the C extension
                                       tests/cross/python (built here with cc,
                                       calling the core through xchan._C_API)
                                       puts ints into a Chan(1024) that an
                                       asyncio task drains; peer: a
                                       Python thread call_soon_threadsafe(
                                       Queue.put_nowait) into asyncio.Queue;
                                       janus.Queue as an extra peer
  (f) go ping-pong, no loop            two xchan.go coroutines started where
                                       no asyncio loop runs (go tasks on the
                                       core's DISPATCH executor), 2x Chan()
                                       vs the same two xchan.go coroutines as
                                       asyncio tasks on one loop (ns per
                                       round trip; no target, not in row 14)
One-thread cases ((a), (d)) are timed in the thread's CPU time
(time.thread_time_ns), so that other processes on a loaded machine do not
count; the others in wall time.
Targets (bench/README.md, "The rows"): (a) <= 1.5x SimpleQueue, (b),(c) <= 0.25x
queue.Queue, (d) <= 1.0x asyncio.Queue, (e) <= 0.2x call_soon_threadsafe.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import shutil
import subprocess
import sysconfig
import tempfile
import queue
import sys
import threading
import time

import xchan

try:
    import janus
except ImportError:  # optional peer
    janus = None


def timed(fn, n, clock=time.perf_counter_ns):
    t0 = clock()
    fn(n)
    return (clock() - t0) / n


# ---- (a) ---------------------------------------------------------------
def a_xchan(n):
    ch = xchan.Chan(1024)
    put, take = ch.put, ch.take
    for i in range(n):
        put(i)
        take()


def a_simplequeue(n):
    q = queue.SimpleQueue()
    put, get = q.put, q.get
    for i in range(n):
        put(i)
        get()


# ---- (b) ---------------------------------------------------------------
def b_xchan(n):
    ch = xchan.Chan(1024)

    def prod():
        put = ch.put
        for i in range(n):
            put(i)
        ch.close()
    t = threading.Thread(target=prod)
    t.start()
    c = 0
    for _ in ch:
        c += 1
    t.join()
    assert c == n


def b_queue(n, q=None):
    q = q if q is not None else queue.Queue(1024)
    stop = object()

    def prod():
        put = q.put
        for i in range(n):
            put(i)
        put(stop)
    t = threading.Thread(target=prod)
    t.start()
    get = q.get
    c = 0
    while get() is not stop:
        c += 1
    t.join()
    assert c == n


def b_simplequeue(n):
    b_queue(n, queue.SimpleQueue())


# ---- (c) ---------------------------------------------------------------
def c_xchan(n):
    ping, pong = xchan.Chan(), xchan.Chan()

    def echo():
        take, put = ping.take, pong.put
        for _ in range(n):
            put(take())
    t = threading.Thread(target=echo)
    t.start()
    put, take = ping.put, pong.take
    for i in range(n):
        put(i)
        take()
    t.join()


def c_queue(n):
    ping, pong = queue.Queue(), queue.Queue()

    def echo():
        get, put = ping.get, pong.put
        for _ in range(n):
            put(get())
    t = threading.Thread(target=echo)
    t.start()
    put, get = ping.put, pong.get
    for i in range(n):
        put(i)
        get()
    t.join()


# ---- (d) ---------------------------------------------------------------
def d_xchan(n):
    async def main():
        ch = xchan.Chan(1024)

        async def prod():
            for i in range(n):
                await ch.put(i)
            ch.close()
        asyncio.get_running_loop().create_task(prod())
        c = 0
        async for _ in ch:
            c += 1
        assert c == n
    asyncio.run(main())


def d_asyncio(n):
    async def main():
        q = asyncio.Queue(1024)
        stop = object()

        async def prod():
            for i in range(n):
                await q.put(i)
            await q.put(stop)
        asyncio.get_running_loop().create_task(prod())
        c = 0
        while (await q.get()) is not stop:
            c += 1
        assert c == n
    asyncio.run(main())


# ---- (e) ---------------------------------------------------------------
_cross = None


def cross_ext():
    """tests/cross/python/xchan_cross.c, compiled against xchan's headers."""
    global _cross
    if _cross is None:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        src = os.path.join(root, "tests", "cross", "python", "xchan_cross.c")
        out = os.path.join(tempfile.mkdtemp(), "xchan_cross" + sysconfig.get_config_var("EXT_SUFFIX"))
        cc = os.environ.get("CC") or shutil.which("cc") or "gcc"
        subprocess.run([cc, "-shared", "-fPIC", "-O2", "-std=c11", "-I", xchan.get_include(),
                        "-I", sysconfig.get_paths()["include"], src, "-o", out, "-lpthread"],
                       check=True)
        spec = importlib.util.spec_from_file_location("xchan_cross", out)
        _cross = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_cross)
    return _cross


def e_xchan(n):
    cross = cross_ext()

    async def main():
        ch = xchan.Chan(1024)
        h = cross.start_producers(ch.capsule(), n, 1)  # a C pthread
        c = 0
        async for _ in ch:
            c += 1
        cross.join(h)
        assert c == n
    asyncio.run(main())


def e_call_soon_threadsafe(n):
    async def main():
        loop = asyncio.get_running_loop()
        q = asyncio.Queue()
        stop = object()

        def prod():
            cs, put = loop.call_soon_threadsafe, q.put_nowait
            for i in range(n):
                cs(put, i)
            cs(put, stop)
        t = threading.Thread(target=prod)
        t.start()
        c = 0
        while (await q.get()) is not stop:
            c += 1
        t.join()
        assert c == n
    asyncio.run(main())


def e_janus(n):
    async def main():
        q = janus.Queue(1024)
        stop = object()

        def prod():
            put = q.sync_q.put
            for i in range(n):
                put(i)
            put(stop)
        t = threading.Thread(target=prod)
        t.start()
        get = q.async_q.get
        c = 0
        while (await get()) is not stop:
            c += 1
        t.join()
        q.close()
        await q.wait_closed()
        assert c == n
    asyncio.run(main())


# ---- (f) ---------------------------------------------------------------
async def _pinger(n, ping, pong):
    for i in range(n):
        await ping.put(i)
        await pong.take()


async def _ponger(n, ping, pong):
    for _ in range(n):
        await pong.put(await ping.take())


def f_dispatch_go(n):
    ping, pong = xchan.Chan(), xchan.Chan()
    a, b = xchan.go(_pinger(n, ping, pong)), xchan.go(_ponger(n, ping, pong))
    a.take()
    b.take()


def f_asyncio_go(n):
    async def main():
        ping, pong = xchan.Chan(), xchan.Chan()
        a = xchan.go(_pinger(n, ping, pong))
        b = xchan.go(_ponger(n, ping, pong))
        await a.take()
        await b.take()
    asyncio.run(main())


CASES = [
    ("(a) put+take, one thread", a_xchan, [("SimpleQueue", a_simplequeue)], 1.5),
    ("(b) thread -> thread", b_xchan, [("queue.Queue", b_queue), ("SimpleQueue", b_simplequeue)], 0.25),
    ("(c) ping-pong (round trip)", c_xchan, [("queue.Queue", c_queue)], 0.25),
    ("(d) asyncio stream, one loop", d_xchan, [("asyncio.Queue", d_asyncio)], 1.0),
    ("(e) C thread -> asyncio", e_xchan,
     [("call_soon_threadsafe", e_call_soon_threadsafe)] + ([("janus", e_janus)] if janus else []), 0.2),
    ("(f) go ping-pong, no loop", f_dispatch_go, [("asyncio go", f_asyncio_go)], None),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200_000, help="messages per run")
    ap.add_argument("--repeats", type=int, default=3, help="runs per case (best kept)")
    args = ap.parse_args()
    n = args.n
    print(f"xchan {xchan.__version__} (core {xchan.core_version}), Python "
          f"{sys.version.split()[0]}, n={n}, best of {args.repeats}; ns per message")
    print(f"{'case':32} {'xchan':>9}  {'peer':22} {'peer ns':>9} {'ratio':>7} {'target':>7}")
    for name, mine, peers, target in CASES:
        nn = n // 4 if name[:3] in ("(c)", "(f)") else n
        clock = time.thread_time_ns if name[:3] in ("(a)", "(d)") else time.perf_counter_ns
        x = min(timed(mine, nn, clock) for _ in range(args.repeats))
        for i, (pname, peer) in enumerate(peers):
            p = min(timed(peer, nn, clock) for _ in range(args.repeats))
            first = i == 0
            ratio = x / p
            mark = ("ok" if ratio <= target else "MISS") if target else ""
            goal = "<= %.2f %s" % (target, mark) if target else "(none)"
            print(f"{name if first else '':32} {x if first else '':>9.0f}  {pname:22} {p:9.0f} "
                  f"{ratio:7.2f} {goal:>7}"
                  if first else
                  f"{'':32} {'':>9}  {pname:22} {p:9.0f} {ratio:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
