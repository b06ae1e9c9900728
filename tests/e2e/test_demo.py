"""`rosetta demo` and `rosetta run` as real processes: the printed curl lines work."""

import os
import re
import shlex
import signal
import subprocess
import sys
import time

import httpx
import pytest

from gateway.testing import free_port
from tests.conftest import require_binary


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


def test_rosetta_run_serves_and_stops_gracefully_on_sigterm(tmp_path):
    port = free_port()
    config = tmp_path / "rosetta.yaml"
    config.write_text(
        "upstreams:\n  f: {type: 'gateway.testing:FakeTranslator', delay: 0.5}\n"
        "routes:\n  - {prefix: /f, upstream: f, auth: none}\n"
    )
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "run", "--config", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url)
        with httpx.Client(base_url=url, timeout=10) as client:
            import threading

            result = {}
            slow = threading.Thread(target=lambda: result.update(r=client.post("/f/Echo", json={"in": "flight"})))
            slow.start()
            time.sleep(0.15)
            process.send_signal(signal.SIGTERM)
            slow.join()
        assert result["r"].status_code == 200, "a request in flight finishes during graceful shutdown"
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert "Traceback" not in process.stderr.read()
