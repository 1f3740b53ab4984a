"""Channel semantics through the binding (core.async's rules)."""
import threading

import pytest

import xchan
from xchan import Chan


def test_fixed_buffer_put_take_order():
    ch = Chan(3)
    assert [ch.put(i) for i in range(3)] == [True, True, True]
    assert ch.offer(99) is False  # full
    assert [ch.take() for _ in range(3)] == [0, 1, 2]
    assert ch.poll() is None


def test_zero_means_unbuffered():
    ch = Chan(0)
    assert ch.info()["buffer"] == "unbuffered"
    assert ch.offer(1) is False  # no taker waiting


def test_unbuffered_rendezvous_between_threads():
    ch = Chan()
    got = []
    t = threading.Thread(target=lambda: got.append(ch.take()))
    t.start()
    assert ch.put("x", timeout=10) is True
    t.join(10)
    assert got == ["x"]


def test_dropping_keeps_oldest():
    ch = Chan(xchan.dropping(2))
    for i in range(5):
        assert ch.put(i) is True  # never waits
    assert [ch.poll(), ch.poll(), ch.poll()] == [0, 1, None]


def test_sliding_keeps_newest():
    ch = Chan(xchan.sliding(2))
    for i in range(5):
        assert ch.put(i) is True
    assert [ch.poll(), ch.poll(), ch.poll()] == [3, 4, None]


def test_promise_chan_gives_first_value_to_every_taker():
    p = xchan.promise_chan()
    assert p.put("first") is True
    assert p.put("second") is True  # accepted and dropped
    assert [p.take(), p.take(), p.poll()] == ["first"] * 3
    p.close()
    assert p.take() == "first"


def test_promise_chan_closed_empty_gives_none():
    p = xchan.promise_chan()
    p.close()
    assert p.take() is None


def test_close_keeps_buffered_values_then_none():
    ch = Chan(2)
    ch.put(1)
    ch.put(2)
    ch.close()
    assert ch.closed
    assert ch.put(3) is False  # put on closed: False (put! -> false)
    assert ch.offer(3) is False
    assert [ch.take(), ch.take(), ch.take(), ch.poll()] == [1, 2, None, None]


def test_close_wakes_blocked_taker_with_none():
    ch = Chan()
    got = []
    t = threading.Thread(target=lambda: got.append(ch.take()))
    t.start()
    while ch.info()["pending_takes"] == 0:
        pass
    ch.close()
    t.join(10)
    assert got == [None]


def test_close_is_idempotent():
    ch = Chan()
    ch.close()
    ch.close()
    assert ch.closed


def test_iteration_until_closed():
    ch = Chan(10)
    for i in range(5):
        ch.put(i)
    ch.close()
    assert list(ch) == [0, 1, 2, 3, 4]


def test_take_timeout_raises_timeouterror():
    ch = Chan()
    with pytest.raises(xchan.ETIMEDOUT) as ei:
        ch.take(timeout=0.01)
    assert isinstance(ei.value, TimeoutError)
    with pytest.raises(TimeoutError):
        ch.put(1, timeout=0)


def test_timeout_channel_closes():
    t = xchan.timeout(20)
    assert t.take() is None
    assert t.closed


def test_max_pending_limit():
    ch = Chan(max_pending=1)
    ready = threading.Event()
    th = threading.Thread(target=lambda: (ready.set(), ch.take()))
    th.start()
    while ch.info()["pending_takes"] == 0:
        pass
    with pytest.raises(xchan.ELIMIT):
        ch.take(timeout=1)
    ch.put(1)
    th.join(10)


def test_info_and_repr():
    ch = Chan(4)
    ch.put(1)
    info = ch.info()
    assert info["buffer"] == "fixed" and info["capacity"] == 4
    assert info["count"] == 1 and info["closed"] is False
    assert "fixed(4)" in repr(ch)


def test_equality_by_native_channel():
    ch = Chan(1)
    other = Chan.from_capsule(ch.capsule())
    assert other == ch and hash(other) == hash(ch) and other is not ch
    assert ch != Chan(1)
    assert {ch: 1}[other] == 1


def test_chan_is_generic_for_annotations():
    assert Chan[int] is not None


def test_alts_takes_whichever_is_ready():
    a, b = Chan(1), Chan(1)
    b.put("b")
    assert xchan.alts([a, b]) == ("b", b)


def test_alts_priority_takes_first_ready_in_order():
    a, b = Chan(1), Chan(1)
    a.put("a")
    b.put("b")
    for _ in range(20):
        v, ch = xchan.alts([a, b], priority=True)
        assert (v, ch) == ("a", a)
        a.put("a")


def test_alts_put_and_default():
    a = Chan(1)
    assert xchan.alts([(a, 1)]) == (True, a)
    assert xchan.alts([(a, 2)], default="none") == ("none", None)
    assert a.take() == 1


def test_alts_put_on_closed_is_ready_and_false():
    a = Chan()
    a.close()
    assert xchan.alts([(a, 1)]) == (False, a)


def test_alts_with_timeout_channel():
    t = xchan.timeout(10)
    v, ch = xchan.alts([Chan(), t])
    assert v is None and ch is t


def test_alts_timeout_argument():
    with pytest.raises(xchan.ETIMEDOUT):
        xchan.alts([Chan()], timeout=0.01)


def test_alts_random_order_is_fair():
    a, b = Chan(1), Chan(1)
    seen = {a: 0, b: 0}
    for _ in range(400):
        a.offer(1)
        b.offer(2)
        _, ch = xchan.alts([a, b])
        seen[ch] += 1
    assert seen[a] > 100 and seen[b] > 100


def test_offer_poll_never_wait():
    ch = Chan()
    assert ch.offer(1) is False
    assert ch.poll() is None
