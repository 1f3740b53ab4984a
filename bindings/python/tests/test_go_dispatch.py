"""xchan.go where no asyncio loop runs: the coroutine is a go task on the
core's DISPATCH executor (one step per dispatch job, parked between
awaits of xchan operations)."""
import asyncio
import threading

import pytest

import xchan
from xchan import Chan

from conftest import run_python, wait_until


def test_go_without_a_loop_runs_and_returns_its_result():
    async def body(x):
        return x * 2
    assert xchan.go(body(21)).take(timeout=5) == 42


def test_go_without_a_loop_is_in_go_and_not_on_the_caller():
    seen = []

    async def body():
        seen.append((xchan.in_go(), threading.get_ident()))
        await xchan.timeout(5).take()  # parks; the next step too
        seen.append((xchan.in_go(), threading.get_ident()))
        return "ok"
    assert xchan.in_go() is False
    assert xchan.go(body()).take(timeout=5) == "ok"
    assert [g for g, _ in seen] == [True, True]
    assert all(t != threading.get_ident() for _, t in seen)


def test_go_on_a_counting_dispatch_executor_one_job_per_step():
    r = run_python("""
import threading, concurrent.futures as cf, xchan
class Counting(cf.ThreadPoolExecutor):
    def __init__(self):
        super().__init__(2, thread_name_prefix="mydispatch")
        self.count = 0
    def submit(self, fn, *a, **kw):
        self.count += 1
        return super().submit(fn, *a, **kw)
ex = Counting()
xchan.set_executor_factory(lambda w: ex if w == "dispatch" else None)
c = xchan.Chan()
async def body():
    names = [threading.current_thread().name]
    for _ in range(3):
        await c.take()          # nobody put yet: it parks
        names.append(threading.current_thread().name)
    return names
g = xchan.go(body())
for i in range(3):
    while c.info()["pending_takes"] == 0:   # parked: it waits for us
        xchan.timeout(1).take()
    c.put(i)
names = g.take(timeout=5)
print(all(n.startswith("mydispatch") for n in names), len(names), ex.count)
""")
    assert r.returncode == 0, r.stderr
    # The first step and one resumption per park, each a dispatch job.
    assert r.stdout.split() == ["True", "4", "4"]


def test_go_falls_back_to_mixed_when_the_factory_has_no_dispatch():
    r = run_python("""
import concurrent.futures as cf, xchan
class Counting(cf.ThreadPoolExecutor):
    count = 0
    def submit(self, fn, *a, **kw):
        self.count += 1
        return super().submit(fn, *a, **kw)
mixed = Counting(2)
xchan.set_executor_factory(lambda w: mixed if w == "mixed" else None)
async def body():
    return 3
print(xchan.go(body()).take(timeout=5), mixed.count)
""")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["3", "1"]


def test_parked_gos_hold_no_dispatch_thread():
    r = run_python("""
import concurrent.futures as cf, xchan
one = cf.ThreadPoolExecutor(1)
xchan.set_executor_factory(lambda w: one if w == "dispatch" else None)
c, out = xchan.Chan(), xchan.Chan(100)
async def body(i):
    v = await c.take()
    await out.put((i, v))
gs = [xchan.go(body(i)) for i in range(50)]
# One dispatch thread, 50 gos waiting at once: none holds the thread.
end = xchan.timeout(10000)
while c.info()["pending_takes"] < 50 and not end.closed:
    xchan.timeout(1).take()
print(c.info()["pending_takes"])
for v in range(50):
    c.put(v)
for g in gs:
    g.take(timeout=5)
print(len({out.take(timeout=5) for _ in range(50)}))
""")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["50", "50"]


def test_ping_pong_between_two_gos_without_a_loop():
    ping, pong = Chan(), Chan()
    n = 2000

    async def pinger():
        for i in range(n):
            await ping.put(i)
            assert await pong.take() == i + 1
        return "pinger"

    async def ponger():
        for _ in range(n):
            v = await ping.take()
            await pong.put(v + 1)
        return "ponger"
    a, b = xchan.go(pinger()), xchan.go(ponger())
    assert (a.take(timeout=20), b.take(timeout=20)) == ("pinger", "ponger")


