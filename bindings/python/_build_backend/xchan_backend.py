"""PEP 517 backend for xchan: scikit-build-core, plus a self-contained sdist.

The binding lives in bindings/python of the xchan repository and builds the
core from the repository's CMake project (two directories up).  An sdist
made from here would not contain that core, so `build_sdist` first copies
the parts of the repository the core build needs into `_core/` next to
pyproject.toml (listed in pyproject's sdist.include), builds the sdist, then
removes the copy.  CMakeLists.txt prefers `_core/` when it exists (an
unpacked sdist) and the repository otherwise (a checkout).

Every other hook is scikit-build-core's own.
"""
from __future__ import annotations

import os
import shutil

from scikit_build_core.build import *  # noqa: F401,F403  (re-export the hooks)
from scikit_build_core.build import build_sdist as _skbuild_build_sdist

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_REPO = os.path.normpath(os.path.join(_HERE, "..", ".."))
_CORE_COPY = os.path.join(_HERE, "_core")
# What the core's CMake project reads with tests and examples off.
_CORE_PARTS = ["CMakeLists.txt", "core", "cmake", "LICENSE"]


def _copy_core() -> bool:
    if not os.path.isfile(os.path.join(_REPO, "core", "include", "xchan", "xchan.h")):
        # Already an unpacked sdist: _core/ is there.
        return False
    shutil.rmtree(_CORE_COPY, ignore_errors=True)
    os.makedirs(_CORE_COPY)
    for part in _CORE_PARTS:
        src = os.path.join(_REPO, part)
        dst = os.path.join(_CORE_COPY, part)
        if os.path.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*_test.c", "testing"))
        elif os.path.isfile(src):
            shutil.copy2(src, dst)
    return True


def build_sdist(sdist_directory, config_settings=None):
    copied = _copy_core()
    try:
        return _skbuild_build_sdist(sdist_directory, config_settings)
    finally:
        if copied:
            shutil.rmtree(_CORE_COPY, ignore_errors=True)
