"""`rosetta run` whose stderr is a pipe nobody reads: it serves on, ends on SIGTERM, and
reports the lines it had to drop once its reader reads again.

Each gateway writes to a real pipe; the test holds the read end and reads it, or not.
Every bound is a timeout, so a gateway that blocks on its log fails the test, never hangs it.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson

from tests.e2e.gateway_proc import GatewayProcess

CONFIG = {
    "server": {"graceful_shutdown": 1},
    "upstreams": {"f": {"type": "gateway.testing:FakeTranslator"}},
    "routes": [{"prefix": "/f", "upstream": "f", "auth": "none"}],
}
# A path long enough that each access line is about 6 KB: a few hundred requests fill
# the pipe and the gateway's log buffer, so lines must be dropped.
LONG_PATH = "/f/" + "x" * 6000


@contextmanager
def gateway_on_a_pipe(folder: Path) -> Iterator[tuple[GatewayProcess, int]]:
    """A gateway whose stderr is a pipe; yields it and the pipe's read end, killed after."""
    read_end, write_end = os.pipe()
    try:
        gateway = GatewayProcess(CONFIG, folder, stderr=write_end)
        with gateway:
            os.close(write_end)
            write_end = -1
            try:
                yield gateway, read_end
            finally:
                stop(gateway.process)
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)


def stop(process: subprocess.Popen[str] | None) -> None:
    """Kill ``process`` if it still runs, and reap it."""
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def sigterm_exit_status(process: subprocess.Popen[str] | None, within: float = 5.0) -> int | None:
    """The status ``process`` exits with on SIGTERM, or None when it is still running after ``within`` s."""
    assert process is not None
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        return None


def statuses(url: str, path: str, count: int, method: str = "POST") -> list[int]:
    """The status of each of ``count`` requests over one connection; a request unanswered in 2 s raises."""
    with httpx.Client(base_url=url, timeout=2.0) as client:
        return [client.request(method, path, json={}).status_code for _ in range(count)]


def read_until(fd: int, marker: bytes, within: float = 5.0) -> bytes:
    """What is read from the pipe ``fd`` until ``marker`` was seen (at most ``within`` s)."""
    deadline, data = time.monotonic() + within, b""
    while marker not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            data += chunk
    return data


def test_a_gateway_whose_log_reader_stalls_keeps_answering_and_ends_on_sigterm(tmp_path):
    with gateway_on_a_pipe(tmp_path) as (gateway, _):
        answered = statuses(gateway.url, "/f/Echo", 2000)
        assert answered == [200] * 2000
        assert sigterm_exit_status(gateway.process) == 0


def test_lines_dropped_while_the_reader_stalled_are_counted_once_it_reads_again(tmp_path):
    with gateway_on_a_pipe(tmp_path) as (gateway, read_end):
        sent = len(statuses(gateway.url, LONG_PATH, 300, method="GET"))
        data = read_until(read_end, b"lines dropped")  # the reader reads again
        assert statuses(gateway.url, "/f/Echo", 1) == [200]
        lines = (data + read_until(read_end, b'"/f/Echo"')).splitlines()
        notices = [orjson.loads(line) for line in lines if b"log output stalled" in line]
        assert notices and all(notice["level"] == "warning" for notice in notices)
        assert all(notice["msg"] == f"log output stalled: {notice['dropped']} lines dropped" for notice in notices)
        written = sum(LONG_PATH.encode() in line for line in lines)
        assert written + sum(notice["dropped"] for notice in notices) == sent  # each line written or counted
        assert b'"/f/Echo"' in lines[-1]  # and writing goes on
        assert sigterm_exit_status(gateway.process) == 0
