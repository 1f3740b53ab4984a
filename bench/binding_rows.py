"""bench/binding_rows.py — rows 14-16 of the benchmarks: the Python, Node and
Java bindings against their own language's tools, for bench/run.py.

Each binding has its own row program, written by the binding's owner and used
here as it is: bench/python/bench.py (row 14), bench/node/bench.js (row 15)
and bench/java/run.sh (row 16).  Each of them runs xchan and its peers
interleaved or back to back inside one process and prints a table; this
module builds what a program needs, runs it, and reads that table back into
one result per workload:

    {"num": "14b", "row": "py_thread_stream", "xchan": ns, "peers": {name: ns},
     "unit": ..., "core_shape": ("spsc_capN", factor), "conds": [...], ...}

"core_shape" names the row of the C program (bench/c) that does the same
work through the C core alone (factor 2 turns its one-way figure into a
round trip), so that run.py can report what the binding adds.

A language whose toolchain is missing, or whose binding does not build,
gives status "missing" with the reason: never an exception.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BUILD = ROOT / "build-bench"
PY_VENV = BUILD / "py-venv"


@dataclass
class Workload:
    """One workload of a binding's row program, as the harness reports it."""
    num: str
    name: str
    shape: str
    unit: str  # what xchan/peer figures are per
    core_shape: tuple[str, float] | None  # (C program row, factor) or None
    target: str
    conds: list  # ("ratio", peer, limit) | ("abs", limit)
    xchan: float | None = None
    peers: dict = field(default_factory=dict)


@dataclass
class LangResult:
    lang: str
    status: str  # ok | missing | failed
    why: str = ""
    version: str = ""
    workloads: list = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0


def _log(path: Path, text: str) -> None:
    with open(path, "a") as f:
        f.write(text)


def _run(cmd, cwd, log: Path, timeout: float, env=None) -> subprocess.CompletedProcess | None:
    _log(log, f"$ {' '.join(map(str, cmd))}  (in {cwd})\n")
    try:
        r = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        _log(log, f"timed out after {timeout:g} s\n{e.stdout or ''}{e.stderr or ''}\n")
        return None
    except OSError as e:
        _log(log, f"cannot run: {e}\n")
        return None
    _log(log, (r.stdout or "") + (r.stderr or "") + f"[exit {r.returncode}]\n")
    return r


def _tail(text: str, n: int = 6) -> str:
    return " | ".join(text.strip().splitlines()[-n:])


# ---- Python (row 14) ---------------------------------------------------------------
PY_CASES = {
    # the case label bench.py prints -> our workload
    "(a)": Workload("14a", "py_put_take", "put+take on one thread, Chan(1024)", "ns/pair",
                    ("pair_put_take", 1.0), "<= 1.5x SimpleQueue", [("ratio", "SimpleQueue", 1.5)]),
    "(b)": Workload("14b", "py_thread_stream", "thread -> thread stream, Chan(1024)", "ns/msg",
                    ("spsc_capN", 1.0), "<= 0.25x queue.Queue", [("ratio", "queue.Queue", 0.25)]),
    "(c)": Workload("14c", "py_pingpong", "ping-pong between two threads, cap 0", "ns/round trip",
                    ("pingpong_cap0", 2.0), "<= 0.25x queue.Queue", [("ratio", "queue.Queue", 0.25)]),
    "(d)": Workload("14d", "py_asyncio_stream", "asyncio stream in one loop, Chan(1024)", "ns/msg",
                    ("pair_put_take", 1.0), "<= 1.0x asyncio.Queue", [("ratio", "asyncio.Queue", 1.0)]),
    "(e)": Workload("14e", "py_cthread_asyncio", "C pthread -> asyncio task, Chan(1024)", "ns/msg",
                    ("spsc_capN", 1.0), "<= 0.2x call_soon_threadsafe",
                    [("ratio", "call_soon_threadsafe", 0.2)]),
}


