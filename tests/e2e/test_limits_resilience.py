"""Resilience end to end, over real sockets: breaker and fallback, retries, bulkhead, response cache."""

import asyncio

import httpx
import pytest

from gateway.testing import serve_gateway
from tests.e2e.http_upstream import http_upstream

FAKE = "gateway.testing:FakeTranslator"
OPEN_FOR = 0.3


@pytest.fixture
async def upstreams():
    async with http_upstream("v2") as v2, http_upstream("v1") as v1:
        yield v2, v1


def config(v2, v1, redis_url="memory://"):
    return {
        "upstreams": {
            "v2": {
                "type": "rest",
                "url": v2.url,
                "resilience": {
                    "breaker": {"failures": 3, "open_for": OPEN_FOR},
                    "retry": {"attempts": 2, "backoff": 0.001, "max_backoff": 0.001},
                },
            },
            "v1": {"type": "rest", "url": v1.url},
            "v1_as_caller": {"type": "rest", "url": v1.url, "forward_auth": True},
            "slow": {"type": FAKE, "delay": 0.3,
                     "resilience": {"bulkhead": {"max_concurrent": 2, "max_wait": 0.05, "retry_after": 2}}},
        },
        "routes": [
            {"prefix": "/v2/rx", "upstream": "v2", "auth": "none", "fallback": {"route": "/v1/rx"}},
            {"prefix": "/v1/rx", "upstream": "v1", "auth": "none"},
            {"prefix": "/orders", "upstream": "v2", "auth": "none"},
            {"prefix": "/slow", "upstream": "slow", "auth": "none"},
            {"prefix": "/cached", "upstream": "v1", "auth": "none", "cache": {"ttl": 0.3}},
            {"prefix": "/shared", "upstream": "v1", "auth": "none", "cache": {"ttl": 30, "storage": redis_url}},
            {"prefix": "/mine", "upstream": "v1_as_caller", "auth": "none", "cache": {"ttl": 30}},
            {"prefix": "/v2/cat", "upstream": "v2", "auth": "none", "cache": {"ttl": 30},
             "fallback": {"route": "/v1/rx"}},
        ],
    }


@pytest.fixture
async def gateway(upstreams):
    async with serve_gateway(config(*upstreams)) as url, httpx.AsyncClient(base_url=url, timeout=5) as client:
        yield client


async def test_a_flaky_upstream_opens_the_breaker_the_fallback_answers_and_it_closes_after_recovery(gateway, upstreams):
    v2, v1 = upstreams
    v2.mode = "503"
    first = await gateway.get("/v2/rx/drugs/1")
    assert first.status_code == 200 and first.json()["from"] == "v1"
    assert first.json()["path"] == "/drugs/1"
    assert first.headers["rosetta-fallback"] == "route=/v1/rx"
    await gateway.get("/v2/rx/drugs/1")  # the third failure in a row opens the breaker
    tried = v2.total
    assert tried == 3
    while_open = [await gateway.get("/v2/rx/drugs/1") for _ in range(5)]
    assert all(r.status_code == 200 and r.headers["rosetta-fallback"] == "route=/v1/rx" for r in while_open)
    assert v2.total == tried, "an open breaker sends nothing to the upstream"

    v2.mode = "ok"
    await asyncio.sleep(OPEN_FOR + 0.05)
    probe = await gateway.get("/v2/rx/drugs/1")
    assert probe.json()["from"] == "v2" and "rosetta-fallback" not in probe.headers
    closed = [await gateway.get("/v2/rx/drugs/2") for _ in range(3)]
    assert all(r.json()["from"] == "v2" for r in closed)


async def test_without_a_fallback_an_open_breaker_is_a_503_problem_with_retry_after(gateway, upstreams):
    v2, _ = upstreams
    v2.mode = "503"
    for _ in range(2):
        await gateway.get("/orders/1")
    refused = await gateway.get("/orders/1")
    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:rosetta:problem:overloaded"
    assert refused.headers["retry-after"] == "1"


async def test_post_is_never_retried_while_get_is(gateway, upstreams):
    v2, _ = upstreams
    v2.mode = "503"
    posted = await gateway.post("/orders/1", json={"qty": 1})
    assert posted.status_code == 503 and v2.hits[("POST", "/1")] == 1
    await gateway.get("/orders/1")
    assert v2.hits[("GET", "/1")] == 2


async def test_a_post_answered_503_is_not_sent_to_the_fallback(gateway, upstreams):
    v2, v1 = upstreams
    v2.mode = "503"
    response = await gateway.post("/v2/rx/refill", json={"rx": 7})
    assert response.status_code == 503 and v1.total == 0 and v2.hits[("POST", "/refill")] == 1