def test_put_and_take_are_awaitables_inside_the_go():
    c = Chan()

    async def body():
        aw = c.put(1)          # would block a thread; here an awaitable
        kind = type(aw).__name__
        assert await aw is True
        return kind
    g = xchan.go(body())
    assert c.take(timeout=5) == 1
    assert g.take(timeout=5) == "_Await"


def test_alts_and_timeouts_inside_the_go():
    a, b = Chan(), Chan(1)

    async def body():
        t = xchan.timeout(20)
        v, ch = await xchan.alts_async([a, t])
        first = (v, ch == t)
        try:
            await xchan.alts_async([a], timeout=0.02)
            second = "no timeout"
        except xchan.ETIMEDOUT:
            second = "ETIMEDOUT"
        v, ch = await xchan.alts_async([a, (b, "x")], priority=True)
        return first, second, v, ch == b
    assert xchan.go(body()).take(timeout=5) == ((None, True), "ETIMEDOUT",
                                                True, True)
    assert b.poll() == "x"


def test_async_for_inside_the_go():
    c = Chan(10)

    async def body():
        return [v async for v in c]
    g = xchan.go(body())
    for i in range(3):
        c.put(i)
    c.close()
    assert g.take(timeout=5) == [0, 1, 2]


def test_failure_goes_to_the_error_hook_and_closes_the_channel():
    got = []
    hook_ran = threading.Event()

    def hook(name, e):
        got.append((name, type(e), xchan.in_go()))
        hook_ran.set()
    c = Chan(1)

    async def boom():
        await c.take()
        raise KeyError("k")
    xchan.set_task_error_hook(hook)
    try:
        g = xchan.go(boom(), name="boomer")
        c.put(1)
        assert g.take(timeout=5) is None
        assert hook_ran.wait(5)
    finally:
        xchan.set_task_error_hook(None)
    assert got == [("boomer", KeyError, False)]


def test_cancelled_error_just_closes_the_channel():
    got = []

    async def cancelled():
        raise asyncio.CancelledError()
    xchan.set_task_error_hook(lambda n, e: got.append(n))
    try:
        assert xchan.go(cancelled()).take(timeout=5) is None
        # A go reported after it: the hook order is the go order.
        async def fails():
            raise ValueError()
        assert xchan.go(fails(), name="after").take(timeout=5) is None
        wait_until(lambda: got, what="the hook")
    finally:
        xchan.set_task_error_hook(None)
    assert got == ["after"]


def test_awaiting_asyncio_objects_raises_type_error_in_the_body():
    other = asyncio.new_event_loop()
    fut = other.create_future()

    async def body():
        errors = []
        for aw in (asyncio.sleep(0), fut):
            try:
                await aw
            except TypeError as e:
                errors.append(str(e))
        # The go goes on: xchan operations still work.
        await xchan.timeout(1).take()
        return errors
    try:
        errors = xchan.go(body()).take(timeout=5)
    finally:
        other.close()
    assert len(errors) == 2
    for e in errors:
        assert "can await only xchan operations" in e
        assert "asyncio loop" in e
    assert "Future" in errors[1]


def test_an_unhandled_type_error_fails_the_go():
    got = []

    async def body():
        await asyncio.sleep(0)
    xchan.set_task_error_hook(lambda n, e: got.append((n, type(e))))
    try:
        assert xchan.go(body(), name="sleeper").take(timeout=5) is None
        wait_until(lambda: got, what="the hook")
    finally:
        xchan.set_task_error_hook(None)
    assert got == [("sleeper", TypeError)]


def test_callbacks_completed_by_a_go_step_are_not_in_go():
    c = Chan()
    seen = []
    done = threading.Event()

    def cb(v, e):
        seen.append((v, xchan.in_go()))
        done.set()
    c.take_async(cb)

    async def body():
        await c.put(8)        # completes the take at once, on this thread
        return xchan.in_go()
    assert xchan.go(body()).take(timeout=5) is True
    assert done.wait(5)
    assert seen == [(8, False)]


