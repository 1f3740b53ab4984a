#!/usr/bin/env python3
"""ci/valgrind.py BUILD_DIR — run every ctest test of BUILD_DIR under
valgrind memcheck.

The test list (commands, working directories, environments) comes from
`ctest --show-only=json-v1`, so a test added to CMake is picked up here too.
A test fails when valgrind reports an error (--error-exitcode), a definite or
indirect leak, the test itself fails, or it runs past the timeout.

Environment:
  XCHAN_VALGRIND_EXCLUDE   regex of test names to skip (default: none)
  XCHAN_VALGRIND_TIMEOUT   seconds per test (default 900)
  XCHAN_JOBS               tests run at once (default 2)
Tests see XCHAN_UNDER_VALGRIND=1, so a stress test may shrink its loops.
"""
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

VALGRIND = [
    "valgrind",
    "--tool=memcheck",
    "--error-exitcode=99",
    "--leak-check=full",
    "--show-leak-kinds=definite,indirect",
    "--errors-for-leak-kinds=definite,indirect",
    "--track-fds=no",
    "--num-callers=30",
    # go tasks run on their own mmap'd stacks: stack switches are expected.
    "--max-stackframe=16777216",
    "--quiet",
]
SUPP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "valgrind.supp")


def list_tests(build_dir):
    out = subprocess.run(
        ["ctest", "--test-dir", build_dir, "--show-only=json-v1"],
        check=True, capture_output=True, text=True).stdout
    tests = []
    for t in json.loads(out).get("tests", []):
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        if props.get("DISABLED"):
            continue
        env = dict(os.environ)
        for kv in props.get("ENVIRONMENT", []):
            k, _, v = kv.partition("=")
            env[k] = v
        env["XCHAN_UNDER_VALGRIND"] = "1"
        tests.append({
            "name": t["name"],
            "command": t["command"],
            "cwd": props.get("WORKING_DIRECTORY", build_dir),
            "env": env,
        })
    return tests


def run_one(test, timeout):
    cmd = list(VALGRIND)
    if os.path.exists(SUPP):
        cmd.append("--suppressions=" + SUPP)
    cmd += test["command"]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=test["cwd"], env=test["env"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, errors="replace", timeout=timeout)
        rc, out = p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        rc = "timeout"
        out = (e.stdout or b"").decode(errors="replace") if isinstance(
            e.stdout, bytes) else (e.stdout or "")
    return test["name"], rc, out, time.monotonic() - t0


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    build_dir = os.path.abspath(sys.argv[1])
    exclude = os.environ.get("XCHAN_VALGRIND_EXCLUDE", "")
    timeout = float(os.environ.get("XCHAN_VALGRIND_TIMEOUT", "900"))
    jobs = int(os.environ.get("XCHAN_JOBS", "2"))

    tests = list_tests(build_dir)
    skipped = [t["name"] for t in tests if exclude and re.search(exclude, t["name"])]
    tests = [t for t in tests if t["name"] not in skipped]
    if not tests:
        print("valgrind: no tests to run")
        return 1
    if skipped:
        print("valgrind: skipping " + ", ".join(skipped))

    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futs = [pool.submit(run_one, t, timeout) for t in tests]
        for f in concurrent.futures.as_completed(futs):
            name, rc, out, secs = f.result()
            ok = rc == 0
            verdict = "ok" if ok else (
                "TIMEOUT" if rc == "timeout" else
                "VALGRIND ERRORS" if rc == 99 else "FAILED (exit %s)" % rc)
            print("valgrind: %-28s %-16s %7.1f s" % (name, verdict, secs),
                  flush=True)
            if not ok:
                failed.append(name)
                tail = out.splitlines()[-150:]
                print("\n".join("    " + line for line in tail), flush=True)
    print("valgrind: %d of %d tests clean%s" % (
        len(tests) - len(failed), len(tests),
        "" if not failed else "; failed: " + ", ".join(sorted(failed))))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
