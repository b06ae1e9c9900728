"""The benchmark harness: start servers on loopback, load them, collect rows and ratios.

A scenario (``bench/scenarios/*.py``) receives one :class:`Harness` and uses it
to start what it measures and to report::

    @scenario("rest", "REST passthrough against bare Sanic and nginx proxy_pass")
    def rest(h: Harness) -> None:
        upstream = h.upstream()
        gateway = h.rosetta({"upstreams": {...}, "routes": [...]})
        direct = h.measure("rest", "upstream (direct)", upstream + "/r/x")
        ours = h.measure("rest", "Rosetta", gateway + "/r/x")
        h.ratio("rest", "Rosetta / upstream throughput", ours.rps / direct.rps, at_least=0.1)

Every process it starts runs in its own session and is stopped by :meth:`close`
(also on Ctrl-C, and by the kernel if the harness itself dies).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench import load
from bench.payload import PAYLOAD

__all__ = ["REPO", "Harness", "LoadSpec", "Ratio", "Row"]

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LoadSpec:
    """What each load request sends (wrk gets it as a Lua script)."""

    method: str = "GET"
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Row:
    """One measured target: throughput and latency (milliseconds)."""

    scenario: str
    target: str
    rps: float
    p50_ms: float
    p99_ms: float
    p50_1c_ms: float | None = None
    errors: int = 0
    tool: str = "wrk"
    requests: int = 0
    cpu_us: float | None = None  # CPU time of the target's processes per request


@dataclass
class Ratio:
    """One figure compared with its target."""

    scenario: str
    label: str
    value: float
    target: float
    at_least: bool
    unit: str = ""

    @property
    def ok(self) -> bool:
        return self.value >= self.target if self.at_least else self.value <= self.target

    def line(self) -> str:
        sign = "≥" if self.at_least else "≤"
        verdict = "ok" if self.ok else "MISSED"
        return (f"{self.scenario}: {self.label} = {self.value:.2f}{self.unit} "
                f"(target {sign} {self.target:g}{self.unit}) {verdict}")


@dataclass
class Harness:
    """Starts processes, runs the load generator, and keeps the results."""

    duration: float = 10.0
    warmup: float = 2.0
    connections: int = 50
    latency_duration: float = 4.0
    threads: int = 1
    use_wrk: bool = True
    use_nginx: bool = True
    rows: list[Row] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="rosetta-bench-"))
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._groups: dict[str, int] = {}  # origin → process group serving it
        self.has_wrk = self.use_wrk and shutil.which("wrk") is not None
        self.nginx_bin = shutil.which("nginx") or _sbin("nginx")
        self.has_nginx = self.use_nginx and self.nginx_bin is not None

    # -- processes ------------------------------------------------------------------

    def free_port(self) -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def spawn(self, name: str, argv: list[str], ready_url: str, *, env: dict[str, str] | None = None,
              timeout: float = 60.0, cwd: Path = REPO) -> subprocess.Popen[bytes]:
        """Start ``argv`` in ``cwd`` (own session, log in the temp dir) and wait until ``ready_url`` answers."""
        log_path = self._fresh(f"{name}.log")
        log = open(log_path, "wb")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen(
            argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, preexec_fn=_child_setup,
        )
        self._procs.append((name, proc))
        _wait_ready(name, proc, ready_url, timeout, log_path)
        self._groups[_origin(ready_url)] = proc.pid
        return proc

    def _fresh(self, name: str) -> Path:
        """A path in the temp dir no earlier process of this run used."""
        path, n = self.tmp / name, 1
        while path.exists():
            n += 1
            path = self.tmp / f"{name}-{n}"
        return path

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """Stop one started process and its children."""
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    print(f"warning: process {proc.pid} did not exit", file=sys.stderr)
        if _group_stats(proc.pid):  # children left behind in its group
            _signal_group(proc, signal.SIGKILL)
        self._procs = [(n, p) for n, p in self._procs if p is not proc]

    def close_scenario(self) -> None:
        """Stop every process started so far (the end of a scenario)."""
        self.close_scenario_processes(keep=0)

    def close_scenario_processes(self, keep: int) -> None:
        """Stop the processes started so far except the first ``keep``."""
        for _, proc in reversed(self._procs[keep:]):
            self.stop(proc)

    def close(self) -> None:
        """Stop every started process and remove the temp dir."""
        self.close_scenario()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- servers -------------------------------------------------------------------

    def upstream(self, name: str = "upstream") -> str:
        """The fast upstream serving the 1 KB JSON: nginx, or Python when nginx is absent."""
        if self.has_nginx:
            return self.nginx(name, _STATIC.format(body=PAYLOAD.decode()))
        port = self.free_port()
        argv = [sys.executable, "bench/apps/upstream.py", str(port)]
        self.spawn(name, argv, f"http://127.0.0.1:{port}/")
        return f"http://127.0.0.1:{port}"

    def nginx_proxy(self, upstream: str, name: str = "nginx-proxy") -> str:
        """nginx ``proxy_pass`` (keep-alive to the upstream) in front of ``upstream``."""
        return self.nginx(name, _PROXY.format(upstream=upstream.split("://", 1)[1]))

    def nginx(self, name: str, server_block: str) -> str:
        """Run one nginx (one worker) with ``server_block`` (``{port}`` filled in)."""
        assert self.nginx_bin is not None
        port = self.free_port()
        prefix = self._fresh(name)
        prefix.mkdir()
        conf = prefix / "nginx.conf"
        conf.write_text(_NGINX.format(prefix=prefix, server=server_block.replace("{port}", str(port))))
        os.chmod(prefix, 0o755)
        argv = [self.nginx_bin, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
        self.spawn(name, argv, f"http://127.0.0.1:{port}/")
        return f"http://127.0.0.1:{port}"

    def sanic(self, mode: str = "bare", upstream: str = "", name: str | None = None) -> str:
        """A one-worker Sanic server from ``bench/apps/sanic_app.py`` (bare or forwarding)."""
        port = self.free_port()
        argv = [sys.executable, "bench/apps/sanic_app.py", mode, str(port), upstream]
        self.spawn(name or f"sanic-{mode}", argv, f"http://127.0.0.1:{port}/ready")
        return f"http://127.0.0.1:{port}"

    def rosetta(self, config: dict[str, Any], ready_path: str = "/", name: str = "rosetta",
                source: Path = REPO) -> str:
        """Rosetta (``python -m gateway run``) serving ``config``; its ``server`` is filled in.

        ``source``: the checkout whose ``gateway`` runs (another commit's, to compare).
        """
        port = self.free_port()
        server = {"host": "127.0.0.1", "port": port, "workers": 1, **config.get("server", {})}
        path = self._fresh(f"{name}.yaml")
        path.write_text(yaml.safe_dump({**config, "server": server}, sort_keys=False))
        argv = [sys.executable, "-m", "gateway", "run", "--config", str(path)]
        self.spawn(name, argv, f"http://127.0.0.1:{port}{ready_path}", cwd=source)
        return f"http://127.0.0.1:{port}"

    # -- load ---------------------------------------------------------------------------

    def measure(self, scenario: str, target: str, url: str, spec: LoadSpec = LoadSpec(), *,
                one_connection: bool = True) -> Row:
        """Warm up, then load ``url`` at ``connections``; optionally p50 at one connection."""
        print(f"  {scenario}: measuring {target} …", flush=True)
        self._load(url, spec, self.connections, self.warmup)
        group = self._groups.get(_origin(url))
        cpu = _group_cpu(group)
        row = self._load(url, spec, self.connections, self.duration)
        if group is not None and row.requests:
            row.cpu_us = (_group_cpu(group) - cpu) / row.requests * 1e6
        row.scenario, row.target = scenario, target
        if one_connection:
            row.p50_1c_ms = self._load(url, spec, 1, self.latency_duration).p50_ms
        self.rows.append(row)
        return row

    def ratio(self, scenario: str, label: str, value: float, *, at_least: float | None = None,
              at_most: float | None = None, unit: str = "") -> Ratio:
        """Record and print one figure against its target."""
        target = at_least if at_least is not None else at_most
        assert target is not None, "give at_least or at_most"
        ratio = Ratio(scenario, label, value, target, at_least is not None, unit)
        self.ratios.append(ratio)
        print("  " + ratio.line(), flush=True)
        return ratio

    def note(self, scenario: str, text: str) -> None:
        print(f"  {scenario}: {text}", flush=True)

    def _load(self, url: str, spec: LoadSpec, connections: int, duration: float) -> Row:
        if self.has_wrk:
            return load.wrk(url, spec, connections, duration, self.threads, self.tmp)
        return load.python_load(url, spec, connections, duration)


_NGINX = """
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    {server}
}}
"""

_STATIC = """
    server {{
        listen 127.0.0.1:{{port}} backlog=1024;
        location / {{
            default_type application/json;
            return 200 '{body}';
        }}
    }}
"""

_PROXY = """
    upstream up {{ server {upstream}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{{port}} backlog=1024;
        location / {{
            proxy_pass http://up;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
"""


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _group_cpu(group: int | None) -> float:
    """CPU seconds (user + system) used so far by the processes of ``group``."""
    if group is None:
        return 0.0
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in _group_stats(group))
    return ticks / os.sysconf("SC_CLK_TCK")


def _group_stats(group: int) -> list[list[str]]:
    """The ``/proc/PID/stat`` fields (after the command name) of every process in ``group``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp
            found.append(fields)
    return found


def _sbin(name: str) -> str | None:
    for folder in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    return None


def _child_setup() -> None:
    """In the child: its own session, and die with the harness (Linux)."""
    os.setsid()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def _wait_ready(name: str, proc: subprocess.Popen[bytes], url: str, timeout: float, log: Path) -> None:
    host_port, _, path = url.split("://", 1)[1].partition("/")
    host, _, port = host_port.partition(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{_tail(log)}")
        try:
            conn = http.client.HTTPConnection(host, int(port), timeout=2)
            conn.request("GET", "/" + path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer {url} within {timeout:g}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
