"""xchan.AsyncOp: async put/take/alts in the core's callback mode and notify
mode, with the handle's state/collect/cancel/cancel_ex, and methods called
on None (the null channel/op) raising InvalidArgumentType."""
import threading

import pytest

import xchan
from xchan import Chan


class Got:
    """A callback that records (value, error, thread, in_go)."""

    def __init__(self):
        self.calls = []
        self.event = threading.Event()

    def __call__(self, value, error):
        self.calls.append((value, error, threading.get_ident(),
                           xchan.in_go()))
        self.event.set()

    def wait(self):
        assert self.event.wait(5), "the callback never ran"
        return self.calls


def test_take_callback_runs_on_the_completing_thread():
    c = Chan()
    got = Got()
    op = c.take_async(got)
    assert isinstance(op, xchan.AsyncOp) and op.state == "pending"
    xchan.thread(c.put, 7).take(5)
    (value, error, tid, in_go), = got.wait()
    assert (value, error, in_go) == (7, None, False)
    assert tid != threading.get_ident()  # the putter's thread ran it
    assert op.state == "delivered"
    with pytest.raises(xchan.EDONE):
        op.cancel_ex()
    with pytest.raises(xchan.EINVAL):  # not a notify-mode op
        op.collect()


def test_put_completing_at_once_runs_on_caller_and_has_no_handle():
    c = Chan(1)
    got = Got()
    assert c.put_async(1, got) is None  # completed during the call
    assert got.wait() == [(True, None, threading.get_ident(), False)]
    assert c.take(5) == 1


def test_dispatch_runs_the_callback_elsewhere():
    c = Chan(1)
    got = Got()
    assert c.put_async(1, got, dispatch=True) is None
    (value, error, tid, _), = got.wait()
    assert (value, error) == (True, None) and tid != threading.get_ident()


def test_without_handle_the_callback_still_gets_the_result():
    c = Chan()
    got = Got()
    assert c.take_async(got, handle=False) is None
    c.put(3, 5)
    assert got.wait()[0][:2] == (3, None)


def test_cancel_gives_ecanceled_to_the_callback_before_returning():
    c = Chan()
    got = Got()
    op = c.put_async("v", got)
    assert op.cancel() is True
    value, error, tid, _ = got.calls[0]  # already ran, on this thread
    assert value == "v" and isinstance(error, xchan.ECANCELED)
    assert tid == threading.get_ident()
    assert op.state == "canceled" and c.poll() is None
    assert op.cancel() is False  # EDONE: already delivered


def test_cancel_ex_hands_a_put_value_back_and_skips_the_callback():
    c = Chan()
    got = Got()
    v = object()
    op = c.put_async(v, got)
    canceled, back = op.cancel_ex()
    assert canceled is True and back is v
    assert got.calls == [] and op.state == "canceled"
    assert c.poll() is None


def test_notify_mode_collects_once():
    c = Chan()
    seen = []
    op = c.take_async(notify=lambda o: seen.append((o, o.state)))
    assert op.state == "pending"
    with pytest.raises(xchan.EAGAIN):
        op.collect()
    c.put(4, 5)
    assert seen == [(op, "completed")]
    assert op.state == "completed"
    assert op.collect() == 4
    assert op.state == "delivered"
    with pytest.raises(xchan.EDONE):
        op.collect()


def test_notify_cancel_ex_takes_a_completed_result():
    c = Chan()
    op = c.take_async(notify=lambda o: None)
    c.put(5, 5)
    assert op.cancel_ex() == (False, 5)
    with pytest.raises(xchan.EDONE):
        op.collect()


def test_notify_cancel_ex_wins_and_notify_stays_quiet():
    c = Chan()
    seen = []
    op = c.put_async("back", notify=seen.append)
    assert op.cancel_ex() == (True, "back")
    assert seen == [] and op.state == "canceled" and c.poll() is None