async def test_the_bulkhead_refuses_calls_beyond_its_cap_with_503_and_retry_after(gateway):
    responses = await asyncio.gather(*(gateway.post("/slow/Echo", json={}) for _ in range(5)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 200, 503, 503, 503]
    refused = next(r for r in responses if r.status_code == 503)
    assert refused.json()["type"] == "urn:rosetta:problem:overloaded"
    assert refused.headers["retry-after"] == "2"


async def test_the_cache_serves_the_second_get_without_touching_the_upstream(gateway, upstreams):
    _, v1 = upstreams
    first = await gateway.get("/cached/drugs/1?strength=5")
    second = await gateway.get("/cached/drugs/1?strength=5")
    assert v1.hits[("GET", "/drugs/1")] == 1
    assert second.content == first.content and second.headers["content-type"] == first.headers["content-type"]
    assert first.headers["cache-status"] == "Rosetta; fwd=uri-miss; stored"
    assert second.headers["cache-status"].startswith("Rosetta; hit")
    assert int(second.headers["age"]) == 0


async def test_the_cache_honours_its_ttl(gateway, upstreams):
    _, v1 = upstreams
    await gateway.get("/cached/drugs/3")
    await asyncio.sleep(0.35)
    again = await gateway.get("/cached/drugs/3")
    assert v1.hits[("GET", "/drugs/3")] == 2 and again.json()["hit"] == 2


async def test_no_cache_from_the_client_goes_to_the_upstream_and_refreshes(gateway, upstreams):
    _, v1 = upstreams
    await gateway.get("/cached/drugs/4")
    fresh = await gateway.get("/cached/drugs/4", headers={"Cache-Control": "no-cache"})
    assert fresh.json()["hit"] == 2 and fresh.headers["cache-status"] == "Rosetta; fwd=request; stored"
    cached = await gateway.get("/cached/drugs/4")
    assert cached.json()["hit"] == 2 and v1.hits[("GET", "/drugs/4")] == 2


async def test_different_arguments_and_writes_are_not_served_from_the_cache(gateway, upstreams):
    _, v1 = upstreams
    await gateway.get("/cached/drugs/5?a=1")
    await gateway.get("/cached/drugs/5?a=2")
    await gateway.post("/cached/drugs/5", json={})
    await gateway.post("/cached/drugs/5", json={})
    assert v1.hits[("GET", "/drugs/5")] == 2 and v1.hits[("POST", "/drugs/5")] == 2


async def test_a_redis_cache_is_shared_by_gateway_instances(upstreams, redis_server):
    _, v1 = upstreams
    redis_server.command("FLUSHDB")
    settings = config(*upstreams, redis_url=redis_server.url())
    async with serve_gateway(settings) as one, serve_gateway(settings) as two, httpx.AsyncClient() as client:
        first = await client.get(one + "/shared/drugs/9")
        second = await client.get(two + "/shared/drugs/9")
    assert v1.hits[("GET", "/drugs/9")] == 1
    assert second.content == first.content and second.headers["cache-status"].startswith("Rosetta; hit")


async def test_concurrent_misses_on_one_key_make_one_upstream_call(gateway, upstreams):
    _, v1 = upstreams
    v1.delay = 0.2
    responses = await asyncio.gather(*(gateway.get("/cached/drugs/7") for _ in range(30)))
    assert v1.hits[("GET", "/drugs/7")] == 1
    assert all(r.status_code == 200 and r.content == responses[0].content for r in responses)
    statuses = sorted(r.headers["cache-status"] for r in responses)
    assert statuses == ["Rosetta; fwd=uri-miss; collapsed"] * 29 + ["Rosetta; fwd=uri-miss; stored"]


async def test_callers_with_different_forwarded_credentials_never_share_a_cached_reply(gateway, upstreams):
    _, v1 = upstreams
    alice = await gateway.get("/mine/profile", headers={"Authorization": "Bearer alice"})
    bob = await gateway.get("/mine/profile", headers={"Authorization": "Bearer bob"})
    nobody = await gateway.get("/mine/profile")
    alice_again = await gateway.get("/mine/profile", headers={"Authorization": "Bearer alice"})
    assert [r.json()["hit"] for r in (alice, bob, nobody)] == [1, 2, 3]
    assert alice_again.json()["hit"] == 1 and alice_again.headers["cache-status"].startswith("Rosetta; hit")


async def test_a_reply_from_the_fallback_is_not_cached_for_the_primary_route(gateway, upstreams):
    v2, v1 = upstreams
    v2.mode = "503"
    degraded = await gateway.get("/v2/cat/drugs/8")
    assert degraded.json()["from"] == "v1" and degraded.headers["rosetta-fallback"] == "route=/v1/rx"
    assert degraded.headers["cache-status"] == "Rosetta; fwd=uri-miss"
    v2.mode = "ok"
    recovered = await gateway.get("/v2/cat/drugs/8")
    assert recovered.json()["from"] == "v2" and "rosetta-fallback" not in recovered.headers
