"""`rosetta demo` and `rosetta run` as real processes: the printed curl lines work."""

import asyncio
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from gateway.testing import free_port
from tests.conftest import require_binary
from tests.e2e.http_upstream import http_upstream


def wait_for_banner(process, timeout=60):
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        lines.append(line.rstrip("\n"))
        if line.startswith("Ctrl-C stops"):
            return lines
    raise AssertionError("the demo printed no banner:\n" + "\n".join(lines))


def wait_until_serving(url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answers at {url}")


@pytest.fixture(scope="module")
def demo():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "demo", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        lines = wait_for_banner(process)
        wait_until_serving(f"http://127.0.0.1:{port}")
        yield port, lines
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def curl_lines(lines):
    return [line.strip() for line in lines if line.strip().startswith("curl ")]


def test_the_demo_prints_curl_lines_for_its_backends(demo):
    _, lines = demo
    assert len(curl_lines(lines)) >= 3


def test_every_printed_curl_line_works(demo):
    curl = require_binary("curl")
    for line in curl_lines(demo[1]):
        expected = re.search(r"#\s*expect\s+(\d{3})", line)
        argv = shlex.split(line.split(" #")[0])
        argv[0] = curl
        out = subprocess.run([*argv, "-w", "\n%{http_code}"], capture_output=True, text=True, timeout=30)
        body, _, code = out.stdout.rpartition("\n")
        assert out.returncode == 0, f"{line}: curl exited {out.returncode}"
        if expected:
            assert code == expected.group(1), f"{line}: {code} {body}"
        else:
            assert code.startswith("2"), f"{line}: answered {code}: {body}"


async def test_rosetta_run_serves_and_stops_gracefully_on_sigterm(tmp_path):
    async with http_upstream("slow") as upstream:
        upstream.delay = 0.5
        port = free_port()
        config = tmp_path / "rosetta.yaml"
        config.write_text(
            f"upstreams:\n  slow: {{type: rest, url: '{upstream.url}'}}\n"
            "routes:\n  - {prefix: /s, upstream: slow, auth: none}\n"
        )
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "run", "--config", str(config), "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            await asyncio.to_thread(wait_until_serving, url)
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                in_flight = asyncio.ensure_future(client.post("/s/work", json={"in": "flight"}))
                # Signal only once the upstream holds the call: it is then in flight for certain.
                await asyncio.wait_for(upstream.arrived.wait(), 10)
                process.send_signal(signal.SIGTERM)
                response = await in_flight
            assert response.status_code == 200, "a request in flight finishes during graceful shutdown"
            assert response.json()["from"] == "slow"
            assert await asyncio.to_thread(process.wait, 20) == 0
        finally:
            if process.poll() is None:
                process.kill()
        assert "Traceback" not in process.stderr.read()


def _spawned_children(pid):
    """The spawned children of ``pid``: the process holding Sanic's shared state, then its workers."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                args = cmdline.read()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and b"spawn_main" in args:
            found.append(int(entry))
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _fake_gateway(tmp_path):
    """A config serving the fake translator under ``/f``, and the environment to run it in."""
    config = tmp_path / "rosetta.yaml"
    config.write_text(
        "upstreams:\n  f: {type: 'gateway.testing:FakeTranslator'}\n"
        "routes:\n  - {prefix: /f, upstream: f, auth: none}\n"
    )
    return config, {**os.environ, "PYTHONPATH": os.getcwd()}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_while_workers_start_stops_every_process(tmp_path):
    config, env = _fake_gateway(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "run", "--config", str(config), "--port", str(free_port()),
         "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )
    children = []
    try:
        # Sanic's manager installs its signal handlers before it starts its workers: once a
        # worker exists beside the shared-state process, a SIGTERM reaches the manager while
        # the workers are still starting.
        deadline = time.monotonic() + 30
        while len(children) < 2 and time.monotonic() < deadline and process.poll() is None:
            children = _spawned_children(process.pid)
            time.sleep(0.01)
        assert len(children) >= 2, "Sanic's worker manager started no worker"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in _spawned_children(process.pid) + children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in children if _alive(pid)], "a process outlived the gateway"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    # A worker stopped before its interpreter has finished starting may print Python's own
    # KeyboardInterrupt; nothing of Rosetta's may fail.
    assert "/gateway/" not in process.stderr.read()


def test_rosetta_run_on_a_taken_port_says_so_without_a_traceback(tmp_path):
    config, env = _fake_gateway(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for workers in ("1", "2"):
            out = subprocess.run(
                [sys.executable, "-m", "gateway", "run", "--config", str(config), "--port", str(port),
                 "--workers", workers],
                capture_output=True, text=True, env=env, timeout=60,
            )
            assert out.returncode == 1, out.stderr
            assert f"error: server: cannot listen on 127.0.0.1:{port}: Address already in use" in out.stderr
            assert "Traceback" not in out.stderr