def python_build(log: Path) -> tuple[str | None, str]:
    """A venv with the binding (and janus when it installs); (python, why)."""
    py = PY_VENV / "bin" / "python"
    if not py.exists():
        r = _run([sys.executable, "-m", "venv", PY_VENV], ROOT, log, 300)
        if r is None or r.returncode != 0:
            return None, f"python3 -m venv failed ({log})"
    r = _run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "./bindings/python"], ROOT, log, 1800)
    if r is None or r.returncode != 0:
        return None, f"pip install ./bindings/python failed: {_tail((r.stdout + r.stderr) if r else '')} ({log})"
    probe = _run([py, "-c", "import janus"], ROOT, log, 60)
    if probe is None or probe.returncode != 0:
        _run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "janus"], ROOT, log, 300)
    return str(py), ""


def python_parse(out: str) -> list[Workload]:
    """Reads bench.py's table: fixed columns (name 32, xchan 9, peer 22, peer ns 9)."""
    got, cur = [], None
    for line in out.splitlines():
        if len(line) < 76 or line.startswith("case"):
            continue
        label, x, pname, p = line[0:32].strip(), line[33:42].strip(), line[44:66].strip(), line[67:76].strip()
        try:
            pv = float(p)
        except ValueError:
            continue
        if label:
            w = PY_CASES.get(label[:3])
            if w is None:
                cur = None
                continue
            cur = Workload(**{k: getattr(w, k) for k in ("num", "name", "shape", "unit", "core_shape",
                                                        "target", "conds")})
            cur.xchan = float(x)
            got.append(cur)
        if cur is not None:
            cur.peers[pname] = pv
    return got


# ---- Node (row 15) ---------------------------------------------------------------
NODE_ROWS = {
    "15a": Workload("15a", "node_try_pair", "offer+poll pair on one thread (sync try pair)", "ns/pair",
                    ("pair_put_take", 1.0), "pair <= 100 ns", [("abs", 100.0)]),
    "15b": Workload("15b", "node_async_stream", "await put / await take in one isolate, cap 64", "ns/msg",
                    ("pair_put_take", 1.0), "(no target)", []),
    "15c": Workload("15c", "node_worker_stream", "main -> worker stream, cap 1024", "ns/msg",
                    ("spsc_capN", 1.0), "(no target)", []),
    "15d": Workload("15d", "node_worker_rt", "main <-> worker round trip through a shared channel", "ns/round trip",
                    ("pingpong_cap0", 2.0), "<= 0.1x postMessage and <= 2x the SAB ring",
                    [("ratio", "postMessage", 0.1), ("ratio", "SAB ring, main in Atomics.wait", 2.0)]),
}


def node_build(log: Path) -> tuple[str | None, str]:
    node = shutil.which("node")
    if not node:
        return None, "node not found on PATH"
    r = _run([node, "scripts/build.js"], ROOT / "bindings" / "node", log, 1800)
    if r is None or r.returncode != 0:
        return None, f"node bindings/node/scripts/build.js failed: {_tail((r.stdout + r.stderr) if r else '')} ({log})"
    return node, ""


def node_parse(out: str) -> list[Workload]:
    import json
    start = out.find("{")
    d = json.loads(out[start:])
    got: dict[str, Workload] = {}
    for r in d["rows"]:
        base = NODE_ROWS.get(r["row"])
        if base is None:
            continue
        w = got.get(r["row"])
        if w is None:
            w = Workload(**{k: getattr(base, k) for k in ("num", "name", "shape", "unit", "core_shape",
                                                         "target", "conds")})
            w.xchan = r["xchan"]
            got[r["row"]] = w
        if r.get("peer") and r.get("peerNs"):
            w.peers[r["peer"]] = r["peerNs"]
    return list(got.values())


# ---- Java (row 16) ---------------------------------------------------------------
def java_workload(label: str) -> Workload | None:
    thread = "virtual" if "(virtual)" in label else "platform"
    # virtual threads are M:N like go tasks: their C core shape runs on go tasks
    if label.startswith("spsc"):
        return Workload("16a" if thread == "platform" else "16c", f"java_spsc_{thread}",
                        f"spsc cap 1024, {thread} threads", "ns/msg",
                        ("spsc_capN", 1.0) if thread == "platform" else ("spsc_task_capN", 1.0),
                        "<= 1.0x ArrayBlockingQueue; <= 1.0x core.async",
                        [("ratio", "ArrayBlockingQueue", 1.0), ("ratio", "core.async", 1.0)])
    if label.startswith("pingpong"):
        return Workload("16b" if thread == "platform" else "16d", f"java_pingpong_{thread}",
                        f"rendezvous ping-pong, {thread} threads, one-way", "ns/msg (one-way)",
                        ("pingpong_cap0", 1.0) if thread == "platform" else ("pingpong_task", 1.0),
                        "<= 0.5x SynchronousQueue; <= 1.0x core.async",
                        [("ratio", "SynchronousQueue", 0.5), ("ratio", "core.async", 1.0)])
    return None


