"""Exceptions: one base class, a subclass per core error name."""
import pytest

import xchan
from xchan import Chan


def test_hierarchy_from_core_names():
    names = ["EINVAL", "ENOMEM", "ECLOSED", "ETIMEDOUT", "EAGAIN", "ECANCELED",
             "ELIMIT", "ENIL", "ERUNTIME", "EDONE", "ESTATE", "EVERSION",
             "ELOAD", "EXFORM", "ETYPE", "ESHUTDOWN", "ETASK", "EINTERNAL",
             "EINTR", "EFORK"]
    for code, name in enumerate(names, start=1):
        cls = getattr(xchan, name)
        assert issubclass(cls, xchan.XchanError)
        assert cls.code == code and cls.name == name
        assert xchan._xchan._strerror(code)[0] == name
    assert issubclass(xchan.ETIMEDOUT, TimeoutError)
    assert issubclass(xchan.EINVAL, ValueError)
    assert issubclass(xchan.ENIL, TypeError)


def test_bad_buffers():
    with pytest.raises(ValueError):
        Chan(-1)
    with pytest.raises(TypeError):
        Chan("ten")
    with pytest.raises(TypeError):
        Chan(1.5)
    with pytest.raises(ValueError):
        xchan.dropping(0)
    with pytest.raises(ValueError):
        xchan.sliding(-3)


def test_xform_needs_buffer_and_transducer():
    with pytest.raises(ValueError, match="needs a buffer"):
        Chan(None, xchan.xf.map(str))
    with pytest.raises(TypeError, match="transducer"):
        Chan(1, lambda x: x)
    with pytest.raises(ValueError, match="needs an xform"):
        Chan(1, None, lambda e: None)
    with pytest.raises(TypeError):
        xchan.xf.map(3)


def test_bad_timeouts():
    ch = Chan()
    with pytest.raises(ValueError):
        ch.take(timeout=-1)
    with pytest.raises(TypeError):
        ch.take(timeout="soon")

def test_timeout_at_or_below_zero_closes_at_once():
    # As the core: ms <= 0 closes on the timer's next pass.
    for ms in (0, -5):
        assert xchan.timeout(ms).take(timeout=5) is None


def test_size_errors_are_typed_and_builtin():
    # EINVAL is a ValueError and ETYPE a TypeError: both excepts work.
    for make in (lambda: Chan(-1), lambda: xchan.buffer(0),
                 lambda: xchan.dropping(0), lambda: xchan.sliding(-3),
                 lambda: xchan.xf.take(0), lambda: xchan.xf.partition_all(0),
                 lambda: xchan.xf.take_nth(0), lambda: xchan.alts([]),
                 lambda: Chan(None, xchan.xf.map(str)),
                 lambda: xchan.mix(Chan()).solo_mode("loud")):
        with pytest.raises(xchan.EINVAL):
            make()
        with pytest.raises(ValueError):
            make()
    with pytest.raises(xchan.ETYPE):
        xchan.buffer(1.5)
    with pytest.raises(xchan.ETYPE):
        xchan.xf.take("2")
    assert issubclass(xchan.ETYPE, TypeError)


def test_list_holding_none_is_einval():
    ch = Chan(1)
    with pytest.raises(xchan.EINVAL):
        ch.put([1, None])
    assert ch.offer([1, 2]) is True
    assert ch.take() == [1, 2]


def test_into_start():
    src = Chan(3)
    src.put(1)
    src.put(2)
    src.close()
    assert xchan.into(None, src).take(timeout=5) == [1, 2]
    with pytest.raises(xchan.ETYPE):
        xchan.into(5, Chan())
    with pytest.raises(TypeError):
        xchan.into("ab", Chan())


def test_bad_alts():
    with pytest.raises(ValueError):
        xchan.alts([])
    with pytest.raises(TypeError):
        xchan.alts([1, 2])
    with pytest.raises(TypeError):
        xchan.alts([(Chan(), 1, 2)])
    with pytest.raises(xchan.ENIL):
        xchan.alts([(Chan(), None)])


def test_bad_capsule():
    with pytest.raises(TypeError):
        Chan.from_capsule(object())


def test_combinator_type_errors():
    with pytest.raises(TypeError):
        xchan.pipe(Chan(), "x")
    with pytest.raises(TypeError):
        xchan.merge([Chan(), 3])
    with pytest.raises(TypeError):
        xchan.split(None, Chan())
    with pytest.raises(ValueError):
        xchan.mix(Chan()).solo_mode("loud")


def test_buffer_by_kind_name():
    for kind, n in [("unbuffered", 0), ("fixed", 2), ("dropping", 1),
                    ("sliding", 3), ("promise", 0)]:
        b = xchan.Buffer(kind, n)
        assert b.kind == kind and b.n == n
        assert Chan(b).info()["buffer"] == kind
        assert Chan(b).info()["capacity"] == n
    assert xchan.Buffer("unbuffered").n == 0
    # As the core: an unknown kind, a capacity on unbuffered or promise, no
    # capacity on the others: EINVAL (a ValueError).
    for kind, n in [("bottomless", 1), ("unbuffered", 3), ("promise", 1),
                    ("fixed", 0), ("sliding", -1), (3, 1)]:
        with pytest.raises(xchan.EINVAL) as ei:
            xchan.Buffer(kind, n)
        assert isinstance(ei.value, ValueError)
        assert str(kind) in str(ei.value) or str(n) in str(ei.value)
    with pytest.raises(xchan.ETYPE):
        xchan.Buffer("fixed", 1.5)


def test_a_channel_argument_that_is_not_a_chan_is_einval_and_typeerror():
    a = Chan()
    calls = [lambda: xchan.pipe(None, a), lambda: xchan.pipe(a, None),
             lambda: xchan.mult(None), lambda: xchan.take(1, None),
             lambda: xchan.reduce(lambda acc, v: acc, 0, None),
             lambda: xchan.merge([a, None]), lambda: xchan.merge(None),
             lambda: xchan.alts([None]), lambda: xchan.alts([(None, 1)]),
             lambda: xchan.alts([{"peek": a}]),
             lambda: xchan.mix(a).toggle({None: {"mute": True}}),
             lambda: xchan.onto_chan(None, [1])]
    for call in calls:
        with pytest.raises(xchan.InvalidArgumentType) as ei:
            call()
        e = ei.value
        assert isinstance(e, xchan.EINVAL) and isinstance(e, TypeError)
        assert e.code == xchan.EINVAL.code and e.name == "EINVAL"
        assert "None" in str(e) or "dict" in str(e), str(e)
