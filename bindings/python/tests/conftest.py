"""Shared helpers for the xchan binding's tests."""
import subprocess
import sys
import time

import pytest



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
