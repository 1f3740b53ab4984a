"""Threads: the GIL is released while waiting; thread()/io_thread()."""
import threading
import time

import pytest

import xchan
from xchan import Chan


def test_blocked_take_does_not_stop_other_threads():
    ch = Chan()
    t = threading.Thread(target=ch.take, daemon=True)
    t.start()
    while ch.info()["pending_takes"] == 0:
        time.sleep(0.001)
    # This thread keeps running Python code while the other is blocked in
    # the core: it could not if the blocked take held the GIL.
    n = 0
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:
        n += 1
    assert n > 1000
    ch.put(1)
    t.join(10)
    assert not t.is_alive()


def test_blocked_put_with_timeout_releases_gil():
    ch = Chan()
    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1
    s = threading.Thread(target=spin)
    s.start()
    t0 = time.monotonic()
    with pytest.raises(xchan.ETIMEDOUT):
        ch.put(1, timeout=0.2)
    stop.set()
    s.join()
    assert time.monotonic() - t0 >= 0.19
    assert counter[0] > 1000


def test_many_threads_exchange_every_value_once():
    ch = Chan(16)
    n_prod, per = 4, 5000
    got = []
    lock = threading.Lock()

    def prod(k):
        for i in range(per):
            ch.put(k * per + i)

    def cons():
        local = []
        for v in ch:
            local.append(v)
        with lock:
            got.extend(local)
    ps = [threading.Thread(target=prod, args=(k,)) for k in range(n_prod)]
    cs = [threading.Thread(target=cons) for _ in range(3)]
    for t in ps + cs:
        t.start()
    for t in ps:
        t.join()
    ch.close()
    for t in cs:
        t.join()
    assert sorted(got) == list(range(n_prod * per))


def test_thread_returns_result_channel():
    ch = xchan.thread(lambda a, b=0: a + b, 40, b=2)
    assert ch.take() == 42
    assert ch.take() is None  # then closes


def test_thread_none_result_just_closes():
    assert xchan.thread(lambda: None).take() is None


def test_thread_failure_closes_and_reports_to_hook():
    class Boom(Exception):
        pass
    err = Boom("x")
    got = []

    def failing_body():
        raise err
    xchan.set_task_error_hook(lambda name, e: got.append((name, e)))
    try:
        # The hook runs before the result channel closes.
        assert xchan.io_thread(failing_body).take(5) is None
        assert xchan.thread(failing_body).take(5) is None
    finally:
        xchan.set_task_error_hook(None)
    name = failing_body.__qualname__
    assert got == [(name, err), (name, err)]
    assert got[0][1] is err  # the very exception object


def test_thread_failure_with_xchan_error_keeps_its_code():
    got = []
    xchan.set_task_error_hook(lambda name, e: got.append(e))
    try:
        def fails():
            raise xchan.ETIMEDOUT("late")
        assert xchan.thread(fails).take(5) is None
    finally:
        xchan.set_task_error_hook(None)
    assert isinstance(got[0], xchan.ETIMEDOUT)


def test_task_failure_default_hook_logs(caplog):
    def quietly_failing():
        raise KeyError("logged")
    with caplog.at_level("ERROR", logger="xchan"):
        assert xchan.thread(quietly_failing).take(5) is None
    assert any("quietly_failing" in r.getMessage() and r.exc_info
               for r in caplog.records)


def test_set_task_error_hook_rejects_non_callable():
    with pytest.raises(xchan.EINVAL) as ei:
        xchan.set_task_error_hook(5)
    assert isinstance(ei.value, TypeError)


def test_thread_runs_on_core_thread():
    names = xchan.thread(lambda: threading.current_thread().name).take()
    assert isinstance(names, str)
    assert xchan.thread(threading.get_ident).take() != threading.get_ident()


def test_thread_can_block_on_channels():
    ch = Chan()
    r = xchan.thread(lambda: ch.take() * 2)
    ch.put(21)
    assert r.take() == 42


def test_thread_bad_argument():
    with pytest.raises(TypeError):
        xchan.thread(42)
    with pytest.raises(TypeError):
        xchan.thread()


def test_core_threads_keep_one_python_thread_state():
    # The core's threads get a Python thread state for their whole life
    # (thread_start hook), so thread-local data survives between tasks
    # run on the same worker.
    local = threading.local()

    def task():
        seen = getattr(local, "mark", None)
        local.mark = threading.get_ident()
        return seen == threading.get_ident()
    results = [xchan.thread(task).take() for _ in range(50)]
    assert any(results)


def test_cancel_token_stops_a_blocked_take_and_later_calls():
    import xchan
    ch = xchan.Chan()
    tok = xchan.Cancel()
    assert not tok.fired
    got = []

    def waiter():
        try:
            ch.take(cancel=tok)
            got.append("took")
        except xchan.ECANCELED:
            got.append("canceled")
    t = threading.Thread(target=waiter)
    t.start()
    deadline = time.monotonic() + 10
    while ch.info()["pending_takes"] != 1:
        assert time.monotonic() < deadline, "the take never waited"
        time.sleep(0.001)
    tok.fire()
    t.join(10)
    assert got == ["canceled"] and tok.fired
    assert ch.info()["pending_takes"] == 0
    with pytest.raises(xchan.ECANCELED):  # a fired token: at once
        ch.put(1, cancel=tok)
    with pytest.raises(xchan.ECANCELED):
        xchan.alts([ch], cancel=tok)
    tok.reset()
    with pytest.raises(xchan.ETIMEDOUT):
        ch.put(1, 0.01, cancel=tok)
    with pytest.raises(xchan.ETYPE):
        ch.take(cancel="soon")
