"""Every combinator of the core, driven from Python."""
import threading

import pytest

import xchan
from xchan import Chan, xf


def drain(ch, timeout=10):
    out = []
    while True:
        v = ch.take(timeout=timeout)
        if v is None:
            return out
        out.append(v)


def test_pipe():
    a, b = Chan(10), Chan(10)
    assert xchan.pipe(a, b) is b
    for i in range(3):
        a.put(i)
    a.close()
    assert drain(b) == [0, 1, 2]


def test_pipe_without_close():
    a, b = Chan(10), Chan(10)
    xchan.pipe(a, b, close=False)
    a.put(1)
    a.close()
    assert b.take(timeout=10) == 1
    with pytest.raises(xchan.ETIMEDOUT):
        b.take(timeout=0.05)


@pytest.mark.parametrize("kind", ["pipeline", "pipeline_blocking"])
def test_pipeline_keeps_order(kind):
    src, dst = Chan(100), Chan(100)
    done = getattr(xchan, kind)(4, dst, xf.map(lambda x: x * x), src)
    xchan.onto_chan(src, list(range(50)))
    assert drain(dst) == [x * x for x in range(50)]
    assert done.take(timeout=10) is None


def test_pipeline_ex_handler():
    src, dst = Chan(10), Chan(10)
    xchan.pipeline(2, dst, xf.map(lambda x: 10 // x), src,
                   ex_handler=lambda e: "err")
    xchan.onto_chan(src, [1, 0, 5])
    assert drain(dst) == [10, "err", 2]


def test_pipeline_async():
    src, dst = Chan(10), Chan(10)

    def af(v, result):
        def work():
            result.put(v)
            result.put(-v)
            result.close()
        threading.Thread(target=work).start()
    xchan.pipeline_async(3, dst, af, src)
    xchan.onto_chan(src, [1, 2, 3])
    assert drain(dst) == [1, -1, 2, -2, 3, -3]


def test_mult_taps():
    src = Chan()
    m = xchan.mult(src)
    a, b = Chan(10), Chan(10)
    m.tap(a)
    m.tap(b)
    xchan.onto_chan(src, [1, 2, 3])
    assert drain(a) == [1, 2, 3] and drain(b) == [1, 2, 3]


def test_mult_untap():
    src = Chan()
    m = xchan.mult(src)
    a, b = Chan(10), Chan(10)
    m.tap(a)
    m.tap(b, close=False)
    m.untap(b)
    src.put(1)
    assert a.take(timeout=10) == 1
    m.untap_all()
    src.close()
    assert b.poll() is None


def test_pub_sub():
    src = Chan()
    p = xchan.pub(src, lambda v: v["topic"], lambda topic: 10)
    news, sport = Chan(10), Chan(10)
    p.sub("news", news)
    p.sub("sport", sport)
    msgs = [{"topic": t, "n": i} for i, t in enumerate(["news", "sport", "news", "other"])]
    xchan.onto_chan(src, msgs)
    assert [m["n"] for m in drain(news)] == [0, 2]
    assert [m["n"] for m in drain(sport)] == [1]


def test_mix_mute_and_solo():
    out = Chan(10)
    mx = xchan.mix(out)
    a, b = Chan(10), Chan(10)
    mx.admix(a)
    mx.admix(b)
    mx.toggle({b: {"mute": True}})
    assert mx.state(b) == {"mute": True, "pause": False, "solo": False}
    a.put("a")
    b.put("b")
    assert out.take(timeout=10) == "a"
    with pytest.raises(xchan.ETIMEDOUT):
        out.take(timeout=0.1)
    mx.unmix_all()


def test_merge():
    a, b = Chan(5), Chan(5)
    m = xchan.merge([a, b], 10)
    a.put(1)
    b.put(2)
    a.close()
    b.close()
    assert sorted(drain(m)) == [1, 2]


def test_split():
    src = Chan(10)
    evens, odds = xchan.split(lambda x: x % 2 == 0, src, 10, 10)
    xchan.onto_chan(src, list(range(6)))
    assert drain(evens) == [0, 2, 4] and drain(odds) == [1, 3, 5]


def test_map():
    a, b = Chan(5), Chan(5)
    out = xchan.map(lambda x, y: x + y, [a, b])
    xchan.onto_chan(a, [1, 2, 3])
    xchan.onto_chan(b, [10, 20])
    assert drain(out) == [11, 22]


def test_take_n():
    src = Chan(10)
    out = xchan.take(2, src)
    xchan.onto_chan(src, [1, 2, 3])
    assert drain(out) == [1, 2]


def test_reduce_and_reduced():
    src = xchan.to_chan(range(10))
    assert xchan.reduce(lambda acc, v: acc + v, 0, src).take(timeout=10) == 45
    src = xchan.to_chan(range(10))
    early = xchan.reduce(lambda acc, v: xf.reduced(acc) if v == 3 else acc + v, 0, src)
    assert early.take(timeout=10) == 3


def test_transduce():
    src = xchan.to_chan(range(10))
    r = xchan.transduce(xf.filter(lambda x: x % 2), lambda a, v: a + [v], [], src)
    assert r.take(timeout=10) == [1, 3, 5, 7, 9]


def test_into():
    src = xchan.to_chan([3, 4])
    assert xchan.into([1, 2], src).take(timeout=10) == [1, 2, 3, 4]


def test_onto_chan_and_to_chan():
    ch = Chan(10)
    done = xchan.onto_chan(ch, ["a", "b"], close=True)
    assert done.take(timeout=10) is None
    assert drain(ch) == ["a", "b"]
    assert drain(xchan.to_chan(range(150))) == list(range(150))


def test_mult_pub_mix_done_channels_close_when_their_process_ends():
    src = xchan.Chan(4)
    m = xchan.mult(src)
    tap = m.tap(xchan.Chan(4))
    src2 = xchan.Chan(4)
    p = xchan.pub(src2, lambda v: v % 2)
    odd = p.sub(1, xchan.Chan(4))
    out = xchan.Chan(4)
    mx = xchan.mix(out)
    for d in (m.done, p.done, mx.done):
        assert isinstance(d, xchan.Chan)
        assert d.poll() is None and not d.closed
    src.put(1)
    src.close()
    assert tap.take(timeout=5) == 1
    assert m.done.take(timeout=5) is None and m.done.closed
    src2.put(3)
    src2.close()
    assert odd.take(timeout=5) == 3
    assert p.done.take(timeout=5) is None and p.done.closed
    a = xchan.Chan()
    mx.admix(a)
    out.close()  # a mix ends when a put to its out fails
    a.put(1, timeout=5)
    assert mx.done.take(timeout=5) is None and mx.done.closed


def test_done_channels_on_request():
    a, b = Chan(5), Chan(5)
    to, done = xchan.pipe(a, b, done=True)
    assert to is b
    a.put(1)
    a.close()
    assert done.take(5) is None  # closes once the copying has ended
    assert drain(b) == [1]

    c1, c2 = Chan(2), Chan(2)
    out, done = xchan.merge([c1, c2], done=True)
    c1.put(1), c2.put(2), c1.close(), c2.close()
    assert sorted(drain(out)) == [1, 2]
    assert done.take(5) is None

    src = Chan(4)
    (evens, odds), done = xchan.split(lambda v: v % 2 == 0, src, done=True)
    evens.close()  # a failed put ends the split: both outputs close
    src.put(2)
    assert done.take(5) is None
    assert odds.take(5) is None

    s = Chan(3)
    out, done = xchan.take(1, s, done=True)
    s.put(7)
    assert out.take(5) == 7 and done.take(5) is None

    x, y = Chan(1), Chan(1)
    out, done = xchan.map(lambda p, q: p + q, [x, y], done=True)
    x.put(1), y.put(2)
    assert out.take(5) == 3
    x.close()
    assert done.take(5) is None
