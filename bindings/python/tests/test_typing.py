"""The shipped type stubs: they match the runtime (mypy's stubtest) and type
a sample user under mypy --strict.  Needs mypy (the CI stage installs it)."""
import os
import subprocess
import sys

import pytest

pytest.importorskip("mypy", reason="mypy is not installed")
HERE = os.path.dirname(os.path.abspath(__file__))


def mypy(*args):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True,
                          text=True, timeout=600, cwd=HERE)


def test_stubs_match_runtime():
    r = mypy("mypy.stubtest", "xchan", "--allowlist",
             os.path.join(HERE, "stubtest-allowlist.txt"))
    assert r.returncode == 0, r.stdout + r.stderr


def test_typed_user_checks_strict():
    r = mypy("mypy", "--strict", "--no-incremental", os.path.join(HERE, "typed_use.py"))
    assert r.returncode == 0, r.stdout + r.stderr
