"""A 20/minute limit holds exactly across 2 Sanic workers and across 2 gateway processes sharing one Redis."""

import asyncio
import uuid

import httpx
import pytest

from tests.e2e.gateway_proc import GatewayProcess

PID = "tests.e2e.pid_translator:PidTranslator"


def config(redis_url: str) -> dict:
    return {
        # A fresh key prefix per test: counts of earlier runs never leak in.
        "limits": {"storage": redis_url, "key_prefix": f"t-{uuid.uuid4().hex[:8]}"},
        "upstreams": {"pharmacy": {"type": PID}},
        "routes": [
            {"prefix": "/v1/rx", "upstream": "pharmacy", "auth": "none", "rate_limit": "20/minute"},
            {"prefix": "/free", "upstream": "pharmacy", "auth": "none"},
        ],
    }


async def burst(urls: list[str], path: str, n: int) -> list[httpx.Response]:
    """``n`` concurrent calls, each on its own connection, spread over ``urls``."""
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        return await asyncio.gather(*(client.get(urls[i % len(urls)] + path) for i in range(n)))


async def serving_pids(urls: list[str]) -> set[int]:
    """Process ids that answer, trying a few bursts (a worker may still be starting)."""
    pids: set[int] = set()
    for _ in range(10):
        pids |= {r.json()["pid"] for r in await burst(urls, "/free/pid", 40)}
        if len(pids) >= 2:
            break
    return pids


def tally(responses: list[httpx.Response]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for response in responses:
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
    return counts


def deciding_pids(redis_server) -> set[int]:
    """Gateway processes with a rate-limit connection open to Redis (they name it by pid)."""
    listing = redis_server.command("CLIENT", "LIST").decode()
    return {int(part.rsplit("-", 1)[1]) for part in listing.split() if part.startswith("name=rosetta-limits-")}


async def test_two_sanic_workers_let_exactly_20_of_100_concurrent_calls_through(redis_server, tmp_path):
    with GatewayProcess(config(redis_server.url()), tmp_path, workers=2) as gateway:
        workers = await serving_pids([gateway.url])
        assert len(workers) == 2, "both workers must be serving"
        responses = await burst([gateway.url], "/v1/rx/pid", 100)
        # Both workers took part in the decisions, so per-worker counting would have let 40 through.
        assert deciding_pids(redis_server) >= workers
    assert tally(responses) == {200: 20, 429: 80}
    assert all("retry-after" in r.headers for r in responses if r.status_code == 429)


async def test_two_gateway_processes_sharing_redis_let_exactly_20_of_100_through(redis_server, tmp_path):
    settings = config(redis_server.url())
    with GatewayProcess(settings, tmp_path) as one, GatewayProcess(settings, tmp_path) as two:
        urls = [one.url, two.url]
        pids = await serving_pids(urls)
        assert len(pids) == 2
        responses = await burst(urls, "/v1/rx/pid", 100)  # 50 to each process
        assert deciding_pids(redis_server) >= pids
    assert tally(responses) == {200: 20, 429: 80}


async def test_memory_storage_with_two_workers_refuses_to_start(tmp_path):
    settings = config("memory://")
    process = GatewayProcess(settings, tmp_path, workers=2)
    with pytest.raises(RuntimeError, match="memory:// keeps counters inside each process"):
        process.__enter__()
