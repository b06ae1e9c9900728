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


# The secret scan (tests/e2e/test_secret_scan.py): capture every log record of
# the session, and run the scan after every other test.
def pytest_configure(config: pytest.Config) -> None:
    from tests.e2e import log_capture

    log_capture.install()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from tests.e2e import log_capture

    log_capture.run_last(items)


@pytest.fixture(scope="session")
def redis_server():  # type: ignore[no-untyped-def]
    """A real redis-server on a free loopback port for the whole session, killed after."""
    from tests.redis_proc import RedisProcess

    server = RedisProcess.start(require_binary("redis-server"))
    yield server
    server.stop()
