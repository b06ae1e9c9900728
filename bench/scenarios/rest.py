"""REST passthrough: Rosetta against the upstream itself, bare Sanic and nginx ``proxy_pass``.

A Sanic handler forwarding over Rosetta's HttpPool is measured too: the floor
for any Python forwarder here, so the CPU notes show what Rosetta's pipeline
adds on top of it.

Targets (one run, same machine): Rosetta ≥ 0.30 × a bare Sanic handler's
throughput, ≥ 0.10 × nginx ``proxy_pass``, and ≤ 1 ms added p50 latency at one
connection compared with calling the upstream directly.
"""

from __future__ import annotations

from bench.harness import Harness
from bench.scenarios import scenario

PATH = "/r/items"


def rest_config(upstream: str) -> dict[str, object]:
    """Rosetta's config for the passthrough: ``/r/*`` → the upstream, no auth."""
    return {
        "upstreams": {"up": {"type": "rest", "url": upstream}},
        "routes": [{"prefix": "/r", "upstream": "up", "auth": "none"}],
    }


@scenario("rest", "REST passthrough vs the upstream, bare Sanic and nginx proxy_pass", order=0)
def rest(h: Harness) -> None:
    upstream = h.upstream()
    bare = h.sanic("bare")
    proxy = h.nginx_proxy(upstream) if h.has_nginx else None
    forwarder = h.sanic("pool", upstream)
    gateway = h.rosetta(rest_config(upstream), ready_path=PATH)

    direct = h.measure("rest", "upstream (direct)", upstream + PATH)
    sanic = h.measure("rest", "bare Sanic handler", bare + PATH)
    nginx = h.measure("rest", "nginx proxy_pass", proxy + PATH) if proxy else None
    floor = h.measure("rest", "Sanic + HttpPool forwarder", forwarder + PATH, one_connection=False)
    ours = h.measure("rest", "Rosetta REST passthrough", gateway + PATH)

    h.ratio("rest", "Rosetta / bare Sanic throughput", ours.rps / sanic.rps, at_least=0.30)
    if nginx is not None:
        h.ratio("rest", "Rosetta / nginx proxy_pass throughput", ours.rps / nginx.rps, at_least=0.10)
    else:
        h.note("rest", "nginx not installed: no proxy_pass baseline")
    if ours.p50_1c_ms is not None and direct.p50_1c_ms is not None:
        added = ours.p50_1c_ms - direct.p50_1c_ms
        h.ratio("rest", "added p50 latency at 1 connection", added, at_most=1.0, unit=" ms")
    _cpu_notes(h, sanic.cpu_us, floor.cpu_us, ours.cpu_us)


def _cpu_notes(h: Harness, bare: float | None, floor: float | None, ours: float | None) -> None:
    """CPU per request moves less than throughput when other work shares the machine."""
    if bare and floor and ours:
        h.note("rest", f"CPU µs per request: bare Sanic {bare:.0f}, Sanic + HttpPool forwarder "
                       f"{floor:.0f}, Rosetta {ours:.0f} (pipeline over the forwarder: {ours - floor:.0f})")
        h.note("rest", f"CPU-time ratio bare Sanic / Rosetta = {bare / ours:.2f} "
                       "(the throughput ratio when each has a core to itself)")
