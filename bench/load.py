"""Load generators: wrk when installed, else a bounded Python loop.

Both return a :class:`bench.harness.Row` with requests/s and p50/p99 in ms.
The Python loop shares the machine's cores with the servers it measures, so
its figures are lower bounds; the table says which tool measured a row.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.harness import LoadSpec, Row

__all__ = ["bounded_loop", "lua_script", "parse_wrk", "python_load", "wrk"]

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, spec: LoadSpec, connections: int, duration: float, threads: int, tmp: Path) -> Row:
    """Run wrk against ``url`` and parse its report."""
    argv = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration:g}s",
            "--latency", "--timeout", "5s"]
    if spec.method != "GET" or spec.body or spec.headers:
        script = tmp / f"load-{abs(hash(spec))}.lua"
        script.write_text(lua_script(spec))
        argv += ["-s", str(script)]
    out = subprocess.run(argv + [url], capture_output=True, text=True, timeout=duration + 30)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stderr.strip() or out.stdout.strip()}")
    return parse_wrk(out.stdout)


def lua_script(spec: LoadSpec) -> str:
    """A wrk script sending ``spec``'s method, headers and body."""
    lines = [f'wrk.method = "{spec.method}"']
    if spec.body:
        lines.append(f"wrk.body = {_lua_string(spec.body.decode())}")
    for name, value in spec.headers:
        # The spaces matter: "t[[=[k]=]]" would open a Lua long string, not index t.
        lines.append(f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}")
    return "\n".join(lines) + "\n"


def _lua_string(text: str) -> str:
    level = "="
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def parse_wrk(text: str) -> Row:
    """Requests/s, p50, p99 and error count from wrk's ``--latency`` output."""
    from bench.harness import Row

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    percentiles = {
        int(p): float(v) * _UNITS[u] for p, v, u in re.findall(r"\s(\d+)%\s+([\d.]+)(us|ms|s)\b", text)
    }
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    total = re.search(r"(\d+) requests in", text)
    return Row("", "", rps, percentiles.get(50, 0.0), percentiles.get(99, 0.0), errors=errors,
               requests=int(total.group(1)) if total else 0)


def python_load(url: str, spec: LoadSpec, connections: int, duration: float) -> Row:
    """A bounded asyncio load loop over Rosetta's own HTTP client."""
    return asyncio.run(_python_load(url, spec, connections, duration))


async def _python_load(url: str, spec: LoadSpec, connections: int, duration: float) -> Row:
    from translators._http import HttpPool

    origin, _, path = url.partition("://")[2].partition("/")
    pool = HttpPool(f"http://{origin}", max_connections=connections)

    async def one() -> None:
        response = await pool.request(spec.method, "/" + path, spec.headers, spec.body or None, timeout=5)
        await response.read()
        if response.status >= 400:
            raise RuntimeError(f"status {response.status}")

    try:
        return await bounded_loop(one, connections, duration)
    finally:
        await pool.aclose()


async def bounded_loop(call: Callable[[], Awaitable[None]], connections: int, duration: float) -> Row:
    """Run ``call`` from ``connections`` workers for ``duration`` s; a raised call is an error."""
    from bench.harness import Row

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                await call()
            except Exception:  # a failed call counts as an error, the load goes on
                errors += 1
            latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    count = len(latencies) or 1
    pick = lambda q: latencies[min(count - 1, int(q * count))] * 1000 if latencies else 0.0  # noqa: E731
    return Row("", "", len(latencies) / elapsed, pick(0.50), pick(0.99), errors=errors,
               tool="python", requests=len(latencies))