def test_notify_closed_take_and_alts():
    c = Chan()
    op = c.take_async(notify=lambda o: None)
    c.close()
    assert op.collect() is None  # closed
    a, b = Chan(), Chan()
    op = xchan.alts_async([a, b], notify=lambda o: None)
    b.put(6, 5)
    assert op.collect() == (6, b)
    assert a.info()["pending_takes"] == 0


def test_alts_callback_with_default_and_timeout():
    a = Chan()
    got = Got()
    assert xchan.alts_async([a], callback=got, default="d") is None
    assert got.wait()[0][:2] == (("d", None), None)
    got = Got()
    op = xchan.alts_async([(a, 1)], callback=got, timeout=0.02)
    value, error, _, _ = got.wait()[0]
    assert value is None and isinstance(error, xchan.ETIMEDOUT)
    assert op.state == "delivered" and a.info()["pending_puts"] == 0


def test_bad_arguments():
    c = Chan()
    with pytest.raises(xchan.InvalidArgumentType):
        c.take_async(5)  # not callable
    with pytest.raises(xchan.EINVAL):
        c.take_async(lambda v, e: None, notify=lambda o: None)  # both
    with pytest.raises(xchan.EINVAL):
        c.take_async(dispatch=True)  # no callback
    with pytest.raises(xchan.EINVAL):
        c.take_async(notify=lambda o: None, handle=False)  # the core's
    with pytest.raises(xchan.ENIL):
        c.put_async(None, lambda v, e: None)
    assert c.info()["pending_takes"] == 0 and c.info()["pending_puts"] == 0


def test_callback_exception_is_unraisable_and_nothing_is_lost():
    c = Chan()
    errors = []
    import sys
    old = sys.unraisablehook
    sys.unraisablehook = lambda u: errors.append(u.exc_value)
    try:
        c.take_async(lambda v, e: 1 / 0)
        c.put(1, 5)
    finally:
        sys.unraisablehook = old
    assert len(errors) == 1 and isinstance(errors[0], ZeroDivisionError)


@pytest.mark.parametrize("call", [
    lambda: Chan.put(None, 1), lambda: Chan.take(None),
    lambda: Chan.offer(None, 1), lambda: Chan.poll(None),
    lambda: Chan.close(None), lambda: Chan.info(None),
    lambda: Chan.take_async(None), lambda: Chan.put(5, 1),
    lambda: xchan.AsyncOp.cancel(None), lambda: xchan.AsyncOp.cancel_ex(None),
    lambda: xchan.AsyncOp.collect(None)])
def test_methods_on_none_are_invalid_argument_type(call):
    with pytest.raises(xchan.InvalidArgumentType) as ei:
        call()
    assert ei.value.name == "EINVAL" and isinstance(ei.value, TypeError)
    assert "got None" in str(ei.value) or "got int" in str(ei.value)


def test_guarded_methods_keep_their_docs_and_signature():
    import inspect
    assert "Take a value" in Chan.take.__doc__
    assert "timeout" in str(inspect.signature(Chan.take))
    c = Chan(1)
    assert c.put(1) is True and c.take() == 1  # bound calls as before


def test_cancel_storm_loses_no_value():
    """Take ops cancelled (cancel-or-collect) while a putter thread
    completes them: every value reaches exactly one place, the callback or
    cancel_ex's result."""
    import time
    c = Chan()
    taken = []
    lock = threading.Lock()

    def cb(v, e):
        if e is None:
            with lock:
                taken.append(v)
    n = 300
    t = threading.Thread(target=lambda: [c.put(i, 10) for i in range(n)])
    t.start()
    end = time.monotonic() + 20
    while t.is_alive() and time.monotonic() < end:
        op = c.take_async(cb)
        if op is None:
            continue
        try:
            canceled, v = op.cancel_ex()
        except xchan.EDONE:
            continue
        if not canceled:
            with lock:
                taken.append(v)
    t.join(5)
    assert not t.is_alive()
    assert sorted(taken) == list(range(n))
