"""Shared helpers for the xchan binding's tests."""
import os
import subprocess
import sys
import time

import pytest

import xchan
from xchan import _xchan


def requires_core(*fns):
    """Skip (naming the missing function) while the loaded core lacks a piece
    of the binding contract that is still landing; never a silent pass."""
    missing = [f for f in fns if not _xchan._core_has(f)]
    return pytest.mark.skipif(bool(missing),
                              reason="core lacks " + ", ".join(missing))


def wait_until(pred, timeout=10.0, what="condition"):
    """Poll pred until true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.002)


def run_python(code, timeout=60, **kw):
    """Run code in a fresh interpreter (for process-wide state: executor
    factory, signals, fork, shutdown)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=timeout, **kw)


_fork_probe = None


def core_detects_fork():
    """True once the core reports XCHAN_EFORK in a forked child (issue 9);
    until then the fork test is skipped with that reason."""
    global _fork_probe
    if _fork_probe is None:
        r = run_python("""
import os, xchan
ch = xchan.Chan(1)
pid = os.fork()
if pid == 0:
    try:
        ch.offer(1)
        os._exit(1)
    except xchan.EFORK:
        os._exit(0)
_, st = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(st))
""", timeout=30)
        _fork_probe = r.stdout.strip() == "0"
    return _fork_probe
