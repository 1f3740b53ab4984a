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
