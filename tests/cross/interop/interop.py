"""The interop test's Python side (tests/cross/run python).

    python interop.py /path/to/libinterop.so

Starts interop.c's `produce` on a native thread (xchan.native.thread) into a
channel made here, takes the 19 values and checks each one's Python type and
content, in order (see the sequence in interop.c), once with blocking takes
and once with asyncio (`await take_async()`); then sends the returned
sequence (items 0-16) to interop.c's `consume` on another native thread and
prints its verdict.  Exit status 0 only when both directions match.
"""
import asyncio
import math
import sys

import xchan
from xchan import Chan, native

TIMEOUT = 30.0  # seconds for any one take: a hang fails, it does not block CI
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
UTF8_TEXT = "h\u00e9llo \u20ac \U0001F642"


def expected():
    """(description, check) for each produced item, in order."""
    def exact(t, want):
        return lambda v: type(v) is t and v == want

    def double(want):
        return lambda v: type(v) is float and v == want and \
            math.copysign(1, v) == math.copysign(1, want)

    def chan_with_42(v):
        return isinstance(v, Chan) and v.take(TIMEOUT) == 42 and v.take(TIMEOUT) is None

    return [
        ("bool true", exact(bool, True)),
        ("bool false", exact(bool, False)),
        ("int 0", exact(int, 0)),
        ("int -1", exact(int, -1)),
        ("int INT64_MIN", exact(int, INT64_MIN)),
        ("int INT64_MAX", exact(int, INT64_MAX)),
        ("double 1.5", double(1.5)),
        ("double -0.0", double(-0.0)),
        ("double 1e308", double(1e308)),
        ("double NaN", lambda v: type(v) is float and math.isnan(v)),
        ("string 'hello'", exact(str, "hello")),
        ("string multi-byte UTF-8", exact(str, UTF8_TEXT)),
        ("string ''", exact(str, "")),
        ("string 'a\\0b'", exact(str, "a\0b")),
        ("bytes 00 ff 00 7f", exact(bytes, b"\x00\xff\x00\x7f")),
        ("bytes ''", exact(bytes, b"")),
        ("chan holding 42, then closed", chan_with_42),
        ("array [1, 'two', [3.5, [true]], b'\\0']",
         lambda v: v == [1, "two", [3.5, [True]], b"\x00"] and
         [type(x) for x in v] == [int, str, list, bytes] and
         type(v[2][0]) is float and type(v[2][1][0]) is bool),
        ("array []", exact(list, [])),
    ]


def returned():
    """Items 0-16 of interop.c's sequence, as Python values."""
    inner = Chan(1)
    inner.put(42)
    return [True, False, 0, -1, INT64_MIN, INT64_MAX, 1.5, -0.0, 1e308,
            float("nan"), "hello", UTF8_TEXT, "", "a\0b",
            b"\x00\xff\x00\x7f", b"", inner]


async def check_all(out, take, who):
    """Takes the produced sequence from `out` with `take` (awaited) and
    returns what was wrong."""
    failures = []
    for i, (what, ok) in enumerate(expected()):
        v = await take(out)
        if v is None:
            failures.append(f"C->{who} item {i} ({what}): channel closed early")
            break
        if not ok(v):
            failures.append(f"C->{who} item {i} ({what}): got {v!r} ({type(v).__name__})")
    else:
        extra = await take(out)
        if extra is not None:
            failures.append(f"C->{who}: extra value after the sequence: {extra!r}")
    return failures


async def take_blocking(ch):
    return ch.take(TIMEOUT)


async def take_asyncio(ch):
    return await asyncio.wait_for(ch.take_async(), TIMEOUT)


def main(lib):
    failures = []
    for take, who, how in [(take_blocking, "py", "blocking take"),
                           (take_asyncio, "py asyncio", "await take_async")]:
        out = Chan()
        done = native.thread(lib, "produce", "v(c)", out)
        failures += asyncio.run(check_all(out, take, who))
        out.close()  # lets the producer finish even if the check stopped early
        done.take(TIMEOUT)  # produce's result channel closes when it returns
        print(f"  C->python ({how}): {len(expected())} values checked")

    back = Chan()
    verdict = native.thread(lib, "consume", "s(c)", back)
    for v in returned():
        back.put(v, TIMEOUT)
    back.close()
    answer = verdict.take(TIMEOUT)
    print(f"  python->C: consume says {answer!r}")
    if not (isinstance(answer, str) and answer.startswith("ok ")):
        failures.append(f"python->C: {answer!r}")
    for f in failures:
        print("  " + f)
    print(f"python ({sys.version.split()[0]}, xchan {xchan.__version__}):",
          "FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: interop.py LIBINTEROP.so")
    sys.exit(main(sys.argv[1]))
