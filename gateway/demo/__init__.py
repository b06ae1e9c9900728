"""``rosetta demo``: the bundled backends and a gateway in front of them, in one command.

Each backend is a module with ``start(host, port)``, ``PORT_ENV`` (the variable
``demo.yaml`` reads its port from) and ``CURL_LINES`` to print. The runner
starts every backend in its own process on a free port, then serves the
gateway in the foreground until Ctrl-C.
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

__all__ = ["BACKENDS", "DEMO_CONFIG", "run_demo"]

DEMO_CONFIG = Path(__file__).with_name("demo.yaml")

#: Demo backend modules, started in this order.
BACKENDS: tuple[str, ...] = (
    "gateway.demo.rest_backend",
    "gateway.demo.xml_backend",
    "gateway.demo.soap_backend",
    "gateway.demo.grpc_backend",
)


def run_demo(host: str = "127.0.0.1", port: int = 8080) -> int:
    """Start the backends, print curl lines, serve the gateway until interrupted."""
    from gateway.app import create_app_from_file
    from gateway.auth.demo import DEMO_SECRET_ENV, demo_secret, demo_token
    from gateway.cli import serve
    from gateway.config import load_config

    processes = _start_backends()
    try:
        os.environ["ROSETTA_DEMO_HOST"], os.environ["ROSETTA_DEMO_PORT"] = host, str(port)
        # A fresh signing secret each run: the demo token is never written anywhere.
        os.environ.setdefault(DEMO_SECRET_ENV, demo_secret())
        config = load_config(DEMO_CONFIG)
        token = demo_token(os.environ[DEMO_SECRET_ENV])
        print(_banner(f"http://{host}:{port}", token), flush=True)
        serve(config, partial(create_app_from_file, DEMO_CONFIG))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
    return 0


def _start_backends() -> list[subprocess.Popen[bytes]]:
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name in BACKENDS:
            module = importlib.import_module(name)
            port = _free_port()
            os.environ[module.PORT_ENV] = str(port)
            command = [sys.executable, "-m", "gateway.demo.backend", name, str(port)]
            processes.append(subprocess.Popen(command))
            _wait_for_port(port, name, processes[-1])
    except BaseException:
        # One backend failed: stop the ones already running before giving up.
        for process in processes:
            process.terminate()
        raise
    return processes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, name: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"demo backend {name} exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"demo backend {name} did not open port {port} within {timeout:g} s")


def _banner(gateway: str, token: str) -> str:
    lines = [f"Rosetta demo: gateway on {gateway}. Try:", ""]
    for name in BACKENDS:
        module = importlib.import_module(name)
        lines += [f"  {line.format(gateway=gateway, token=token)}" for line in module.CURL_LINES]
    lines += ["", "Ctrl-C stops the gateway and every demo backend."]
    return "\n".join(lines)
