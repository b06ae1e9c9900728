"""A real ``python -m gateway run`` process, for end-to-end tests."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from gateway.testing import free_port

__all__ = ["GatewayProcess"]

ROOT = Path(__file__).resolve().parents[2]


class GatewayProcess:
    """``rosetta run`` on a free port with ``config``; use as a context manager."""

    def __init__(self, config: dict[str, Any], folder: Path, workers: int = 1, stderr: int | None = None) -> None:
        self.port = free_port()
        self.path = folder / f"rosetta-{self.port}.yaml"
        self.path.write_text(yaml.safe_dump(config))
        # Logs go to a file, never an undrained pipe: once a pipe's 64 KiB fill up (access
        # lines add up), every process writing to it blocks, and shutdown hangs.
        self.log = folder / f"rosetta-{self.port}.log"
        self.workers = workers
        #: Where the gateway's stderr goes instead of the log file (a pipe's write end), if set.
        self.stderr = stderr
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> GatewayProcess:
        argv = [sys.executable, "-m", "gateway", "run", "--config", str(self.path),
                "--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("w") as log:
            stderr = log if self.stderr is None else self.stderr
            self.process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
        self._wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.log.read_text(errors="replace")
                raise RuntimeError(f"gateway exited with {self.process.returncode}: {err[-2000:]}")
            try:
                httpx.get(self.url + "/", timeout=0.5)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("gateway did not start in time")
