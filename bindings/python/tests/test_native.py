"""Native workers (xchan.native): libsensor.so (tests/cross/native/sensor.c,
a plain C library that reaches the core through its xchan_native_onload
function table) runs on the core's go / thread / io_thread executors through
libffi, producing into and consuming from channels Python made."""
import asyncio
import os
import shutil
import subprocess

import pytest

import xchan
from xchan import Chan, native

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "cross",
                   "native", "sensor.c")
RUNNERS = [native.go, native.thread, native.io_thread]


@pytest.fixture(scope="module")
def sensor(tmp_path_factory):
    """libsensor.so built from the repository's source against the headers
    the package installed (XCHAN_SENSOR_LIB overrides)."""
    if os.environ.get("XCHAN_SENSOR_LIB"):
        return os.environ["XCHAN_SENSOR_LIB"]
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("no C compiler to build libsensor.so")
    out = tmp_path_factory.mktemp("native") / "libsensor.so"
    cmd = [cc, "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-std=c11",
           "-fvisibility=hidden", "-Wl,--no-undefined",
           "-I", xchan.get_include(), os.path.abspath(SRC), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(out)


@pytest.mark.parametrize("run", RUNNERS, ids=lambda f: f.__name__)
def test_stream_produces_into_a_python_channel(sensor, run):
    ch = Chan()
    done = run(sensor, "stream", "v(ci)", ch, 100)
    assert isinstance(done, Chan)
    assert list(ch) == list(range(1, 101))
    assert done.take(timeout=5) is None, "void: the result channel closes empty"


def test_python_produces_and_c_sums(sensor):
    ch = Chan(4)
    result = native.thread(sensor, "sum", "i(c)", ch)
    for i in range(1, 1001):
        ch.put(i)
    ch.close()
    assert result.take(timeout=10) == 500_500


def test_a_pipeline_of_c_and_python_under_asyncio(sensor):
    async def main():
        src, doubled = Chan(8), Chan()
        native.go(sensor, "stream", "v(ci)", src, 50)
        relay = native.io_thread(sensor, "relay_double", "i(cc)", src, doubled)
        got = [v async for v in doubled]
        return got, await relay.take()

    got, moved = asyncio.run(main())
    assert got == [2 * i for i in range(1, 51)]
    assert moved == 50


def test_path_like_library(sensor):
    import pathlib
    assert native.go(pathlib.Path(sensor), "scale", "d(dd)", 1.5, 4).take(timeout=5) == 6.0


def test_return_kinds_and_string_arguments(sensor):
    assert native.thread(sensor, "is_even", "b(i)", 8).take(timeout=5) is True
    assert native.io_thread(sensor, "parity", "s(i)", 7).take(timeout=5) == "odd"
    # A str argument travels as the binding's string value (UTF-8 for C).
    assert native.go(sensor, "text_length", "i(s)", "héllo").take(timeout=5) == 6
    counter = native.thread(sensor, "counter", "c(i)", 3).take(timeout=5)
    assert isinstance(counter, Chan) and list(counter) == [1, 2, 3]


def test_missing_library(sensor):
    with pytest.raises(xchan.ELOAD, match=r'cannot load library "/nonexistent/libx.so"') as e:
        native.go("/nonexistent/libx.so", "stream", "v(ci)", Chan(), 1)
    assert isinstance(e.value, xchan.XchanError)


def test_missing_symbol(sensor):
    with pytest.raises(xchan.ELOAD, match=r'no symbol "no_such"'):
        native.thread(sensor, "no_such", "v(ci)", Chan(), 1)


def test_malformed_signature(sensor):
    with pytest.raises(xchan.EINVAL, match=r'signature "v\(cx\)"'):
        native.thread(sensor, "stream", "v(cx)", Chan(), 1)


def test_wrong_argument_count(sensor):
    with pytest.raises(xchan.EINVAL, match="takes 2 arguments, got 1"):
        native.io_thread(sensor, "stream", "v(ci)", Chan())


def test_wrong_argument_type_runs_nothing(sensor):
    ch = Chan(1)
    with pytest.raises(xchan.ETYPE, match=r"argument 2 .* must be int, got string"):
        native.thread(sensor, "stream", "v(ci)", ch, "1")
    with pytest.raises(xchan.ETYPE):
        native.thread(sensor, "stream", "v(ci)", ch, object())
    with pytest.raises(TypeError):
        native.thread(sensor, "stream", "v(ci)", ch, None)
    assert ch.poll() is None, "nothing ran"


def test_too_many_arguments(sensor):
    with pytest.raises(xchan.EINVAL, match="at most 16 arguments"):
        native.go(sensor, "stream", "v(ci)", *range(17))
