#!/usr/bin/env python3
"""bench/ab.py — two builds of xchan side by side, interleaved with the peers.

For a change to the core: runs the same rows of bench/c on a BEFORE build and
an AFTER build of xchan-bench, interleaved with Go and crossbeam (xchan-before,
xchan-after, Go, crossbeam, xchan-before, ...), and prints the median and min
ns/msg and CPU s per million messages of each, plus after/before and
after/crossbeam (or after/Go) ratios.  Writes nothing but stdout.

    python3 bench/ab.py --before OLD/build-bench/bench/c/xchan-bench \\
        --after build-bench/bench/c/xchan-bench --rows spsc_capN,mpsc --repeats 7

The Go and crossbeam programs must be built (bench/run.py builds them).
Rows and sizes are those of bench/run.py (its ROWS table).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import run as bench_run  # noqa: E402  (the rows table)


def run_once(exe: str, impl: str, row, n: int, cap: int):
    cmd = [exe, row.prog_row, "--n", str(n), "--cap", str(cap)]
    env = dict(os.environ)
    if impl == "go":
        env["GOMAXPROCS"] = "2"
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    out = p.stdout.read().decode()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        return None, p.returncode
    d = json.loads(out.strip().splitlines()[-1])
    msgs = d["extra"].get("msgs", n)
    return (d["ns_per_msg"], (ru.ru_utime + ru.ru_stime) / msgs * 1e6), 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--rows", required=True)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--also", action="append", default=[], metavar="NAME=EXE",
                    help="another xchan build to interleave (repeatable)")
    args = ap.parse_args()
    impls = [("before", args.before), ("after", args.after)] + \
        [tuple(a.split("=", 1)) for a in args.also] + [
        ("go", str(HERE / "go" / "xchan-bench-go")),
             ("crossbeam", str(HERE / "rust" / "target" / "release" / "xchan-bench-crossbeam"))]
    impls = [(i, e) for i, e in impls if Path(e).exists()]
    rows = []
    for name in args.rows.split(","):
        rows += [r for r in bench_run.ROWS if r.name == name or r.name.startswith(name)]
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, load {os.getloadavg()}, "
          f"repeats {args.repeats}, impls {[i for i, _ in impls]}")
    print("| row | impl | median ns/msg | min | CPU s/M msgs | after/this |")
    print("|---|---|---:|---:|---:|---:|")
    for row in rows:
        n = max(1, int(row.n * args.scale))
        cap = row.cap if row.cap is not None else n
        res = {i: [] for i, _ in impls}
        for _ in range(args.repeats):
            for impl, exe in impls:
                if impl in ("go", "crossbeam") and impl not in row.impls:
                    continue
                r, rc = run_once(exe, "go" if impl == "go" else impl, row, n, cap)
                if r is not None:
                    res[impl].append(r)
                elif rc not in (3, 4):
                    print(f"# {row.name} {impl}: exit {rc}")
        med = {i: statistics.median(x[0] for x in v) for i, v in res.items() if v}
        for impl, v in res.items():
            if not v:
                continue
            ns = [x[0] for x in v]
            cpu = statistics.median(x[1] for x in v)
            ratio = med["after"] / med[impl] if "after" in med else float("nan")
            print(f"| {row.name} | {impl} | {med[impl]:.1f} | {min(ns):.1f} | {cpu:.3f} | {ratio:.2f}x |")
        sys.stdout.flush()
    print(f"# end {time.strftime('%H:%M:%S', time.gmtime())} UTC, load {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
