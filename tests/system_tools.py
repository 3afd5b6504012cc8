"""Programs the suite runs outside Python, installed by scripts/system-deps.sh.

Where one is missing the tests that need it are skipped with the reason, except under CI
(`CI` set), where they run and fail: a machine without the set-up must not pass by skipping.
"""
from __future__ import annotations

import os
import shutil

import pytest

STRICT = bool(os.environ.get("CI"))


def requires(present: bool, reason: str):
    return pytest.mark.skipif(not present and not STRICT, reason=reason)


def requires_command(*commands: str):
    missing = [c for c in commands if shutil.which(c) is None]
    return requires(not missing, f"{', '.join(missing)} missing: scripts/system-deps.sh installs it (Debian)")
