"""Rate limits: what counting every call costs the REST passthrough.

Three Rosetta processes in one run, the same REST passthrough to the fast
upstream: no limit; a rate limit that never triggers with ``memory://``
counters; the same with ``redis://`` counters (a local ``redis-server``).
They are measured in interleaved rounds and the best run of each is kept,
so a burst of other work on the machine does not decide the ratio.

Targets: memory ≥ 0.95 × unlimited throughput (≤ 5 % cost), Redis ≥ 0.75 ×
(≤ 25 %). CPU per call of the gateway (and of redis-server) is printed too:
on a shared machine it moves less than throughput does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from typing import Any

from bench.harness import Harness, Row
from bench.scenarios import scenario
from bench.scenarios.rest import PATH

NEVER = "100000000/minute"  # a limit no benchmark reaches
ROUNDS = 3
TARGETS = {"memory://": 0.95, "redis://": 0.75}  # least throughput share kept, per storage


def limited_config(upstream: str, storage: str | None) -> dict[str, Any]:
    """The REST passthrough, with a never-reached rate limit on ``storage`` (``None``: no limit)."""
    route: dict[str, Any] = {"prefix": "/r", "upstream": "up", "auth": "none"}
    config: dict[str, Any] = {"upstreams": {"up": {"type": "rest", "url": upstream}}, "routes": [route]}
    if storage is not None:
        route["rate_limit"] = NEVER
        config["limits"] = {"storage": storage}
    return config


@scenario("limits", "REST passthrough with a never-reached rate limit: memory and Redis counters", order=40)
def limits(h: Harness) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        h.note("limits", "redis-server not installed: Redis storage not measured")
    upstream = h.upstream()
    redis = _start_redis(binary, h.free_port()) if binary else None
    try:
        targets = {"no rate limit": h.rosetta(limited_config(upstream, None), ready_path=PATH, name="plain"),
                   "memory://": h.rosetta(limited_config(upstream, "memory://"), ready_path=PATH, name="memory")}
        if redis is not None:
            targets["redis://"] = h.rosetta(limited_config(upstream, redis[1]), ready_path=PATH, name="redis")
        best, redis_us = _rounds(h, targets, redis[0] if redis else None)
        _report(h, best, redis_us)
    finally:
        if redis is not None:
            redis[0].kill()
            redis[0].wait()


def _rounds(
    h: Harness, targets: dict[str, str], redis: subprocess.Popen[bytes] | None
) -> tuple[dict[str, Row], float]:
    """Each target measured ROUNDS times, interleaved; the best (least disturbed) run of each."""
    best: dict[str, Row] = {}
    paired: dict[str, list[float]] = {}
    redis_us = 0.0
    for n in range(ROUNDS):
        rows: dict[str, Row] = {}
        for name, url in targets.items():
            before = _cpu_seconds(redis.pid) if redis is not None else 0.0
            row = rows[name] = h.measure("limits", f"Rosetta, {name} (round {n + 1})", url + PATH, one_connection=n == 0)
            if name not in best or row.rps > best[name].rps:
                best[name] = row
                if redis is not None and name == "redis://":
                    redis_us = (_cpu_seconds(redis.pid) - before) / max(1, row.requests) * 1e6
        for name in TARGETS:
            if name in rows:
                paired.setdefault(name, []).append(rows[name].rps / rows["no rate limit"].rps)
    for name, ratios in paired.items():
        h.note("limits", f"{name} / unlimited throughput round by round: " + ", ".join(f"{r:.2f}" for r in ratios))
    return best, redis_us


def _report(h: Harness, best: dict[str, Row], redis_us: float) -> None:
    base = best["no rate limit"]
    for name, at_least in TARGETS.items():
        row = best.get(name)
        if row is not None:
            h.ratio("limits", f"{name} limited / unlimited throughput", row.rps / base.rps, at_least=at_least)
            _cpu_note(h, name, row, base, redis_us if name == "redis://" else 0.0)


def _cpu_note(h: Harness, name: str, row: Row, base: Row, extra_us: float) -> None:
    if row.cpu_us is None or base.cpu_us is None:
        return
    added = row.cpu_us - base.cpu_us
    tail = f" + redis-server {extra_us:.0f} µs" if extra_us else ""
    h.note("limits", f"{name}: gateway CPU {row.cpu_us:.0f} µs/call vs {base.cpu_us:.0f} unlimited "
                     f"({added:+.0f} µs){tail}")


def _start_redis(binary: str, port: int) -> tuple[subprocess.Popen[bytes], str]:
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
