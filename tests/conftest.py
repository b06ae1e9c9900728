"""Shared test plumbing.

Servers the tests need are started for real. When one cannot be had here, the test
skips on a developer's machine but FAILS when ``CI=true``: CI never hides a
missing server behind a skip.
"""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_binary(name: str) -> str:
    """The path of executable ``name``; skip (or fail in CI) when it is missing."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if path is None:
        message = f"{name} is not installed (CI installs it from Debian; see .ci/run)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path
