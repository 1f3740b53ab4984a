"""The README's example runs as written and prints what it says."""
import os
import re

from conftest import run_python

README = os.path.join(os.path.dirname(__file__), "..", "README.md")


def example():
    text = open(README).read()
    m = re.search(r"## Ten lines\n\n```python\n(.*?)```", text, re.S)
    assert m, "README lost its example"
    return m.group(1)


def test_example_is_ten_lines():
    assert len(example().strip().splitlines()) == 10


def test_example_runs():
    code = example()
    expected = re.search(r"# (\[.*\])\s*$", code.strip()).group(1)
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == expected


def test_demo_runs():
    demo = os.path.join(os.path.dirname(__file__), "..", "examples", "demo.py")
    r = run_python(open(demo).read())
    assert r.returncode == 0, r.stderr
    assert "asyncio got {'sensor': 'probe-1', 'reading': 50}" in r.stdout
    assert "timeout won: True" in r.stdout
    assert ("task main.<locals>.fails failed: sensor offline\n"
            "failed task's result: None") in r.stdout


def test_go_without_asyncio_example_runs():
    text = open(README).read()
    m = re.search(r"## go without asyncio[^\n]*\n.*?```python\n(.*?)```",
                  text, re.S)
    assert m, "README lost its dispatch go example"
    code = m.group(1)
    expected = re.search(r"# (drained .*)\s*$", code.strip()).group(1)
    r = run_python(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == expected
