#!/usr/bin/env python3
"""bench/run.py — build and run the xchan benchmarks side by side with their
Go and Rust crossbeam-channel peers, and report ratios (bench/README.md).

    python3 bench/run.py                 # every row, 5 repeats, full N
    python3 bench/run.py --quick         # 3 repeats, smaller N (well under 2 minutes)
    python3 bench/run.py --rows seq_bounded,spsc_capN --repeats 7

Each row runs every implementation interleaved (xchan go crossbeam xchan go
crossbeam ...).  For every run it records the program's own ns/msg (one JSON
line on stdout) and the child's CPU time (user+sys from os.wait4's rusage).
It prints one table per row, a summary, and writes bench/results/latest.json,
latest.md and latest.png (ratio chart; matplotlib is installed into
bench/.venv when it is missing, and the script re-executes itself there).
A --quick run writes to bench/results/quick/ instead (ignored by git), so it
never overwrites the committed full-run results.

Exit status: 0 when every run that could run passed its checks; 1 when a run
failed a check, crashed or timed out, or xchan did not build; 2 bad usage.
Missing toolchains and functions libxchan does not define yet are reported
in the table (status "missing"), not counted as failures.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import binding_rows  # noqa: E402  (bench/binding_rows.py: rows 14-16)

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BUILD = ROOT / "build-bench"
RESULTS = BENCH / "results"
VENV = BENCH / ".venv"

IMPLS = ("xchan", "go", "crossbeam")
M = 1_000_000


# ---- rows -------------------------------------------------------------------
# Each condition is one of
#   ("ratio", peer, limit)        median(xchan) / median(peer) <= limit
#   ("abs", limit_ns)             median xchan ns/msg <= limit_ns
#   ("extra_true", key)           every xchan run has extra[key] == true
#   ("extra_max", key, limit)     median of xchan's extra[key] <= limit
@dataclass
class Row:
    num: str
    name: str
    shape: str
    n: int
    n_quick: int
    cap: int | None  # None: cap = n
    impls: tuple[str, ...]
    target: str
    conds: list = field(default_factory=list)
    prog: str | None = None  # the programs' row name, when not `name`
    unit: str = "ns/msg"
    max_repeats: int | None = None  # e.g. 1 for a 1M-task memory row
    full_only: bool = False  # left out of --quick (too slow or too big)

    @property
    def prog_row(self) -> str:
        return self.prog or self.name


THR = ("xchan", "go", "crossbeam")
TASK = ("xchan", "go")

ROWS = [
    Row("1", "seq_bounded", "1 thread: N puts then N takes, cap N", M, 500_000, None, THR,
        "<= 1.0x crossbeam and Go", [("ratio", "crossbeam", 1.0), ("ratio", "go", 1.0)]),
    Row("2", "seq_unbounded", "1 thread, N puts then N takes; xchan and Go: fixed buffer of N; crossbeam unbounded()",
        M, 500_000, None, THR, "<= 1.0x crossbeam unbounded", [("ratio", "crossbeam", 1.0)]),
    Row("3", "spsc_capN", "1 producer + 1 consumer thread, cap 1024", M, 200_000, 1024, THR,
        "<= 1.0x crossbeam", [("ratio", "crossbeam", 1.0)]),
    Row("4", "spsc_cap1", "1 producer + 1 consumer thread, cap 1", M, 200_000, 1, THR,
        "<= 1.0x crossbeam (median)", [("ratio", "crossbeam", 1.0)]),
    Row("5", "pingpong_cap0", "2 threads, rendezvous round trips (n = round trips), one-way ns", 100_000, 20_000, 0, THR,
        "<= 1.0x crossbeam; < 1 us one-way", [("ratio", "crossbeam", 1.0), ("abs", 1000.0)]),
    Row("6", "pingpong_task", "2 go tasks / goroutines, cap 0 round trips, one-way ns", 100_000, 20_000, 0, TASK,
        "<= 1.0x Go", [("ratio", "go", 1.0)]),
    Row("7", "mpsc", "4 producer threads, 1 consumer, cap 1024", M, 200_000, 1024, THR,
        "<= 1.0x crossbeam", [("ratio", "crossbeam", 1.0)]),
    Row("8a", "mpmc_capN", "4 producer + 4 consumer threads, cap 1024", M, 200_000, 1024, THR,
        "<= 1.0x both", [("ratio", "crossbeam", 1.0), ("ratio", "go", 1.0)]),
    Row("8b", "mpmc_cap0", "4 producer + 4 consumer threads, cap 0", M, 200_000, 0, THR,
        "<= 1.0x both", [("ratio", "crossbeam", 1.0), ("ratio", "go", 1.0)]),
    Row("9a", "prodcons_task_cap0", "2 + 2 go tasks / goroutines, cap 0", M, 200_000, 0, TASK,
        "<= 1.0x Go", [("ratio", "go", 1.0)]),
    Row("9b", "prodcons_task_cap10", "2 + 2 go tasks / goroutines, cap 10", M, 200_000, 10, TASK,
        "<= 1.0x Go", [("ratio", "go", 1.0)]),
    Row("9c", "prodcons_task_cap100", "2 + 2 go tasks / goroutines, cap 100", M, 200_000, 100, TASK,
        "<= 1.0x Go", [("ratio", "go", 1.0)]),
    Row("10", "select_rx", "4 sender threads on 4 channels (cap 1), 1 receiver doing alts/select", M, 200_000, 1, THR,
        "<= 1.0x both; per-channel counts within 10%",
        [("ratio", "crossbeam", 1.0), ("ratio", "go", 1.0), ("extra_true", "per_channel_within_10pct")]),
    Row("11", "select_both", "4 sender + 4 receiver threads, each alts/select over the 4 channels, cap 1", M, 200_000, 1,
        THR, "<= 1.0x both", [("ratio", "crossbeam", 1.0), ("ratio", "go", 1.0)]),
    Row("12", "alts_timeout_task",
        "a: per op an alts over {chan, fresh 1 h timeout} in a task (timed); b: min(n,100k) tasks each await a 1 ms timeout",
        M, 50_000, 1024, TASK, "<= 1.0x Go; timer p99 late <= 2 ms",
        [("ratio", "go", 1.0), ("extra_max", "late_p99_us", 2000.0)]),
    Row("13a", "full_dropping", "1 thread, dropping buffer of 64 kept full, N puts (Go: select-default; crossbeam: try_send)",
        10 * M, 5 * M, 64, THR, "put on full <= 20 ns", [("abs", 20.0)]),
    Row("13b", "full_sliding", "1 thread, sliding buffer of 64 kept full, N puts (peers: on Full drop the oldest, then put)",
        10 * M, 5 * M, 64, THR, "put on full <= 20 ns", [("abs", 20.0)]),
    Row("13c", "failed_poll", "1 thread, N polls of an empty channel (cap 64)", 10 * M, 5 * M, 64, THR,
        "<= 2x Go", [("ratio", "go", 2.0)]),
    Row("-", "spawn_task", "spawn N go tasks / goroutines and wait for each (xchan: its result channel; Go: WaitGroup)",
        100_000, 20_000, 0, TASK, "(no target)", []),
]
# Row 17: w independent producer/consumer pairs (each on its own channel), n
# messages in all, on go tasks and on threads (Go: goroutines for both).
for _on in ("task", "thr"):
    for _cap in (0, 100):
        for _w in (1, 2, 4, 8, 16):
            ROWS.append(Row("17", f"scale_{_on}_cap{_cap}_w{_w}",
                            f"{_w} producer/consumer pair(s) on {'go tasks' if _on == 'task' else 'threads'}, "
                            f"cap {_cap}, each pair its own channel (Go: goroutines)",
                            M if _cap else 200_000, 100_000 if _cap else 20_000, _cap, TASK, "<= 1.0x Go",
                            [("ratio", "go", 1.0)], full_only=_w in (2, 8)))
# Row 18: resident memory per parked go task / idle channel (bytes per item).
for _what, _desc, _target, _conds in (
        ("task", "go tasks parked on a take (Go: goroutines parked on a receive); RSS growth / count",
         "<= 1.0x Go", [("ratio", "go", 1.0)]),
        ("chan", "idle unbuffered channels; RSS growth / count", "(no target)", [])):
    for _label, _n in (("1k", 1000), ("100k", 100_000), ("1m", 1_000_000)):
        ROWS.append(Row("18", f"mem_{_what}_{_label}", f"{_n} {_desc}", _n, _n, 0, TASK, _target, _conds,
                        prog=f"mem_{_what}", unit="B/item", max_repeats=1 if _n >= 1_000_000 else 3,
                        full_only=_n >= 1_000_000))
ROW_BY_NAME = {r.name: r for r in ROWS}


# ---- environment --------------------------------------------------------------
def ensure_matplotlib() -> str | None:
    """Returns None when matplotlib can be imported (possibly after
    re-executing in bench/.venv), else a reason why there is no chart."""
    try:
        import matplotlib  # noqa: F401
        return None
    except ImportError:
        pass
    if os.environ.get("XCHAN_BENCH_IN_VENV"):
        return "matplotlib is not importable even in bench/.venv"
    py = VENV / "bin" / "python"
    try:
        if not py.exists():
            print(f"[run.py] creating {VENV} for matplotlib", flush=True)
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        probe = subprocess.run([str(py), "-c", "import matplotlib"], capture_output=True)
        if probe.returncode != 0:
            print("[run.py] pip install matplotlib into bench/.venv", flush=True)
            subprocess.run([str(py), "-m", "pip", "install", "--quiet", "matplotlib"], check=True)
    except (subprocess.CalledProcessError, OSError) as e:
        return f"could not install matplotlib into bench/.venv ({e})"
    env = dict(os.environ, XCHAN_BENCH_IN_VENV="1")
    sys.stdout.flush()
    os.execve(str(py), [str(py), str(Path(__file__).resolve())] + sys.argv[1:], env)
    return "unreachable"


def first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        text = (out.stdout or out.stderr).strip()
        return text.splitlines()[0] if text else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "not found"


def machine() -> dict:
    info: dict = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        info["cpu"] = platform.processor() or "?"
    info["nproc"] = os.cpu_count()
    try:
        info["nproc_affinity"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memtotal"] = line.split(":", 1)[1].strip()
    except OSError:
        pass
    info["kernel"] = f"{platform.system()} {platform.release()} {platform.machine()}"
    info["date"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    info["loadavg_start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    crossbeam = "?"
    try:
        lock = (BENCH / "rust" / "Cargo.lock").read_text()
        i = lock.index('name = "crossbeam-channel"')
        crossbeam = lock[i:].splitlines()[1].split('"')[1]
    except (OSError, ValueError, IndexError):
        pass
    info["tools"] = {
        "cc": first_line(["cc", "--version"]),
        "cmake": first_line(["cmake", "--version"]),
        "go": first_line(["go", "version"]),
        "rustc": first_line(["rustc", "--version"]),
        "cargo": first_line(["cargo", "--version"]),
        "crossbeam-channel": crossbeam,
        "python": sys.version.split()[0],
        "node": first_line(["node", "--version"]),
        "java": first_line(["bash", "-c", "ls -d /usr/lib/jvm/temurin-*-jdk-* | sort -V | tail -n1"]),
        "mvn": first_line(["mvn", "-B", "--version"]),
    }
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    # core/src is globbed by CMake, so untracked files there are built too
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "core", "CMakeLists.txt", "bench"],
                           capture_output=True, text=True)
    info["git"] = (rev.stdout.strip() or "?") + (" (with uncommitted changes in core/ or bench/)"
                                                 if dirty.stdout.strip() else "")
    return info


# ---- build --------------------------------------------------------------------
@dataclass
class Impl:
    name: str
    exe: Path | None = None
    status: str = "ok"  # ok | missing | build-failed
    why: str = ""


def run_logged(cmd: list[str], cwd: Path, log: Path, env=None) -> bool:
    with open(log, "a") as f:
        f.write(f"$ {' '.join(cmd)}  (in {cwd})\n")
        f.flush()
        r = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, env=env)
    return r.returncode == 0


def tail(path: Path, n: int = 12) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def build(names: list[str], jobs: int) -> dict[str, Impl]:
    logs = BUILD / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    impls: dict[str, Impl] = {}
    for name in names:
        log = logs / f"{name}.log"
        log.write_text("")
        if name == "xchan":
            exe = BUILD / "bench" / "c" / "xchan-bench"
            if not shutil.which("cmake"):
                impls[name] = Impl(name, None, "missing", "cmake not found on PATH")
                continue
            ok = run_logged(["cmake", "-S", str(ROOT), "-B", str(BUILD), "-DXCHAN_BUILD_BENCH=ON",
                             "-DXCHAN_BUILD_TESTS=OFF", "-DCMAKE_BUILD_TYPE=Release"], ROOT, log)
            ok = ok and run_logged(["cmake", "--build", str(BUILD), "--target", "xchan-bench", "-j", str(jobs)],
                                   ROOT, log)
        elif name == "go":
            exe = BENCH / "go" / "xchan-bench-go"
            if not shutil.which("go"):
                impls[name] = Impl(name, None, "missing", "go toolchain not found on PATH")
                continue
            ok = run_logged(["go", "build", "-o", str(exe), "."], BENCH / "go", log)
        else:
            exe = BENCH / "rust" / "target" / "release" / "xchan-bench-crossbeam"
            if not shutil.which("cargo"):
                impls[name] = Impl(name, None, "missing", "cargo (Rust toolchain) not found on PATH")
                continue
            ok = run_logged(["cargo", "build", "--release", "--locked"], BENCH / "rust", log)
        if ok and exe.exists():
            impls[name] = Impl(name, exe)
        else:
            impls[name] = Impl(name, None, "build-failed", f"build failed, see {log}:\n{tail(log)}")
        print(f"[run.py] build {name}: {impls[name].status}", flush=True)
    return impls


# ---- running -------------------------------------------------------------------
@dataclass
class Run:
    status: str  # ok | failed | missing | timeout | error
    ns_per_msg: float | None = None
    cpu_s: float | None = None
    wall_s: float | None = None
    maxrss_mib: float | None = None
    msgs: int | None = None
    extra: dict = field(default_factory=dict)
    message: str = ""


def run_one(impl: Impl, row: Row, n: int, cap: int, timeout: float) -> Run:
    cmd = [str(impl.exe), row.prog_row, "--n", str(n), "--cap", str(cap)]
    env = dict(os.environ)
    if impl.name == "go":
        env["GOMAXPROCS"] = "2"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        timed_out = False
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() - t0 > timeout:
                os.kill(p.pid, signal.SIGKILL)
                pid, status, ru = os.wait4(p.pid, 0)
                timed_out = True
                break
            time.sleep(0.002)
        wall = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace").strip()
    cpu = ru.ru_utime + ru.ru_stime
    rc = p.returncode
    if timed_out:
        return Run("timeout", cpu_s=cpu, wall_s=wall, message=f"killed after {timeout:g} s")
    if rc == 4 and impl.name == "xchan":
        return Run("missing", cpu_s=cpu, wall_s=wall, message=stderr)
    if rc != 0:
        how = f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"
        return Run("failed", cpu_s=cpu, wall_s=wall, message=f"{how}: {stderr[-2000:]}")
    try:
        line = [x for x in stdout.splitlines() if x.strip()][-1]
        d = json.loads(line)
        assert d["row"] == row.prog_row and d["impl"] == impl.name, "row/impl mismatch"
        assert d["n"] == n and d["cap"] == cap, f"ran n={d['n']} cap={d['cap']}, asked n={n} cap={cap}"
        ns = float(d["ns_per_msg"])
        extra = d.get("extra") or {}
        msgs = int(extra.get("msgs", n))
    except (IndexError, ValueError, KeyError, AssertionError, TypeError) as e:
        return Run("error", cpu_s=cpu, wall_s=wall, message=f"bad output ({e}): {stdout[-500:]!r}")
    # peak RSS as the program saw it (VmHWM); wait4's ru_maxrss would include
    # the harness's own memory, inherited through fork
    rss = extra["vmhwm_kib"] / 1024.0 if isinstance(extra.get("vmhwm_kib"), (int, float)) \
        and extra["vmhwm_kib"] >= 0 else None
    return Run("ok", ns, cpu, wall, rss, msgs, extra, stderr)


# ---- aggregation -----------------------------------------------------------------
def median(xs):
    return statistics.median(xs) if xs else None


def summarize(row: Row, runs: dict[str, list[Run]], impls: dict[str, Impl]) -> dict:
    s: dict = {"row": row.name, "num": row.num, "shape": row.shape, "target": row.target, "impls": {}}
    for name in row.impls:
        rs = runs.get(name, [])
        ok = [r for r in rs if r.status == "ok"]
        im = impls.get(name)
        if im is None or im.status != "ok":
            st = "missing" if im is None else im.status
            s["impls"][name] = {"status": st, "why": im.why if im else "not selected"}
            continue
        if not ok:
            bad = rs[0] if rs else Run("error", message="not run")
            s["impls"][name] = {"status": bad.status, "why": bad.message}
            continue
        ns = [r.ns_per_msg for r in ok]
        cpu_per_m = [r.cpu_s / r.msgs * M for r in ok]
        s["impls"][name] = {
            "status": "ok" if len(ok) == len(rs) else f"ok {len(ok)}/{len(rs)}",
            "runs": len(ok),
            "median_ns": median(ns),
            "min_ns": min(ns),
            "cpu_s_per_mmsg": median(cpu_per_m),
            "maxrss_mib": max((r.maxrss_mib for r in ok if r.maxrss_mib is not None), default=None),
            "ns": ns,
            "extra": [r.extra for r in ok],
            "why": "; ".join(sorted({r.message for r in rs if r.status != "ok"})),
        }
    x = s["impls"].get("xchan", {})
    ratios = {}
    for peer in ("go", "crossbeam"):
        p = s["impls"].get(peer, {})
        if x.get("median_ns") and p.get("median_ns"):
            ratios[peer] = x["median_ns"] / p["median_ns"]
    s["ratios"] = ratios
    # targets
    verdicts = []
    for c in row.conds:
        kind = c[0]
        if kind == "ratio":
            peer, lim = c[1], c[2]
            v = ratios.get(peer)
            verdicts.append((f"xchan/{peer} {fmt_ratio(v)} <= {lim:g}", None if v is None else v <= lim))
        elif kind == "abs":
            v = x.get("median_ns")
            verdicts.append((f"{fmt_ns(v)} ns <= {c[1]:g} ns", None if v is None else v <= c[1]))
        elif kind == "extra_true":
            vals = [e.get(c[1]) for e in x.get("extra", [])]
            ok = None if not vals or any(v is None for v in vals) else all(vals)
            verdicts.append((f"{c[1]} in {sum(bool(v) for v in vals)}/{len(vals)} runs", ok))
        elif kind == "extra_max":
            vals = [e.get(c[1]) for e in x.get("extra", []) if e.get(c[1]) is not None]
            v = median(vals)
            verdicts.append((f"{c[1]} {fmt_ns(v)} <= {c[2]:g}", None if v is None else v <= c[2]))
    s["verdicts"] = verdicts
    generic(s, row.unit, x.get("median_ns"),
            {peer: s["impls"][peer]["median_ns"] for peer in ("go", "crossbeam")
             if "median_ns" in s["impls"].get(peer, {})})
    if not verdicts:
        s["met"] = "-"
    elif any(v is False for _, v in verdicts):
        s["met"] = "NO"
    elif all(v is True for _, v in verdicts):
        s["met"] = "yes"
    else:
        s["met"] = "n/a"
    return s


def generic(s: dict, unit: str, xchan_ns, peers: dict, core_ns=None) -> None:
    """The fields every row has, core or binding: the unit, xchan's figure,
    each peer's, the best (fastest / smallest) peer and xchan's ratio to it,
    and for binding rows the C core alone on the same shape."""
    s["unit"] = unit
    s["xchan_ns"] = xchan_ns
    s["peers"] = peers
    best = min(peers, key=peers.get) if peers else None
    s["best_peer"] = best
    s["best_ratio"] = xchan_ns / peers[best] if best and xchan_ns and peers[best] else None
    s["core_ns"] = core_ns
    s["added_ns"] = xchan_ns - core_ns if xchan_ns is not None and core_ns is not None else None


def verdict_of(verdicts) -> str:
    if not verdicts:
        return "-"
    if any(v is False for _, v in verdicts):
        return "NO"
    if all(v is True for _, v in verdicts):
        return "yes"
    return "n/a"


def fmt_ns(v) -> str:
    if v is None:
        return "-"
    if v < 0:
        return "-" + fmt_ns(-v)
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_ratio(v) -> str:
    return "-" if v is None else f"{v:.2f}x"


def extra_note(row: Row, s: dict) -> list[str]:
    """Row-specific extras worth a line (fairness counts, timer lateness)."""
    notes = []
    for name, d in s["impls"].items():
        ex = d.get("extra") or []
        if not ex:
            continue
        if row.name == "select_rx":
            spreads = [e.get("per_channel_spread") for e in ex if e.get("per_channel_spread") is not None]
            cspreads = [e.get("choice_counts_spread") for e in ex if e.get("choice_counts_spread") is not None]
            last = ex[-1]
            notes.append(f"{name}: per-channel counts (last run) {last.get('per_channel')}, "
                         f"spread (max-min)/mean median {fmt_ratio(median(spreads))[:-1]}; "
                         f"alts choice alone {last.get('choice_counts')}, spread {fmt_ratio(median(cspreads))[:-1]}")
        elif row.name == "alts_timeout_task":
            def med(k):
                return fmt_ns(median([e[k] for e in ex if e.get(k) is not None]))
            notes.append(f"{name}: {ex[-1].get('timers')} x 1 ms timers: late p50 {med('late_p50_us')} us, "
                         f"p99 {med('late_p99_us')} us, max {med('late_max_us')} us (medians over runs)")
        elif row.name in ("mpmc_capN", "mpmc_cap0") and ex[-1].get("per_consumer"):
            notes.append(f"{name}: per-consumer counts (last run) {ex[-1]['per_consumer']}")
    return notes


# ---- output ------------------------------------------------------------------------
def row_table(row: Row, s: dict, n: int, cap: int, repeats: int) -> list[str]:
    lines = [f"### {row.num} {row.name} — {row.shape}",
             f"n={n} cap={cap} repeats={repeats}; target: {row.target}", "",
             f"| impl | median {row.unit} | min {row.unit} | CPU s / M msgs | max RSS MiB | status |",
             "|---|---:|---:|---:|---:|---|"]
    for name in IMPLS:
        if name not in row.impls:
            lines.append(f"| {name} | | | | | no peer (needs tasks) |")
            continue
        d = s["impls"][name]
        if "median_ns" in d:
            lines.append(f"| {name} | {fmt_ns(d['median_ns'])} | {fmt_ns(d['min_ns'])} | "
                         f"{d['cpu_s_per_mmsg']:.3f} | "
                         f"{'-' if d['maxrss_mib'] is None else format(d['maxrss_mib'], '.1f')} | {d['status']} |")
        else:
            why = d.get("why", "").strip().splitlines()
            lines.append(f"| {name} | | | | | **{d['status']}**: {why[0] if why else ''} |")
    r = s["ratios"]
    lines.append("")
    lines.append(f"ratio xchan/Go {fmt_ratio(r.get('go'))}, xchan/crossbeam {fmt_ratio(r.get('crossbeam'))} "
                 f"(median over median); target met: **{s['met']}**"
                 + (" (" + "; ".join(f"{t}: {'yes' if v else 'no' if v is False else 'n/a'}"
                                     for t, v in s["verdicts"]) + ")" if s["verdicts"] else ""))
    for note in extra_note(row, s):
        lines.append(f"- {note}")
    return lines


PEER_SHORT = {"go": "Go", "crossbeam": "crossbeam"}


def summary_table(summaries: list[dict]) -> list[str]:
    """ONE table for every row: core rows (peers Go and crossbeam), scale and
    memory rows (Go), binding rows (their language's tools) with the C core
    on the same shape and what the binding adds."""
    lines = ["| # | row | unit | xchan | peers | best peer | xchan/best | C core | binding adds | target | met |",
             "|---|---|---|---:|---|---|---:|---:|---:|---|---|"]
    for s in summaries:
        x = s.get("xchan_ns")
        xs = fmt_ns(x) if x is not None else \
            s.get("xchan_status") or s.get("impls", {}).get("xchan", {}).get("status", "missing")
        peers = "; ".join(f"{PEER_SHORT.get(k, k)} {fmt_ns(v)}" for k, v in s.get("peers", {}).items()) or "-"
        for k, d in s.get("impls", {}).items():
            if k != "xchan" and "median_ns" not in d and d.get("status") not in (None, "not-selected"):
                peers += f"; {PEER_SHORT.get(k, k)} {d['status']}"
        best = PEER_SHORT.get(s.get("best_peer"), s.get("best_peer")) or "-"
        core = fmt_ns(s["core_ns"]) if s.get("core_ns") is not None else "-"
        added = (("+" if s["added_ns"] >= 0 else "") + fmt_ns(s["added_ns"])) if s.get("added_ns") is not None \
            else "-"
        lines.append(f"| {s['num']} | {s['row']} | {s.get('unit', 'ns/msg')} | {xs} | {peers} | {best} | "
                     f"{fmt_ratio(s.get('best_ratio'))} | {core} | {added} | {s['target']} | {s['met']} |")
    return lines


def chart(summaries: list[dict], path: Path, title: str) -> str | None:
    """One bar per row: xchan / its best peer, green where the row meets its
    target, red where it misses, grey where it has none; log scale."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        return f"no chart: {e}"
    labels, vals, colors = [], [], []
    for s in summaries:
        best = PEER_SHORT.get(s.get("best_peer"), s.get("best_peer"))
        labels.append(f"{s['num']} {s['row']}" + (f" (vs {best})" if best else ""))
        vals.append(s.get("best_ratio"))
        colors.append({"yes": "#3a9a4a", "NO": "#d0453a"}.get(s.get("met"), "#8c8c8c"))
    fig, ax = plt.subplots(figsize=(10, 0.26 * len(labels) + 1.8))
    ys = list(range(len(labels)))
    for y, v, c in zip(ys, vals, colors):
        if v:
            ax.barh(y, v, height=0.7, color=c)
            ax.text(v, y, f" {v:.2f}", va="center", fontsize=6)
        else:
            ax.text(1.0, y, "  no ratio (missing or no peer)", va="center", fontsize=6, color="#888")
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(ys)
    ax.set_yticklabels(labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("xchan / best peer, median over median (log scale; < 1: xchan better)\n"
                  "green: target met, red: missed, grey: no target", fontsize=8)
    ax.set_title(title, fontsize=9)
    allv = [v for v in vals if v]
    ax.set_xlim(min(0.5, min(allv) / 1.5) if allv else 0.1, max(2.0, max(allv) * 2) if allv else 10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


# ---- binding rows (14-16) ----------------------------------------------------------
LANGS = ("python", "node", "java")
LANG_NUM = {"python": "14", "node": "15", "java": "16"}
# The C core alone on the binding rows' shapes (binding_rows.Workload.core_shape).
CORE_SHAPES = {
    "pair_put_take": Row("-", "pair_put_take", "1 thread: put then take, cap 1024, n pairs", M, 200_000, 1024,
                         ("xchan",), "(C core floor)"),
    "spsc_capN": ROW_BY_NAME["spsc_capN"],
    "pingpong_cap0": ROW_BY_NAME["pingpong_cap0"],
    # the same shapes on go tasks, for Java's virtual threads
    "spsc_task_capN": Row("-", "spsc_task_capN", "1 producer + 1 consumer go task, cap 1024", M, 200_000, 1024,
                          ("xchan",), "(C core floor)", prog="scale_task_cap1024_w1"),
    "pingpong_task": ROW_BY_NAME["pingpong_task"],
}


def run_binding_lang(lang: str, xchan: Impl, args, repeats: int) -> tuple[list[dict], list[list[str]], dict, bool]:
    """The C core on the shared shapes (repeats runs, just before), then the
    binding's own row program; one summary per workload."""
    core_runs: dict[str, list[Run]] = {k: [] for k in CORE_SHAPES}
    if xchan.status == "ok":
        for _ in range(repeats):
            for k, row in CORE_SHAPES.items():
                n = max(1, int((row.n_quick if args.quick else row.n) * args.scale))
                core_runs[k].append(run_one(xchan, row, n, row.cap, 120.0))
    core_ns = {k: median([r.ns_per_msg for r in v if r.status == "ok"]) for k, v in core_runs.items()}
    print(f"[run.py] row {LANG_NUM[lang]} ({lang}): C core on the same shapes: "
          + ", ".join(f"{k} {fmt_ns(v)} ns" for k, v in core_ns.items()), flush=True)
    res = binding_rows.run_lang(lang, args.quick, args.no_build, 600.0 if args.quick else 3600.0)
    print(f"[run.py] row {LANG_NUM[lang]} ({lang}): {res.status} in {res.seconds:.0f} s"
          + (f": {res.why}" if res.why else ""), flush=True)
    raw = {"status": res.status, "why": res.why, "output": res.output, "seconds": round(res.seconds, 1),
           "core_runs": {k: [vars(r) for r in v] for k, v in core_runs.items()}}
    if res.status != "ok":
        s = {"row": lang, "num": LANG_NUM[lang], "shape": f"the {lang} binding's rows", "target": "-",
             "met": "n/a", "verdicts": [], "impls": {}, "xchan_status": res.status, "why": res.why}
        generic(s, "-", None, {})
        table = [f"### {LANG_NUM[lang]} {lang} — **{res.status}**", "", res.why]
        return [s], [table], raw, res.status == "failed"
    summaries, tables = [], []
    for w in res.workloads:
        verdicts = []
        for c in w.conds:
            if c[0] == "ratio":
                p = w.peers.get(c[1])
                v = w.xchan / p if p and w.xchan is not None else None
                verdicts.append((f"xchan/{c[1]} {fmt_ratio(v)} <= {c[2]:g}", None if v is None else v <= c[2]))
            else:
                verdicts.append((f"{fmt_ns(w.xchan)} ns <= {c[1]:g} ns",
                                 None if w.xchan is None else w.xchan <= c[1]))
        core = None
        if w.core_shape and core_ns.get(w.core_shape[0]) is not None:
            core = core_ns[w.core_shape[0]] * w.core_shape[1]
        s = {"row": w.name, "num": w.num, "shape": w.shape, "target": w.target, "verdicts": verdicts,
             "met": verdict_of(verdicts), "impls": {}, "lang": lang,
             "core_shape": w.core_shape[0] if w.core_shape else None}
        generic(s, w.unit, w.xchan, dict(w.peers), core)
        summaries.append(s)
        t = [f"### {w.num} {w.name} — {w.shape}", f"through the {lang} binding ({res.version}); target: {w.target}",
             "", f"| impl | {w.unit} | xchan / impl |", "|---|---:|---:|",
             f"| xchan ({lang}) | {fmt_ns(w.xchan)} | |"]
        for pn, pv in w.peers.items():
            t.append(f"| {pn} | {fmt_ns(pv)} | {fmt_ratio(w.xchan / pv if pv and w.xchan else None)} |")
        if core is not None:
            t.append(f"| C core alone ({w.core_shape[0]}{' x2' if w.core_shape[1] == 2 else ''}) | {fmt_ns(core)} | "
                     f"{fmt_ratio(w.xchan / core if core else None)} |")
        t += ["", f"binding adds {fmt_ns(s['added_ns'])} {w.unit} over the C core; target met: **{s['met']}**"
              + (" (" + "; ".join(f"{tt}: {'yes' if v else 'no' if v is False else 'n/a'}"
                                  for tt, v in verdicts) + ")" if verdicts else "")]
        tables.append(t)
    return summaries, tables, raw, False


# ---- main ------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 repeats and smaller N (under 2 minutes)")
    ap.add_argument("--rows", help="comma-separated row names or prefixes (default: all), and "
                    "python, node, java or bindings for rows 14-16: "
                    + ",".join(r.name for r in ROWS))
    ap.add_argument("--repeats", type=int, help="runs per implementation and row (default 5, --quick 3)")
    ap.add_argument("--impls", default=",".join(IMPLS), help="comma-separated subset of " + ",".join(IMPLS))
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every N by this (e.g. 0.1 for a smoke test)")
    ap.add_argument("--no-build", action="store_true", help="use the programs already built")
    ap.add_argument("--timeout", type=float, help="seconds per run before it is killed (default 300, --quick 60)")
    ap.add_argument("--out", help="directory for latest.{json,md,png} (default: bench/results for a "
                    "full run, bench/results/quick for --quick, which git ignores, so a quick run never "
                    "overwrites the committed full-run results)")
    ap.add_argument("--note", default="", help="a sentence on the conditions (e.g. 'machine shared and busy'), "
                    "written into latest.md and latest.json")
    args = ap.parse_args()

    repeats = args.repeats or (3 if args.quick else 5)
    if repeats < 1:
        ap.error("--repeats must be >= 1")
    timeout = args.timeout or (60.0 if args.quick else 300.0)
    rows = [r for r in ROWS if not (args.quick and r.full_only)]
    langs = list(LANGS)
    if args.rows:
        wanted = [x.strip() for x in args.rows.split(",") if x.strip()]
        langs = [w for w in wanted if w in LANGS] + (list(LANGS) if "bindings" in wanted else [])
        wanted = [w for w in wanted if w not in LANGS and w != "bindings"]
        rows = []
        for w in wanted:  # an exact name, or a prefix: "mpmc" is mpmc_capN and mpmc_cap0
            hits = [ROW_BY_NAME[w]] if w in ROW_BY_NAME else [r for r in ROWS if r.name.startswith(w)]
            if not hits:
                ap.error(f"unknown row {w!r}; known: {', '.join(ROW_BY_NAME)}")
            rows += [r for r in hits if r not in rows and not (args.quick and r.full_only)]
    names = [x.strip() for x in args.impls.split(",") if x.strip()]
    if any(x not in IMPLS for x in names):
        ap.error(f"--impls takes a subset of {', '.join(IMPLS)}")

    no_chart = ensure_matplotlib()
    t_start = time.monotonic()
    info = machine()
    if args.no_build:
        impls = {}
        exes = {"xchan": BUILD / "bench" / "c" / "xchan-bench", "go": BENCH / "go" / "xchan-bench-go",
                "crossbeam": BENCH / "rust" / "target" / "release" / "xchan-bench-crossbeam"}
        for name in names:
            impls[name] = Impl(name, exes[name]) if exes[name].exists() else \
                Impl(name, None, "missing", f"{exes[name]} not built (--no-build)")
    else:
        impls = build(names, jobs=max(1, os.cpu_count() or 1))
    for name in IMPLS:
        if name not in impls:
            impls[name] = Impl(name, None, "not-selected", "left out with --impls")
    for im in impls.values():
        if im.status not in ("ok", "not-selected"):
            print(f"[run.py] {im.name}: {im.status.upper()}: {im.why}", flush=True)

    mode = "quick" if args.quick else "full"
    print(f"[run.py] {mode} run: {len(rows)} rows x {repeats} repeats, interleaved; "
          f"machine: {info.get('cpu')}, {info.get('nproc')} cpus, load {info['loadavg_start']}", flush=True)
    summaries, raw, md_rows = [], {}, []
    any_failure = any(im.status == "build-failed" for im in impls.values() if im.name == "xchan")
    for row in rows:
        n = max(1, int((row.n_quick if args.quick else row.n) * args.scale))
        cap = n if row.cap is None else row.cap
        runs: dict[str, list[Run]] = {name: [] for name in row.impls}
        row_repeats = min(repeats, row.max_repeats or repeats)
        if args.quick and row.unit == "B/item":
            row_repeats = 1  # memory: one sample is enough for a first look
        for rep in range(row_repeats):
            for name in row.impls:
                im = impls[name]
                if im.status != "ok":
                    continue
                if rep > 0 and runs[name] and runs[name][0].status == "missing":
                    continue  # the function is not there; once is enough
                r = run_one(im, row, n, cap, timeout)
                runs[name].append(r)
                if r.status in ("failed", "timeout", "error"):
                    any_failure = True
        s = summarize(row, runs, impls)
        s.update(n=n, cap=cap, repeats=row_repeats)
        summaries.append(s)
        raw[row.name] = {k: [vars(r) for r in v] for k, v in runs.items()}
        table = row_table(row, s, n, cap, row_repeats)
        md_rows.append(table)
        print("\n" + "\n".join(table), flush=True)

    # rows 14-16: each binding's own row program, the C core on the same shapes
    for lang in langs:
        ss, tables, r, failed = run_binding_lang(lang, impls["xchan"], args, repeats)
        summaries += ss
        md_rows += tables
        raw[f"binding:{lang}"] = r
        any_failure = any_failure or failed
        for t in tables:
            print("\n" + "\n".join(t), flush=True)

    elapsed = time.monotonic() - t_start
    info["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    info["harness_s"] = round(elapsed, 1)
    if args.note:
        info["note"] = args.note
    summ = summary_table(summaries)
    print("\n## Summary (xchan / best peer, median over median; lower is better)\n")
    print("\n".join(summ))
    print(f"\n[run.py] {mode} run took {elapsed:.0f} s", flush=True)

    out = Path(args.out) if args.out else (RESULTS / "quick" if args.quick else RESULTS)
    out.mkdir(parents=True, exist_ok=True)
    xver = next((e.get("version") for s in summaries for e in s["impls"].get("xchan", {}).get("extra", [])
                 if e.get("version")), "?")
    info["xchan"] = xver
    title = (f"xchan benchmarks ({mode}, {repeats} repeats) — {info.get('cpu')}, {info.get('nproc')} cpus — "
             f"{info['date']}")
    chart_err = no_chart or chart(summaries, out / "latest.png", title)
    if chart_err:
        print(f"[run.py] {chart_err}", flush=True)

    md = [f"# xchan benchmark results ({mode} run)", "",
          "Ratios are xchan / peer, median over median; lower is better. The summary gives each row's "
          "ratio against its best (fastest, or for memory smallest) peer. Rows 1-13, 17 and 18: every "
          "implementation ran interleaved, each row "
          f"{repeats} times (the 1M memory rows once). CPU is the child's user+sys time (os.wait4) per "
          "million messages, including process start-up. Rows 14-16 are the bindings' own row programs "
          "(bench/python, bench/node, bench/java), which time xchan and their peers in one process; "
          "'C core' is bench/c on the same shape, run just before, and 'binding adds' the difference."
          + (" Quick run: smaller N and 3 repeats, for a first look, not for publishing." if args.quick else ""),
          ""] + ([f"**Note:** {args.note}", ""] if args.note else []) + [
          "## Machine", "",
          f"- CPU: {info.get('cpu')}; nproc {info.get('nproc')}; MemTotal {info.get('memtotal')}",
          f"- kernel: {info['kernel']}",
          f"- date: {info['date']}; harness time {info['harness_s']} s; "
          f"load average at start {info['loadavg_start']}, at end {info['loadavg_end']}",
          f"- tree: {info['git']}; xchan {xver}",
          "- tools: " + "; ".join(f"{k} {v}" for k, v in info["tools"].items()),
          "- implementations: " + "; ".join(
              f"{im.name} {im.status}" + (f" ({im.why.splitlines()[0]})" if im.why else "")
              for im in impls.values()),
          "", "## Summary", ""] + summ + ["", "![ratios](latest.png)" if not chart_err else f"({chart_err})",
                                            "", "## Rows", ""]
    for t in md_rows:
        md += t + [""]
    (out / "latest.md").write_text("\n".join(md))
    result = {"mode": mode, "repeats": repeats, "machine": info,
              "implementations": {k: {"status": v.status, "why": v.why, "exe": str(v.exe) if v.exe else None}
                                  for k, v in impls.items()},
              "rows": summaries, "runs": raw}
    for s in result["rows"]:
        s["verdicts"] = [{"check": t, "met": v} for t, v in s["verdicts"]]
    (out / "latest.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    print(f"[run.py] wrote {out / 'latest.md'}, latest.json" + ("" if chart_err else ", latest.png"))
    return 1 if any_failure else 0


if __name__ == "__main__":
    sys.exit(main())