def test_nested_gos_and_blocking_work_on_a_thread():
    async def inner():
        return 5

    async def outer():
        v = await xchan.go(inner()).take()
        w = await xchan.thread(lambda: v + 1).take()
        return v, w
    assert xchan.go(outer()).take(timeout=5) == (5, 6)


def test_go_needs_a_coroutine():
    with pytest.raises(TypeError):
        xchan.go(lambda: None)


def test_go_inside_a_loop_stays_an_asyncio_task():
    async def body():
        return asyncio.current_task() is not None, xchan.in_go()

    async def main():
        return await xchan.go(body()).take()
    assert asyncio.run(main()) == (True, False)


def test_go_without_a_loop_after_shutdown_is_eshutdown():
    r = run_python("""
import xchan
xchan.shutdown()
async def body():
    return 1
c = body()
try:
    xchan.go(c)
except xchan.ESHUTDOWN:
    print("ESHUTDOWN", c.cr_frame is None)
""")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["ESHUTDOWN", "True"]
    assert "never awaited" not in r.stderr


def test_shutdown_inside_the_go_is_refused_and_a_parked_go_gets_eshutdown():
    r = run_python("""
import xchan
async def inside():
    try:
        xchan.shutdown()
    except xchan.ESTATE:
        return "ESTATE"
print(xchan.go(inside()).take(timeout=5))
c = xchan.Chan()
async def parked():
    try:
        await c.take()
    except xchan.ESHUTDOWN:
        return "ESHUTDOWN"
g = xchan.go(parked())
while c.info()["pending_takes"] == 0:
    xchan.timeout(1).take()
xchan.shutdown()
print(g.poll())
""")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["ESTATE", "ESHUTDOWN"]


def test_gos_leave_no_references_behind():
    """Values through parked and unparked awaits, results, failures and
    TypeErrors: every object the gos touched is released."""
    import gc
    import sys
    objs = [object() for _ in range(4)]
    counts = [sys.getrefcount(o) for o in objs]
    c = Chan()
    xchan.set_task_error_hook(lambda n, e: None)

    async def body(i):
        o = objs[i % 4]
        await c.put(o)                     # parks until the taker comes
        v, _ = await xchan.alts_async([c, xchan.timeout(1)])
        try:
            await asyncio.sleep(0)
        except TypeError:
            pass
        if i % 3 == 0:
            raise ValueError(o)
        return (o, v)
    try:
        for i in range(300):
            g = xchan.go(body(i))
            assert c.take(timeout=5) is objs[i % 4]
            r = g.take(timeout=5)
            assert r is None if i % 3 == 0 else r == (objs[i % 4], None)
        del r, g
    finally:
        xchan.set_task_error_hook(None)
    gc.collect()
    assert [sys.getrefcount(o) for o in objs] == counts


def test_go_at_interpreter_exit_raises_or_ends_instead_of_hanging():
    """After xchan's atexit hook (an atexit handler registered before
    importing xchan runs after it) no step can run: go() raises ESHUTDOWN,
    and a go parked before exit whose operation completes then ends (its
    channel closes) instead of leaving its waiter hanging."""
    r = run_python("""
import atexit
def late():
    async def body():
        return 7
    c = body()
    try:
        xchan.go(c)
        print("go: started")
    except xchan.ESHUTDOWN:
        print("go: ESHUTDOWN", c.cr_frame is None)
    parked_on.close()               # resumes the parked go: it cannot run now
    try:
        print("parked:", parked.take(timeout=5))
    except xchan.ETIMEDOUT:
        print("parked: hangs")
atexit.register(late)
import xchan
parked_on = xchan.Chan()
async def wait():
    await parked_on.take()
    return "ran"
parked = xchan.go(wait())
while parked_on.info()["pending_takes"] == 0:
    xchan.timeout(1).take()
""")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["go: ESHUTDOWN True", "parked: None"]
    assert "never awaited" not in r.stderr
    assert "ended unfinished: Python is exiting" in r.stderr
