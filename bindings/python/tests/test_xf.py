"""Transducers from Python callables, run as core transforms."""
import sys
import threading


import xchan
from xchan import Chan, xf


def run(t, values, n=64):
    ch = Chan(n, t)
    for v in values:
        if not ch.put(v):
            break
    ch.close()
    return list(ch)


def test_map_filter_comp():
    t = xf.comp(xf.map(lambda x: x * 10), xf.filter(lambda x: x % 20 == 0))
    assert run(t, range(6)) == [0, 20, 40]


def test_builtin_transducers():
    assert run(xf.remove(lambda x: x % 2), range(6)) == [0, 2, 4]
    assert run(xf.keep(lambda x: x * 2 if x > 2 else None), range(5)) == [6, 8]
    assert run(xf.mapcat(lambda x: [x] * x), range(4)) == [1, 2, 2, 3, 3, 3]
    assert run(xf.cat, [[1, 2], [], [3]]) == [1, 2, 3]
    assert run(xf.drop(2), range(5)) == [2, 3, 4]
    assert run(xf.drop_while(lambda x: x < 3), [1, 2, 3, 1]) == [3, 1]
    assert run(xf.take_nth(2), range(6)) == [0, 2, 4]
    assert run(xf.partition_by(lambda x: x > 2), [1, 2, 3, 4, 1]) == [[1, 2], [3, 4], [1]]
    assert run(xf.distinct(), [1, 2, 1, 3, 2]) == [1, 2, 3]
    assert run(xf.dedupe(), [1, 1, 2, 2, 1]) == [1, 2, 1]
    assert run(xf.interpose(0), [1, 2, 3]) == [1, 0, 2, 0, 3]
    assert run(xf.map_indexed(lambda i, v: (i, v)), "ab") == [(0, "a"), (1, "b")]
    assert run(xf.keep_indexed(lambda i, v: v if i % 2 else None), "abcd") == ["b", "d"]
    assert run(xf.replace({1: "one"}), [1, 2]) == ["one", 2]


def test_take_closes_channel_and_puts_return_false():
    ch = Chan(10, xf.take(2))
    assert ch.put(1) and ch.put(2)
    assert ch.closed
    assert ch.put(3) is False
    assert list(ch) == [1, 2]


def test_take_while_and_halt_when_stop():
    assert run(xf.take_while(lambda x: x < 3), range(10)) == [0, 1, 2]
    assert run(xf.halt_when(lambda x: x == 2), range(10)) == [0, 1]


def test_each_channel_gets_fresh_state():
    t = xf.drop(1)
    assert run(t, [1, 2]) == [2]
    assert run(t, [1, 2]) == [2]


def test_exception_goes_to_ex_handler():
    seen = []

    def handler(e):
        seen.append(e)
        return "replaced"
    ch = Chan(5, xf.map(lambda x: 1 // x), handler)
    ch.put(0)
    ch.put(1)
    ch.close()
    assert list(ch) == ["replaced", 1]
    assert isinstance(seen[0], ZeroDivisionError)


def test_exception_without_handler_is_reported(capsys):
    hooked = []
    old = sys.unraisablehook
    sys.unraisablehook = lambda u: hooked.append(u.exc_value)
    try:
        ch = Chan(5, xf.map(lambda x: 1 // x))
        ch.put(0)
        ch.put(2)
        ch.close()
        assert list(ch) == [0]
    finally:
        sys.unraisablehook = old
    assert isinstance(hooked[0], ZeroDivisionError)


def test_map_to_none_fails_step():
    seen = []
    ch = Chan(5, xf.map(lambda x: None), lambda e: seen.append(e))
    ch.put(1)
    ch.close()
    assert list(ch) == []
    assert isinstance(seen[0], xchan.ENIL)


def test_steps_from_many_threads():
    ch = Chan(8, xf.map(lambda x: x + 1))
    got = []

    def prod(k):
        for i in range(500):
            ch.put(k * 1000 + i)
    ps = [threading.Thread(target=prod, args=(k,)) for k in range(4)]
    c = threading.Thread(target=lambda: got.extend(ch))
    c.start()
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    ch.close()
    c.join()
    assert sorted(got) == sorted(k * 1000 + i + 1 for k in range(4) for i in range(500))


def test_xform_state_released_with_channel():
    f = lambda x: x  # noqa: E731
    before = sys.getrefcount(f)
    ch = Chan(1, xf.map(f))
    assert sys.getrefcount(f) > before
    del ch
    assert sys.getrefcount(f) == before