JAVA_LINE = re.compile(r"^(?P<w>.{36}) (?P<impl>\S+)\s+(?P<med>[\d.]+)\s+(?P<min>[\d.]+)")


def java_parse(out: str) -> list[Workload]:
    got: dict[str, Workload] = {}
    for line in out.splitlines():
        m = JAVA_LINE.match(line)
        if not m:
            continue
        label = m["w"].strip()
        w = got.get(label)
        if w is None:
            w = java_workload(label)
            if w is None:
                continue
            got[label] = w
        if m["impl"] == "xchan":
            w.xchan = float(m["med"])
        else:
            w.peers[m["impl"]] = float(m["med"])
    return list(got.values())


def java_check() -> str:
    if not shutil.which("mvn"):
        return "mvn not found on PATH"
    if not any(Path("/usr/lib/jvm").glob("temurin-*-jdk-*")) and not os.environ.get("JAVA_HOME"):
        return "no JDK 21+ (Temurin) under /usr/lib/jvm and no JAVA_HOME"
    return ""


# ---- running -----------------------------------------------------------------------
def run_lang(lang: str, quick: bool, no_build: bool, timeout: float) -> LangResult:
    """Builds (unless no_build) and runs one binding's row program."""
    import time
    logs = BUILD / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"binding-{lang}.log"
    log.write_text("")
    t0 = time.monotonic()
    res = LangResult(lang, "ok")
    env = dict(os.environ)
    # --quick reuses a binding already built (its run must stay short)
    if quick and lang == "python" and (PY_VENV / "bin" / "python").exists():
        probe = _run([PY_VENV / "bin" / "python", "-c", "import xchan"], ROOT, log, 60)
        no_build = probe is not None and probe.returncode == 0
    if quick and lang == "node" and (ROOT / "bindings" / "node" / "build" / "Release" / "xchan.node").exists():
        no_build = True
    if lang == "python":
        py = PY_VENV / "bin" / "python"
        if no_build:
            why = "" if py.exists() else f"{py} not built (--no-build)"
        else:
            p, why = python_build(log)
        if why:
            return LangResult(lang, "missing", why)
        cmd = [py, BENCH / "python" / "bench.py"] + (["--n", "20000", "--repeats", "2"] if quick else
                                                     ["--n", "200000", "--repeats", "3"])
        parse = python_parse
    elif lang == "node":
        node = shutil.which("node")
        if not node:
            return LangResult(lang, "missing", "node not found on PATH")
        if not no_build:
            node, why = node_build(log)
            if why:
                return LangResult(lang, "missing", why)
        cmd = [node, BENCH / "node" / "bench.js", "--json"] + (["--quick"] if quick else [])
        parse = node_parse
    elif lang == "java":
        why = java_check()
        if why:
            return LangResult(lang, "missing", why)
        cmd = ["bash", BENCH / "java" / "run.sh"] + (["50000", "1"] if quick else ["1000000", "5"])
        parse = java_parse
    else:
        raise ValueError(lang)
    r = _run(cmd, ROOT, log, timeout, env)
    res.seconds = time.monotonic() - t0
    if r is None:
        return LangResult(lang, "failed", f"timed out or could not run ({log})", seconds=res.seconds)
    res.output = r.stdout
    if r.returncode != 0:
        return LangResult(lang, "failed", f"exit {r.returncode}: {_tail(r.stdout + r.stderr)} ({log})",
                          output=r.stdout, seconds=res.seconds)
    try:
        res.workloads = parse(r.stdout)
    except (ValueError, KeyError) as e:
        return LangResult(lang, "failed", f"could not read its output ({e}); see {log}", output=r.stdout,
                          seconds=res.seconds)
    if not res.workloads:
        return LangResult(lang, "failed", f"no workload in its output; see {log}", output=r.stdout,
                          seconds=res.seconds)
    res.version = (r.stdout.strip().splitlines() or [""])[0][:160]
    return res
