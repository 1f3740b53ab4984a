"""The Python runner of the conformance suite (tests/conformance/README.md,
"The runner contract"), over the public API of the `xchan` package only, the
way a Python user calls it.

    python runner.py --cases DIR [--json] [--case NAME] [--kind thread|task]

Kinds: "thread" runs each proc on its own threading.Thread with the blocking
calls (ch.put, ch.take, xchan.alts); "task" runs each proc as an asyncio task
on one event loop with the awaitable calls (ch.put_async, ch.take_async,
xchan.alts_async).  Every op is written once as a coroutine over a small set
of primitives that either block (thread kind: the coroutine never suspends
and is driven to its end with one send) or await (task kind).

Async ops (put_async/take_async/alts_async) use the binding's callback mode
(ch.take_async(callback) -> xchan.AsyncOp) or, with "notify", its notify
mode (ch.take_async(notify=fn), then op.collect()); "await" waits for the
callback or the notification.  A spawned go is xchan.go(body()) called
where the proc runs: on a task proc an asyncio task on the case's own loop;
on a thread proc (and in thread/io_thread bodies), where no loop runs, a go
task on the core's DISPATCH executor, whose body awaits only xchan
operations (deadlines through alts_async's timeout and xchan.timeout,
blocking calls through `await xchan.thread(fn).take()`).

An op the binding has no public way to express is a *binding gap*: its result
is {"err": "GAP", "msg": "binding gap: ..."}, which fails the case (the gap is
the binding's to close, never skipped).  A non-xchan Python exception from the
binding is reported by its class name (e.g. "TypeError"), also a failure.

Concurrency design: one case runs at a time.  Its procs share one World: the
named objects, the trace and the marks, guarded by World.lock (a plain
threading.Lock, never held across a binding call that can block).  Exit
status: 0 when every result passed, 1 otherwise, 3 when xchan is not
importable.
"""
import argparse
import asyncio
import concurrent.futures
import glob
import json
import math
import os
import subprocess
import sys
import threading
import time

try:
    import xchan
    from xchan import xf
except ImportError as e:  # the contract: 3 = cannot run at all
    print(f"conformance/python: the xchan package is not importable ({e})",
          file=sys.stderr)
    sys.exit(3)

KINDS = ["thread", "task"]


class Gap(Exception):
    """An op or value the binding's public API cannot express."""


class RunnerError(Exception):
    """A problem of the case or the runner (an unknown name)."""


class StepFailure(Exception):
    """The error a vocabulary step fails with (fail_on, the reducing fn
    "fail"); args[0] is the error value ("boom")."""


class Host:
    """A host object of this runtime, identified by its tag."""
    __slots__ = ("tag",)

    def __init__(self, tag):
        self.tag = tag

    def __repr__(self):
        return f"Host({self.tag!r})"


# ---- the cross-test extension: Boxes and values of another runtime ----

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
CROSS_SRC = os.path.join(ROOT, "tests", "cross", "python", "xchan_cross.c")
_cross = None


