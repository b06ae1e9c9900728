"""`rosetta run` as an operator meets it: start-up failures, dying workers, every process accounted for.

Each gateway runs in its own session (process group): whatever it does to its group
cannot reach the test runner, and the group is killed whatever the outcome.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import yaml

from gateway.testing import free_port
from tests.e2e.gateway_proc import ROOT

PID = "tests.e2e.pid_translator:PidTranslator"


def write_config(folder: Path, config: dict) -> Path:
    path = folder / "rosetta.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def rosetta_run(config: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "gateway", "run", "--config", str(config), *options]


@contextmanager
def session(argv: list[str], log: Path) -> Iterator[subprocess.Popen[str]]:
    """``argv`` in a new session, stdout piped and stderr to ``log``; its whole group is killed after."""
    with log.open("w") as err:
        process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True,
                                   start_new_session=True)
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``."""
    members = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


def lingering(pgid: int, grace: float = 5.0) -> list[int]:
    """Members of group ``pgid`` still alive after ``grace`` seconds (Python's multiprocessing helpers
    end on their own once the gateway is gone, a moment later)."""
    deadline = time.monotonic() + grace
    while (members := group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return members


def error_lines(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if line.startswith("error: ")]


def test_a_worker_that_cannot_start_ends_the_gateway_with_status_1_and_spares_its_parent(tmp_path):
    # A gRPC upstream whose reflection service is unreachable: every worker fails to start.
    config = write_config(tmp_path, {
        "upstreams": {"books": {"type": "grpc", "target": f"127.0.0.1:{free_port()}", "reflection": True}},
        "routes": [{"prefix": "/b", "upstream": "books", "auth": "none"}],
    })
    # The parent is a shell script, as in a container's entry point: it must live on to report.
    script = '"$@"; echo "gateway exited with $?"'
    argv = ["sh", "-c", script, "sh", *rosetta_run(config, "--port", str(free_port()), "--workers", "2")]
    log = tmp_path / "stderr.log"
    with session(argv, log) as process:
        out, _ = process.communicate(timeout=60)
        assert process.returncode == 0, "the gateway's parent was killed"
        assert out.strip() == "gateway exited with 1"
        assert not lingering(process.pid), "a process outlived the gateway"
    errors = error_lines(log)
    assert len(errors) == 1, log.read_text()
    assert errors[0].startswith("error: upstreams.books: server reflection failed")
    assert "Traceback" not in log.read_text()


def test_a_host_name_that_does_not_resolve_is_one_error_line_not_a_traceback(tmp_path):
    config = write_config(tmp_path, {
        "upstreams": {"p": {"type": PID}}, "routes": [{"prefix": "/p", "upstream": "p", "auth": "none"}],
    })
    for workers in ("1", "2"):
        port = free_port()
        log = tmp_path / f"stderr-{workers}.log"
        argv = rosetta_run(config, "--host", "no-such-host.invalid", "--port", str(port), "--workers", workers)
        with session(argv, log) as process:
            assert process.wait(timeout=60) == 1
        assert error_lines(log) == [f"error: server: cannot listen on no-such-host.invalid:{port}: "
                                    "the host name does not resolve"], log.read_text()
        assert "Traceback" not in log.read_text()


def serving_pids(url: str, want: int, timeout: float = 30.0) -> set[int]:
    """Process ids answering ``url`` (each call on a new connection) once ``want`` differ, or at the deadline."""
    pids: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(pids) < want and time.monotonic() < deadline:
        try:
            pids.add(httpx.get(url, headers={"Connection": "close"}, timeout=2).json()["pid"])
        except httpx.TransportError:
            time.sleep(0.05)
    return pids


def test_a_worker_killed_while_serving_is_logged_and_replaced(tmp_path):
    config = write_config(tmp_path, {
        "upstreams": {"p": {"type": PID}}, "routes": [{"prefix": "/p", "upstream": "p", "auth": "none"}],
    })
    port = free_port()
    url = f"http://127.0.0.1:{port}/p/pid"
    log = tmp_path / "stderr.log"
    with session(rosetta_run(config, "--port", str(port), "--workers", "2"), log) as process:
        first = serving_pids(url, 2)
        assert len(first) == 2, "both workers must be serving"
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        second = serving_pids(url, 2, timeout=15) - {victim}
        assert len(second) == 2, "the dead worker was not replaced"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    died = [line for line in log.read_text().splitlines() if f"pid {victim}" in line and "SIGKILL" in line]
    assert died, "no log line tells the operator a worker died"