def cross():
    """tests/cross/python's C extension (xchan_cross), built on first use:
    a C extension is how Python code gets a Box (a native pointer with a
    destructor) or a value of another runtime.  Cached under
    build-python/conformance, keyed by its source, the headers and Python."""
    global _cross
    if _cross is not None:
        return _cross
    import hashlib
    import importlib.util
    import shutil
    import sysconfig
    inc = xchan.get_include()
    with open(CROSS_SRC, "rb") as f:
        key = hashlib.sha256(f.read() + inc.encode() +
                             xchan.core_version.encode() +
                             sys.version.encode()).hexdigest()[:16]
    out_dir = os.path.join(ROOT, "build-python", "conformance")
    os.makedirs(out_dir, exist_ok=True)
    so = os.path.join(out_dir, f"xchan_cross-{key}" +
                      sysconfig.get_config_var("EXT_SUFFIX"))
    if not os.path.exists(so):
        cc = os.environ.get("CC") or shutil.which("cc") or "gcc"
        tmp = f"{so}.{os.getpid()}.tmp"
        r = subprocess.run([cc, "-shared", "-fPIC", "-O1", "-std=c11",
                            "-I", inc, "-I", sysconfig.get_paths()["include"],
                            CROSS_SRC, "-o", tmp, "-lpthread"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RunnerError("cannot build tests/cross/python/xchan_cross.c:"
                              f" {r.stderr[:300]}")
        os.replace(tmp, so)
    spec = importlib.util.spec_from_file_location("xchan_cross", so)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    _cross = mod
    return mod


def make_box(tag):
    """A Box made by C: the extension puts it on a channel, Python takes it."""
    ch = xchan.Chan(1)
    cross().put_box(ch.capsule(), tag, 0)
    return ch.poll()


def run_sync(coro):
    """Drives a coroutine that never suspends (thread kind) to its end."""
    try:
        coro.send(None)
    except StopIteration as e:
        return e.value
    coro.close()
    raise RuntimeError("a thread op suspended (runner bug)")


# ---- results ----

def res(err="OK", **kw):
    r = {"err": err}
    r.update(kw)
    return r


def gap(msg):
    raise Gap(msg)


def exc_result(e):
    if isinstance(e, Gap):
        return {"err": "GAP", "msg": "binding gap: " + str(e)}
    if isinstance(e, RunnerError):
        return {"err": "RUNNER", "msg": str(e)}
    if isinstance(e, xchan.XchanError):
        return {"err": e.name or type(e).__name__}
    if isinstance(e, (asyncio.TimeoutError, TimeoutError)):
        return {"err": "ETIMEDOUT"}
    if isinstance(e, asyncio.CancelledError):
        return {"err": "ECANCELED"}
    return {"err": type(e).__name__, "msg": str(e)[:200]}


# ---- the world of one case ----

class World:
    def __init__(self, kind, deadline):
        self.kind = kind
        self.deadline = deadline
        self.lock = threading.Lock()
        self.objs = {}
        self.hosts = {}
        self.trace = []
        self.marks = {}
        self.spawns = 0
        self.loop = None  # the task kind's loop
        self.failed_at = None  # time of the first mismatch

    def put(self, name, obj):
        with self.lock:
            self.objs[name] = obj

    def get(self, name, typ=None, what="object"):
        with self.lock:
            o = self.objs.get(name)
        if o is None or (typ is not None and not isinstance(o, typ)):
            raise RunnerError(f"unknown {what} {name!r}")
        return o

    def chan(self, op, key="ch"):
        """The named channel; a null channel is None (the binding rejects
        it with xchan.InvalidArgumentType, an EINVAL)."""
        name = op.get(key)
        if name is None:
            return None
        return self.get(name, xchan.Chan, "channel")

    def chan_name(self, ch):
        with self.lock:
            for k, v in self.objs.items():
                if isinstance(v, xchan.Chan) and v == ch:
                    return k
        return "?"

    def host(self, tag):
        with self.lock:
            return self.hosts.setdefault(tag, Host(tag))

    # values (README "Values")
    def to_py(self, j):
        if j is None:
            return None
        if isinstance(j, (bool, int, str)):
            return j
        if isinstance(j, float):
            raise RunnerError("a plain float value (use {\"double\": x})")
        if isinstance(j, list):
            return [self.to_py(x) for x in j]
        if isinstance(j, dict) and len(j) == 1:
            k, v = next(iter(j.items()))
            if k == "int":
                return int(v)
            if k == "double":
                return {"nan": math.nan, "inf": math.inf,
                        "-inf": -math.inf}.get(v, v) if isinstance(v, str) \
                    else float(v)
            if k == "bytes":
                return bytes.fromhex(v)
            if k == "chan":
                return self.get(v, xchan.Chan, "channel")
            if k == "host":
                return self.host(v)
            if k == "foreign_host":
                raise RunnerError("a foreign host value only as a put's "
                                  "value (the extension puts it)")
            if k == "box":
                return make_box(v)
        raise RunnerError(f"bad value {j!r}")

    def to_json(self, v):
        if v is None or isinstance(v, bool):
            return v
        if isinstance(v, int):
            return {"int": str(v)} if abs(v) > 2 ** 53 else v
        if isinstance(v, float):
            if math.isnan(v):
                return {"double": "nan"}
            if math.isinf(v):
                return {"double": "inf" if v > 0 else "-inf"}
            return {"double": v}
        if isinstance(v, str):
            return v
        if isinstance(v, (bytes, bytearray)):
            return {"bytes": bytes(v).hex()}
        if isinstance(v, (list, tuple)):
            return [self.to_json(x) for x in v]
        if isinstance(v, xchan.Chan):
            return {"chan": self.chan_name(v)}
        if isinstance(v, Host):
            return {"host": v.tag}
        if isinstance(v, xchan.Box):
            return {"box": cross().box_tag(v.address)}
        return {"unknown_kind": type(v).__name__}


# ---- the vocabulary (README "Vocabulary") ----

def _ival(v):
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


MAP_FNS = {
    "inc": lambda v: _ival(v) + 1,
    "double": lambda v: _ival(v) * 2,
    "str": lambda v: str(_ival(v)),
    "parity": lambda v: "odd" if _ival(v) % 2 else "even",
    "identity": lambda v: v,
    "nil": lambda v: None,
}
PREDS = {
    "even": lambda v: type(v) is int and v % 2 == 0,
    "odd": lambda v: type(v) is int and v % 2 != 0,
}
MAPCATS = {
    "dup": lambda v: [v, v],
    "range": lambda v: list(range(_ival(v))),
    "none": lambda v: [],
}


def _fail_on(k):
    def step(v):
        if type(v) is int and v == k:
            raise StepFailure("boom")
        return v
    return step


def _one_xform(spec):
    if not isinstance(spec, dict) or len(spec) != 1:
        raise RunnerError(f"bad transform {spec!r}")
    k, a = next(iter(spec.items()))
    if k == "map" and a in MAP_FNS:
        return xf.map(MAP_FNS[a])
    if k == "filter" and a in PREDS:
        return xf.filter(PREDS[a])
    if k == "mapcat" and a in MAPCATS:
        return xf.mapcat(MAPCATS[a])
    if k == "take":
        return xf.take(a)
    if k == "partition_all":
        return xf.partition_all(a)
    if k == "repeat":
        return xf.mapcat(lambda v, n=a: [v] * n)
    if k == "fail_on":
        return xf.map(_fail_on(a))
    raise RunnerError(f"bad transform {spec!r}")


def make_xform(spec):
    if spec is None:
        return None
    if isinstance(spec, list):
        return xf.comp(*[_one_xform(s) for s in spec])
    return _one_xform(spec)


def _err_value(e):
    return e.args[0] if isinstance(e, StepFailure) and e.args else str(e)


ERROR_HANDLERS = {
    "inject": lambda e: "err",
    "drop": lambda e: None,
    "echo": _err_value,
}


def error_handler(name):
    if name is None:
        return None
    if name not in ERROR_HANDLERS:
        raise RunnerError(f"bad on_error {name!r}")
    return ERROR_HANDLERS[name]


def _r_sum_to_10(acc, v):
    s = _ival(acc) + _ival(v)
    return xf.reduced(s) if s >= 10 else s


def _r_fail(acc, v):
    raise StepFailure("boom")


REDUCERS = {
    "sum": lambda acc, v: _ival(acc) + _ival(v),
    "count": lambda acc, v: _ival(acc) + 1,
    "sum_to_10": _r_sum_to_10,
    "fail": _r_fail,
}
MAP_N = {"sum": lambda *vs: sum(_ival(v) for v in vs),
         "vec": lambda *vs: list(vs)}


def _af_dup(v, result):
    def run():
        result.put(v)
        result.put(v)
        result.close()
    threading.Thread(target=run, daemon=True).start()


def _af_inc(v, result):
    def run():
        result.put(_ival(v) + 1)
        result.close()
    threading.Thread(target=run, daemon=True).start()


ASYNC_FNS = {"dup": _af_dup, "inc": _af_inc}

# The case's buffer kinds by the binding's names (Chan.info()'s "buffer");
# any other name goes to xchan.Buffer as it is (which rejects it: EINVAL).
BUF_NAMES = {"none": "unbuffered", "buffer": "fixed"}
INFO_BUF_NAMES = {"unbuffered": "none"}


def buf_arg(spec):
    """A channel spec's buffer as the binding's `buf` argument:
    xchan.Buffer(kind, n), the kind by name."""
    kind = spec.get("buf", "none")
    return xchan.Buffer(BUF_NAMES.get(kind, kind), spec.get("n", 0))


def make_chan(spec):
    x = make_xform(spec.get("xform"))
    eh = error_handler(spec.get("on_error"))
    kw = {}
    if "max_pending" in spec:
        kw["max_pending"] = spec["max_pending"]
    return xchan.Chan(buf_arg(spec), x, eh, **kw)


def out_buf(op):
    spec = op.get("out")
    if spec is None:
        return None
    if "xform" in spec or "on_error" in spec or "max_pending" in spec:
        gap("a combinator's output channel takes only a buffer (no "
            "transform, handler or max_pending)")
    return buf_arg(spec)


# ---- primitives: block on a thread proc, await on a task proc ----

def secs(op):
    ms = op.get("timeout_ms")
    return None if ms is None else max(ms, 0) / 1000.0


class Proc:
    def __init__(self, w, path, task, go=False):
        self.w = w
        self.path = path
        self.task = task  # True: asyncio task; False: OS thread or go
        # True: a go body on the DISPATCH executor (xchan.go without a
        # loop), which can await only xchan operations.
        self.go = go

    async def nap(self):
        if self.task:
            await asyncio.sleep(0.001)
        elif self.go:
            await xchan.timeout(1).take_async()
        else:
            time.sleep(0.001)

    async def blocking(self, fn, *args, **kw):
        """A blocking call (one with a cancel token): on a task, through
        asyncio.to_thread, as an asyncio user runs blocking calls; in a go,
        on xchan.thread, awaiting its result channel."""
        if self.task:
            return await asyncio.to_thread(fn, *args, **kw)
        if self.go:
            def call():
                try:
                    return fn(*args, **kw), None
                except BaseException as e:  # noqa: BLE001
                    return None, e
            v, e = await xchan.thread(call).take_async()
            if e is not None:
                raise e
            return v
        return fn(*args, **kw)

    async def put(self, ch, v, t, cancel=None):
        if ch is None:  # the null channel: the method, unbound, on None
            ok = xchan.Chan.offer(None, v) if t == 0 else \
                xchan.Chan.put(None, v, t)
            return res() if ok else res("ECLOSED")
        if cancel is not None:
            ok = await self.blocking(ch.put, v, t, cancel=cancel)
            return res() if ok else res("ECLOSED")
        if t == 0:
            closed = ch.closed
            ok = ch.offer(v)
            return res() if ok else res("ECLOSED" if closed else "EAGAIN")
        if self.task:
            aw = ch.put_async(v)
            ok = await (aw if t is None else asyncio.wait_for(aw, t))
        elif self.go:
            ok = await ch.put_async(v) if t is None else \
                (await xchan.alts_async([(ch, v)], timeout=t))[0]
        else:
            ok = ch.put(v, t)
        return res() if ok else res("ECLOSED")

    async def take(self, ch, t, cancel=None):
        if ch is None:  # the null channel: the method, unbound, on None
            v = xchan.Chan.poll(None) if t == 0 else xchan.Chan.take(None, t)
            return res("ECLOSED") if v is None else res(val=v)
        if cancel is not None:
            v = await self.blocking(ch.take, t, cancel=cancel)
            return res("ECLOSED") if v is None else res(val=v)
        if t == 0:
            closed = ch.closed
            v = ch.poll()
            if v is None:
                return res("ECLOSED" if closed else "EAGAIN")
            return res(val=v)
        if self.task:
            aw = ch.take_async()
            v = await (aw if t is None else asyncio.wait_for(aw, t))
        elif self.go:
            v = await ch.take_async() if t is None else \
                (await xchan.alts_async([ch], timeout=t))[0]
        else:
            v = ch.take(t)
        return res("ECLOSED") if v is None else res(val=v)

    async def alts(self, ops, priority, t, cancel=None):
        kw = {"priority": priority}
        if t == 0:
            kw["default"] = _DEFAULT
        elif t is not None:
            kw["timeout"] = t
        if cancel is not None:
            kw["cancel"] = cancel
            return await self.blocking(xchan.alts, ops, **kw)
        if (self.task or self.go) and t != 0:
            return await xchan.alts_async(ops, **kw)
        return xchan.alts(ops, **kw)


_DEFAULT = object()


# ---- ops ----

def val_res(w, r):
    """Encodes a result's Python value (r["val"]) to JSON."""
    if "val" in r:
        r["val"] = w.to_json(r["val"])
    return r


def alts_ops(w, op):
    ops, kinds = [], []
    for c in op.get("clauses", []):
        if "take" in c:
            ops.append(w.chan(c, "take"))
            kinds.append("take")
        elif "put" in c:
            ops.append((w.chan(c, "put"), w.to_py(c.get("val"))))
            kinds.append("put")
        else:
            # A clause of another kind: passed as it is, a {kind: Chan}
            # mapping, which is neither alts op form (the binding rejects
            # it: EINVAL).
            k, name = next(iter(c.items()))
            ops.append({k: w.get(name, xchan.Chan, "channel")})
            kinds.append(k)
    return ops, kinds


def alts_result(ops, kinds, got):
    v, ch = got
    if ch is None:
        return res("EAGAIN", index=-1)
    for i, o in enumerate(ops):
        c = o if kinds[i] == "take" else o[0]
        if c == ch and (kinds[i] == "put") == (v is True or v is False) \
                and not (kinds[i] == "take" and isinstance(v, bool)
                         and any(k == "put" and oo[0] == ch
                                 for k, oo in zip(kinds, ops))):
            break
    else:
        for i, o in enumerate(ops):
            if (o if kinds[i] == "take" else o[0]) == ch:
                break
        else:
            return {"err": "RUNNER", "msg": "alts returned an unknown chan"}
    if kinds[i] == "put":
        return res("OK" if v else "ECLOSED", index=i)
    return res("ECLOSED", index=i) if v is None else res(index=i, val=v)


def token_of(w, op):
    """The xchan.Cancel an op names in "cancel", or None."""
    return w.get(op["cancel"], xchan.Cancel, "token") if op.get("cancel") \
        else None


async def op_alts(p, op):
    w = p.w
    tok = token_of(w, op)
    ops, kinds = alts_ops(w, op)
    t = secs(op)
    try:
        got = await p.alts(ops, bool(op.get("priority")), t, tok)
    except (xchan.ETIMEDOUT, asyncio.TimeoutError):
        return res("ETIMEDOUT", index=-1)
    except xchan.XchanError as e:
        return res(e.name, index=-1)
    return val_res(w, alts_result(ops, kinds, got))


def op_alts_repeat(p, op):
    w = p.w
    ops, kinds = alts_ops(w, op)
    n = op.get("n", 1000)
    counts = [0] * len(ops)
    for _ in range(n):
        for i, c in enumerate(ops):
            c.offer(i)
        v, ch = xchan.alts(ops, priority=bool(op.get("priority")),
                           default=_DEFAULT)
        r = alts_result(ops, kinds, (v, ch))
        if r.get("index", -1) >= 0:
            counts[r["index"]] += 1
        for c in ops:
            while c.poll() is not None:
                pass
    ms = op.get("min_share")
    if ms is not None and all(k >= ms * n for k in counts):
        return res(val="fair")
    return res(val=counts)


class AsyncRec:
    """A put_async/take_async/alts_async started with the binding's
    callback mode (ch.take_async(callback)) or notify mode
    (ch.take_async(notify=fn), then op.collect()): xchan.AsyncOp."""

    def __init__(self, w, name, ops=None, kinds=None, put_val=None):
        self.w = w
        self.name = name
        self.ops, self.kinds, self.put_val = ops, kinds, put_val
        self.starter = threading.get_ident()
        self.lock = threading.Lock()
        self.done = threading.Event()  # completed: callback ran / notified
        self.result = None  # the JSON result, once delivered
        self.op = None      # the xchan.AsyncOp (None: no handle)
        self.notify = False
        self.ran_on_caller = None
        self.in_go = None

    def encode(self, v, e):
        """A delivered (value, error) as the case's result."""
        if self.name == "alts_async":
            if e is not None:
                return res(error_name(e), index=-1)
            return val_res(self.w, alts_result(self.ops, self.kinds, v))
        if self.name == "put_async":
            if e is not None:  # a put that did not happen: v handed back
                return val_res(self.w, res(error_name(e), val=v))
            return res() if v else val_res(self.w, res("ECLOSED",
                                                       val=self.put_val))
        if e is not None:
            return res(error_name(e))
        return res("ECLOSED") if v is None else val_res(self.w, res(val=v))

    def placed(self):
        self.ran_on_caller = threading.get_ident() == self.starter
        self.in_go = xchan.in_go()

    def deliver(self, r):
        with self.lock:
            if self.result is None:
                self.result = r
        self.done.set()

    def callback(self, v, e):
        self.placed()
        self.deliver(self.encode(v, e))

    def notified(self, op):
        self.placed()
        self.done.set()

    def collect(self):
        """Notify mode's collect: (op error name, result or None)."""
        try:
            v, e = self.op.collect(), None
        except xchan.XchanError as x:
            if x.name in ("EAGAIN", "EDONE", "EINVAL"):
                return x.name, None
            v, e = None, x
        r = self.encode(v, e)
        self.deliver(r)
        return "OK", r


def start_async(p, op, name):
    w = p.w
    kw = {}
    if op.get("dispatch"):
        kw["dispatch"] = True
    if op.get("handle") is False:
        kw["handle"] = False
    if name == "alts_async":
        ops, kinds = alts_ops(w, op)
        a = AsyncRec(w, name, ops, kinds)
        t = secs(op)
        kw["priority"] = bool(op.get("priority"))
        if t == 0:
            kw["default"] = _DEFAULT
        elif t is not None:
            kw["timeout"] = t
    elif name == "put_async":
        a = AsyncRec(w, name, put_val=w.to_py(op.get("val")))
    else:
        a = AsyncRec(w, name)
    if op.get("notify"):
        a.notify = True
        kw["notify"] = a.notified
    else:
        kw["callback"] = a.callback
    w.put(op.get("as", "_"), a)
    if name == "alts_async":
        a.op = xchan.alts_async(a.ops, **kw)
    elif name == "put_async":
        # Unbound, so that a null channel is the receiver None.
        a.op = xchan.Chan.put_async(w.chan(op), a.put_val, **kw)
    else:
        a.op = xchan.Chan.take_async(w.chan(op), **kw)
    return res()


async def op_await(p, op):
    w = p.w
    a = w.get(op.get("of"), AsyncRec, "async op")
    end = time.monotonic() + op.get("within_ms", 5000) / 1000.0
    while not a.done.is_set():
        if time.monotonic() > end:
            return res("ETIMEDOUT")
        if p.task or p.go:
            await p.nap()
        else:
            a.done.wait(max(end - time.monotonic(), 0))
    with a.lock:
        r = a.result
    if r is None and a.notify:
        err, r = a.collect()
        if err != "OK":
            return res(err, **{"while": "collect"})
    r = dict(r)
    if op.get("placement"):
        r["ran_on"] = "caller" if a.ran_on_caller else "other"
    if op.get("in_go"):
        r["in_go"] = a.in_go
    return r


async def op_cancel(p, op):
    a = p.w.get(op.get("of"), AsyncRec, "async op")
    # Unbound: an op that completed during its start has no handle (None),
    # which the binding rejects (EINVAL), as the core rejects a NULL op.
    return res() if xchan.AsyncOp.cancel(a.op) else res("EDONE")


async def op_cancel_ex(p, op):
    a = p.w.get(op.get("of"), AsyncRec, "async op")
    try:
        canceled, v = xchan.AsyncOp.cancel_ex(a.op)
        r = a.encode(v, xchan.ECANCELED() if canceled else None)
        if canceled and a.name != "put_async":
            r.pop("val", None)
    except xchan.XchanError as x:
        if x.name in ("EDONE", "EINVAL"):
            return res(x.name)
        r = a.encode(None, x)  # the completed result was an error
    a.deliver(r)
    return res(res=r)


async def op_collect(p, op):
    a = p.w.get(op.get("of"), AsyncRec, "async op")
    err, r = a.collect()
    return res(err) if err != "OK" else res(res=r)


async def op_state(p, op):
    a = p.w.get(op.get("of"), AsyncRec, "async op")
    return res(val=a.op.state.upper())


# ---- spawn: go (an asyncio task, or a go on the dispatch executor),
# thread, io_thread ----

def _err_class(name):
    cls = getattr(xchan, name, None)
    if isinstance(cls, type) and issubclass(cls, xchan.XchanError):
        return cls
    raise RunnerError(f"unknown error name {name!r}")


def op_spawn_start(p, op):
    w = p.w
    kind = op.get("kind", "go")
    as_ = op.get("as", "task")
    path = f"{p.path}/{as_}"
    task_name = op.get("name") or as_
    result = w.to_py(op.get("result")) if "result" in op else None
    fail = _err_class(op["fail"]) if op.get("fail") else None
    body_ops = op.get("ops", [])

    def outcome():
        if fail:
            raise fail(f"spawned body fails with {op['fail']}")
        return result

    with w.lock:
        w.spawns += 1

    def done():
        with w.lock:
            w.spawns -= 1

    if kind == "go":
        # xchan.go from where the proc runs: an asyncio task on a task
        # proc's loop, a go on the DISPATCH executor where no loop runs.
        async def go_body():
            try:
                await run_ops(Proc(w, path, p.task, go=not p.task), body_ops)
                return outcome()
            finally:
                done()
        try:
            ch = xchan.go(go_body(), name=task_name)
        except BaseException:
            done()
            raise
    elif kind in ("thread", "io_thread"):
        def th_body():
            try:
                run_sync(run_ops(Proc(w, path, False), body_ops))
                return outcome()
            finally:
                done()
        # The task's name is its function's __qualname__.
        th_body.__qualname__ = task_name
        try:
            ch = (xchan.thread if kind == "thread" else xchan.io_thread)(
                th_body)
        except BaseException:
            done()
            raise
    else:
        done()
        gap(f"spawn kind {kind!r} cannot be expressed")
    w.put(as_, ch)
    return res()


# ---- executors ----

class CountingExecutor(concurrent.futures.ThreadPoolExecutor):
    def __init__(self):
        super().__init__(max_workers=4)
        self.count = 0
        self._lk = threading.Lock()

    def submit(self, fn, *a, **kw):
        with self._lk:
            self.count += 1
        return super().submit(fn, *a, **kw)


COUNTERS = {}


def op_executor_factory(op):
    for wl in op.get("counting", []):
        COUNTERS.setdefault(wl, CountingExecutor())
    xchan.set_executor_factory(lambda workload: COUNTERS.get(workload))
    return res()


# ---- combinators ----

def comb_op(p, op, name):
    w = p.w
    close = op.get("close", True)

    def bind_done(d):
        if op.get("done"):
            w.put(op["done"], d)

    want_done = bool(op.get("done"))

    def result_and_done(r):
        """With done=True the binding returns (result, done channel)."""
        if want_done:
            r, d = r
            bind_done(d)
        return r

    if name == "pipe":
        result_and_done(xchan.pipe(w.chan(op, "from"), w.chan(op, "to"),
                                   close, done=want_done))
        return res()
    if name == "pipeline":
        mode = op.get("mode", "compute")
        frm, to, n = w.chan(op, "from"), w.chan(op, "to"), op.get("n", 1)
        if mode == "async":
            af = ASYNC_FNS.get(op.get("af"))
            if af is None:
                raise RunnerError("bad af")
            if op.get("on_error"):
                gap("pipeline_async takes no ex_handler")
            d = xchan.pipeline_async(n, to, af, frm, close)
        else:
            fn = xchan.pipeline_blocking if mode == "blocking" \
                else xchan.pipeline
            d = fn(n, to, make_xform(op.get("xform")), frm, close,
                   error_handler(op.get("on_error")))
        bind_done(d)
        return res()
    if name == "mult":
        m = xchan.mult(w.chan(op, "src"))
        bind_done(m.done)
        w.put(op.get("as", "_"), m)
        return res()
    if name in ("tap", "untap", "untap_all"):
        m = w.get(op.get("mult"), xchan.Mult, "mult")
        if name == "tap":
            m.tap(w.chan(op), close)
        elif name == "untap":
            m.untap(w.chan(op))
        else:
            m.untap_all()
        return res()
    if name == "pub":
        tf = MAP_FNS.get(op.get("topic"))
        if tf is None:
            raise RunnerError("bad topic fn")
        tb = op.get("topic_buf")
        buf_fn = None
        if tb is not None:
            b = buf_arg(tb)
            buf_fn = lambda topic, b=b: b  # noqa: E731
        pb = xchan.pub(w.chan(op, "src"), tf, buf_fn)
        bind_done(pb.done)
        w.put(op.get("as", "_"), pb)
        return res()
    if name in ("sub", "unsub", "unsub_topic", "unsub_all"):
        pb = w.get(op.get("pub"), xchan.Pub, "pub")
        topic = w.to_py(op.get("topic"))
        if name == "sub":
            pb.sub(topic, w.chan(op), close)
        elif name == "unsub":
            pb.unsub(topic, w.chan(op))
        elif name == "unsub_topic":
            pb.unsub_all(topic)
        else:
            pb.unsub_all()
        return res()
    if name == "mix":
        m = xchan.mix(w.chan(op, "out"))
        bind_done(m.done)
        w.put(op.get("as", "_"), m)
        return res()
    if name in ("admix", "unmix", "unmix_all", "toggle", "solo_mode",
                "mix_get"):
        m = w.get(op.get("mix"), xchan.Mix, "mix")
        if name == "admix":
            m.admix(w.chan(op))
        elif name == "unmix":
            m.unmix(w.chan(op))
        elif name == "unmix_all":
            m.unmix_all()
        elif name == "solo_mode":
            m.solo_mode(op.get("mode", "mute"))
        elif name == "mix_get":
            st = m.state(w.chan(op))
            return res(val=[k for k in ("mute", "pause", "solo")
                            if st.get(k)])
        else:
            state = {}
            for e in op.get("entries", []):
                state[w.chan(e)] = {k: e[k] for k in ("mute", "pause", "solo")
                                    if k in e}
            m.toggle(state)
        return res()
    if name in ("merge", "map"):
        chans = op.get("chans")
        cs = None if chans is None else \
            [w.chan({"ch": c}) for c in chans]
        if name == "merge":
            out = xchan.merge(cs, out_buf(op), done=want_done)
        else:
            f = MAP_N.get(op.get("fn"))
            if f is None:
                gap(f"a map function {op.get('fn')!r} outside the "
                    "vocabulary cannot be passed")
            out = xchan.map(f, cs, out_buf(op), done=want_done)
        w.put(op.get("as", "_"), result_and_done(out))
        return res()
    if name == "split":
        pred = PREDS.get(op.get("pred"))
        as_ = op.get("as")
        if pred is None or not isinstance(as_, list) or len(as_) != 2:
            raise RunnerError("split needs pred and as: [t, f]")
        t, f = result_and_done(xchan.split(pred, w.chan(op, "src"),
                                           done=want_done))
        w.put(as_[0], t)
        w.put(as_[1], f)
        return res()
    if name == "take_n":
        w.put(op.get("as", "_"), result_and_done(
            xchan.take(op.get("n", 0), w.chan(op, "src"), out_buf(op),
                       done=want_done)))
        return res()
    if name in ("reduce", "transduce", "into"):
        init = w.to_py(op.get("init"))
        src = w.chan(op, "src")
        if name == "into":
            out = xchan.into(init, src)
        else:
            f = REDUCERS.get(op.get("fn"))
            if f is None:
                raise RunnerError("bad fn")
            out = xchan.reduce(f, init, src) if name == "reduce" else \
                xchan.transduce(make_xform(op.get("xform")), f, init, src)
        w.put(op.get("as", "_"), out)
        return res()
    if name == "onto_chan":
        vals = [w.to_py(v) for v in op.get("vals", [])]
        bind_done(xchan.onto_chan(w.chan(op), vals, close))
        return res()
    if name == "to_chan":
        vals = [w.to_py(v) for v in op.get("vals", [])]
        w.put(op.get("as", "_"), xchan.to_chan(vals))
        return res()
    return None


# ---- channel-state ops ----

INFO_FIELDS = ("buf", "capacity", "count", "closed", "pending_puts",
               "pending_takes", "max_pending")


def info_of(ch):
    i = xchan.Chan.info(ch)  # unbound: a null channel is None
    out = {}
    # The binding names the field "buffer" and the kind "unbuffered".
    i.setdefault("buf", i.get("buffer"))
    for k in INFO_FIELDS:
        if k not in i:
            gap(f"Chan.info() has no {k!r}")
        v = i[k]
        if k == "buf":
            v = INFO_BUF_NAMES.get(v, v)
        out[k] = v
    return out


async def op_wait(p, op):
    ch = p.w.chan(op)
    until = op.get("until", {})
    end = time.monotonic() + op.get("within_ms", 5000) / 1000.0
    while True:
        now = info_of(ch)
        if all(now.get(k) == v for k, v in until.items()):
            return res()
        if time.monotonic() > end:
            return res("ETIMEDOUT")
        await p.nap()


async def op_drain(p, op):
    ch = p.w.chan(op)
    end = time.monotonic() + op.get("within_ms", 5000) / 1000.0
    vals = []
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return res("ETIMEDOUT", val=vals)
        try:
            r = await p.take(ch, left)
        except (xchan.ETIMEDOUT, asyncio.TimeoutError):
            return res("ETIMEDOUT", val=vals)
        if r["err"] != "OK":
            return res(val=vals) if r["err"] == "ECLOSED" else \
                res(r["err"], val=vals)
        vals.append(p.w.to_json(r["val"]))


class TaskErrors:
    """What xchan.set_task_error_hook reports: [(task name, exception)]."""

    def __init__(self):
        self.lock = threading.Lock()
        self.got = []

    def hook(self, name, exc):
        with self.lock:
            self.got.append((name, exc))

    def reset(self):
        with self.lock:
            self.got = []

    def snapshot(self):
        with self.lock:
            return list(self.got)


TASK_ERRORS = TaskErrors()
xchan.set_task_error_hook(TASK_ERRORS.hook)


def error_name(e):
    return e.name if isinstance(e, xchan.XchanError) and e.name else \
        type(e).__name__


async def op_task_errors(p, op):
    n = op.get("n", 1)
    end = time.monotonic() + op.get("within_ms", 5000) / 1000.0
    while True:
        got = TASK_ERRORS.snapshot()
        if len(got) >= n:
            return res(val=[[name, error_name(e)] for name, e in got])
        if time.monotonic() > end:
            return res("ETIMEDOUT", val=[[name, error_name(e)]
                                         for name, e in got])
        await p.nap()


# ---- dispatch ----

async def exec_op(p, op):
    w = p.w
    name = op.get("op")
    if name == "chan":
        w.put(op.get("as", "?"), make_chan(op))
        return res()
    if name in ("put", "offer"):
        tok = token_of(w, op)
        ch = w.chan(op)
        fv = op.get("val")
        if isinstance(fv, dict) and "foreign_host" in fv:
            # A value of another runtime: C code (the extension) puts it.
            t = 0 if name == "offer" else op.get("timeout_ms", -1)
            await p.blocking(cross().put_foreign, ch.capsule(),
                             fv["foreign_host"], t)
            return res()
        v = w.to_py(op.get("val"))
        return await p.put(ch, v, 0 if name == "offer" else secs(op), tok)
    if name in ("take", "poll"):
        tok = token_of(w, op)
        ch = w.chan(op)
        return val_res(w, await p.take(ch, 0 if name == "poll" else
                                       secs(op), tok))
    if name == "close":
        xchan.Chan.close(w.chan(op))  # unbound: a null channel is None
        return res()
    if name == "info":
        i = info_of(w.chan(op))
        f = op.get("fields")
        return res(val={k: i.get(k) for k in f} if f else i)
    if name == "wait":
        return await op_wait(p, op)
    if name == "timeout":
        w.put(op.get("as", "?"), xchan.timeout(op.get("ms", 0)))
        return res()
    if name == "alts":
        return await op_alts(p, op)
    if name == "alts_repeat":
        return op_alts_repeat(p, op)
    if name in ("put_async", "take_async", "alts_async"):
        return start_async(p, op, name)
    if name == "await":
        return await op_await(p, op)
    if name == "completed":
        a = w.get(op.get("of"), AsyncRec, "async op")
        return res(val=a.done.is_set())
    if name == "cancel":
        return await op_cancel(p, op)
    if name == "cancel_ex":
        return await op_cancel_ex(p, op)
    if name == "collect":
        return await op_collect(p, op)
    if name == "op_state":
        return await op_state(p, op)
    if name == "token":
        w.put(op.get("as", "_"), xchan.Cancel())
        return res()
    if name in ("fire", "reset"):
        tok = w.get(op.get("token"), xchan.Cancel, "token")
        tok.fire() if name == "fire" else tok.reset()
        return res()
    if name == "spawn":
        return op_spawn_start(p, op)
    if name == "task_errors":
        return await op_task_errors(p, op)
    if name == "in_go":
        # A go is an asyncio task on a task proc, a go task of the core's
        # dispatch executor elsewhere (xchan.in_go()).
        try:
            in_task = asyncio.current_task() is not None
        except RuntimeError:
            in_task = False
        return res(val=in_task or xchan.in_go())
    if name == "executor_factory":
        return op_executor_factory(op)
    if name == "executor_count":
        ex = COUNTERS.get(op.get("workload"))
        return res(val=ex.count if ex else 0)
    if name == "execute":
        ch = w.chan(op) if op.get("ch") else None
        v = w.to_py(op.get("val"))
        xchan.execute(op.get("workload"),
                      (lambda: ch.put(v)) if ch is not None else
                      (lambda: None))
        return res()
    if name == "shutdown":
        xchan.shutdown()
        return res()
    if name == "seed":
        xchan.random_seed(op["seed"])
        return res()
    if name == "check_version":
        if "number" in op:
            xchan.check_version(op["number"])
        else:
            xchan.check_version()
        return res()
    if name == "repeat":
        body = op.get("do", {})
        counts = {}
        for _ in range(op.get("n", 1)):
            try:
                r = await exec_op(p, body)
            except BaseException as e:  # noqa: BLE001
                if isinstance(e, Gap):
                    raise
                r = exc_result(e)
            counts[r["err"]] = counts.get(r["err"], 0) + 1
        return res(val=counts)
    if name == "drain":
        return await op_drain(p, op)
    r = comb_op(p, op, name)
    if r is not None:
        return r
    raise RunnerError(f"unknown op {name!r}")


def _sorted_vals(r):
    v = r.get("val")
    if isinstance(v, list):
        r["val"] = sorted(v, key=lambda x: json.dumps(x, sort_keys=True))


def normalize_expect(op, e):
    if e is None:
        x = res()
    elif isinstance(e, str):
        x = {"err": e}
    else:
        x = dict(e)
        x.setdefault("err", "OK")
    if "elapsed_ms" in op:
        x["time"] = "ok"
    if op.get("unordered"):
        _sorted_vals(x)
    return x


async def run_ops(p, ops):
    w = p.w
    for i, op in enumerate(ops):
        t0 = time.monotonic()
        if op.get("mark"):
            with w.lock:
                w.marks[op["mark"]] = t0
        try:
            actual = await exec_op(p, op)
        except (xchan.ETIMEDOUT, asyncio.TimeoutError, TimeoutError):
            actual = res("ETIMEDOUT")
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # noqa: BLE001
            actual = exc_result(e)
        # elapsed_ms
        if "elapsed_ms" in op:
            start = t0
            if op.get("since"):
                with w.lock:
                    start = w.marks.get(op["since"], t0)
            got = (time.monotonic() - start) * 1000.0
            lo, hi = op["elapsed_ms"]
            actual["time"] = "ok" if lo <= got <= hi else \
                f"{got:.1f} ms, outside [{lo:g}, {hi:g}]"
        e = op.get("expect")
        expect = normalize_expect(op, e)
        if op.get("unordered"):
            _sorted_vals(actual)
        ok = e == "any" or ((e is not None or "expect_one_of" not in op)
                            and expect == actual)
        for alt in op.get("expect_one_of", []):
            if normalize_expect(op, alt) == actual:
                ok = True
        if actual.get("err") == "GAP":
            ok = False
        with w.lock:
            w.trace.append({"proc": p.path, "i": i, "op": op.get("op", "?"),
                            "expect": expect, "actual": actual, "ok": ok})
            if not ok and w.failed_at is None:
                w.failed_at = time.monotonic()
        if not ok:
            break


# ---- one case under one kind ----

def rescue(w):
    """Closes and drains the case's channels so blocked procs go free."""
    with w.lock:
        chans = [o for o in w.objs.values() if isinstance(o, xchan.Chan)]
    for c in chans:
        try:
            c.close()
        except BaseException:  # noqa: BLE001
            pass
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        for c in chans:
            try:
                while c.poll() is not None:
                    pass
            except BaseException:  # noqa: BLE001
                pass
        time.sleep(0.002)


def setup(w, c, diff):
    for name, spec in (c.get("chans") or {}).items():
        try:
            w.put(name, make_chan(spec))
        except BaseException as e:  # noqa: BLE001
            r = exc_result(e)
            diff.append(f"channel {name}: {r.get('msg') or r['err']}"
                        if r["err"] != "GAP" else
                        f"channel {name}: {r['msg']}")
            return False
    return True


def failed_since(w):
    """The time of the case's first mismatch, or None."""
    with w.lock:
        return w.failed_at


def wait_deadline(w):
    """The case's deadline, or a second after its first mismatch: a proc that
    stopped early leaves its counterparts blocked, and the case has failed
    anyway (its channels are then closed and drained to free them)."""
    f = failed_since(w)
    return w.deadline if f is None else min(w.deadline, f + 1.0)


def run_threads(w, c, diff):
    threads = []
    for pr in c["procs"]:
        p = Proc(w, pr.get("name", "main"), False)
        t = threading.Thread(target=lambda p=p, ops=pr.get("ops", []):
                             run_sync(run_ops(p, ops)), daemon=True)
        t.start()
        threads.append(t)
    while any(t.is_alive() for t in threads) or w.spawns > 0:
        if time.monotonic() > wait_deadline(w):
            break
        time.sleep(0.001)
    timed_out = any(t.is_alive() for t in threads) or w.spawns > 0
    stuck = False
    if timed_out:
        rescue(w)
        for t in threads:
            t.join(2.0)
        stuck = any(t.is_alive() for t in threads)
    return timed_out, stuck


def run_tasks(w, c, diff):
    async def main():
        w.loop = asyncio.get_running_loop()
        tasks = [asyncio.create_task(run_ops(Proc(w, pr.get("name", "main"),
                                                  True), pr.get("ops", [])))
                 for pr in c["procs"]]
        while not all(t.done() for t in tasks) or w.spawns > 0:
            if time.monotonic() > wait_deadline(w):
                break
            await asyncio.sleep(0.001)
        pending = {t for t in tasks if not t.done()}
        timed_out = bool(pending) or w.spawns > 0
        stuck = False
        if timed_out:
            await asyncio.get_running_loop().run_in_executor(None, rescue, w)
            _, pending = await asyncio.wait(tasks, timeout=2.0) if pending \
                else (None, set())
            stuck = bool(pending)
            for t in pending:
                t.cancel()
        return timed_out, stuck
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main())
    finally:
        try:
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()
        except BaseException:  # noqa: BLE001
            pass


def run_case(fname, c, kind):
    TASK_ERRORS.reset()
    t0 = time.monotonic()
    w = World(kind, t0 + c.get("timeout_ms", 20000) / 1000.0)
    diff = []
    timed_out = stuck = False
    if setup(w, c, diff):
        timed_out, stuck = (run_threads if kind == "thread" else
                            run_tasks)(w, c, diff)
    failed = bool(diff) or timed_out
    with w.lock:
        for e in w.trace:
            if timed_out or not e["ok"]:
                failed = True
                diff.append(e)
    if timed_out:
        diff.append("a proc or task did not finish before the case's "
                    "deadline" + (", not even once its channels were closed "
                                  "and drained" if stuck else
                                  " (closing and draining its channels "
                                  "freed it)"))
    mismatch_first = w.failed_at is not None and w.failed_at < w.deadline
    if timed_out and mismatch_first:
        diff[-1] = ("after the first mismatch, procs still blocked were freed "
                    "by closing and draining the case's channels")
        if stuck:
            diff[-1] = "after the first mismatch, procs stayed blocked"
    status = ("fail" if mismatch_first else "hang") if timed_out else \
        "fail" if failed else "pass"
    return {"case": c["name"], "file": fname, "lang": "python", "kind": kind,
            "status": status, "diff": diff,
            "ms": int((time.monotonic() - t0) * 1000)}, stuck


def run_isolated(args, fname, c, kind):
    env = dict(os.environ)
    env.update({k: str(v) for k, v in (c.get("env") or {}).items()})
    cmd = [sys.executable, os.path.abspath(__file__), "--cases", args.cases,
           "--case", c["name"], "--kind", kind, "--json", "--in-process"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env,
                           timeout=c.get("timeout_ms", 20000) / 1000.0 + 30)
        r = json.loads(p.stdout)[0]
    except (subprocess.TimeoutExpired, ValueError, IndexError) as e:
        r = {"case": c["name"], "file": fname, "lang": "python",
             "kind": kind, "status": "error",
             "diff": [f"isolated run gave no result ({e})"], "ms": 0}
    return r


def print_human(r):
    print(f"{r['status']:<12} {r['kind']:<6} {r['case']} ({r['ms']} ms)")
    if r["status"] == "pass":
        return
    for d in r["diff"]:
        if isinstance(d, str):
            print("    " + d)
        else:
            print(f"    {d['proc']} #{d['i']} {d['op']}\n"
                  f"      expected {json.dumps(d['expect'])}\n"
                  f"      actual   {json.dumps(d['actual'])}")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--case")
    ap.add_argument("--kind", choices=KINDS)
    ap.add_argument("--in-process", action="store_true")
    args = ap.parse_args()
    results, all_ok, stuck = [], True, False
    for path in sorted(glob.glob(os.path.join(args.cases, "*.json"))):
        fname = os.path.basename(path)
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        if isinstance(data, dict):
            data = data.get("cases", [])
        for c in data:
            if args.case and c["name"] != args.case:
                continue
            for kind in KINDS:
                if kind not in c.get("kinds", KINDS) or \
                        (args.kind and args.kind != kind):
                    continue
                if c.get("isolated") and not args.in_process:
                    r = run_isolated(args, fname, c, kind)
                else:
                    r, stuck = run_case(fname, c, kind)
                if r["status"] != "pass":
                    all_ok = False
                if not args.json:
                    print_human(r)
                results.append(r)
                if stuck:
                    break
            if stuck:
                break
        if stuck:
            break
    if args.json:
        print(json.dumps(results, indent=1))
    sys.stdout.flush()
    if stuck:
        print("conformance/python: a case hung; stopping", file=sys.stderr)
        os._exit(1)
    os._exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
