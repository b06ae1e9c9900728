"""The rate-limit step through a real gateway: 429 problems, RateLimit headers, buckets, plans."""

import asyncio
import hashlib
import uuid
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app, start_server
from gateway.auth.demo import demo_secret, demo_token
from gateway.config import build_config
from gateway.testing import serve_gateway
from tests.e2e.log_capture import remember

FAKE = "gateway.testing:FakeTranslator"
GOLD_KEY, FREE_KEY = "gold-key-0123456789", "free-key-0123456789"


def sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


PLANS = {"gold": {"rate_limit": "6/minute"}, "free": {"rate_limit": "2/minute", "quota": "3/day"}}


def config(**limits):
    return {
        "limits": {"plans": PLANS, **limits},
        "upstreams": {"fake": {"type": FAKE}, "down": {"type": FAKE, "fail": "unreachable"}},
        "routes": [
            {"prefix": "/v1/rx", "upstream": "fake", "auth": "none", "rate_limit": "5/minute"},
            {"prefix": "/v2/rx", "upstream": "fake", "auth": "none", "rate_limit": "5/minute"},
            {"prefix": "/heavy", "upstream": "fake", "auth": "none", "rate_limit": "10/minute", "cost": 4},
            {"prefix": "/down", "upstream": "down", "auth": "none", "rate_limit": "5/minute"},
            {"prefix": "/open", "upstream": "fake", "auth": "none"},
            {"prefix": "/keyed", "upstream": "fake", "auth": "api_key"},
        ],
        "auth": {
            "api_keys": {"header": "X-API-Key"},
            "consumers": [
                {"id": "gold-co", "plan": "gold", "api_keys": [sha(GOLD_KEY)]},
                {"id": "free-co", "api_keys": [sha(FREE_KEY)]},
            ],
        },
    }


async def calls(client, path, n, **kwargs):
    return await asyncio.gather(*(client.post(path, json={}, **kwargs) for _ in range(n)))


def statuses(responses):
    return sorted(r.status_code for r in responses)


@pytest.fixture
async def gateway():
    async with serve_gateway(config(default_plan="free")) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def test_past_the_limit_calls_get_a_429_problem_with_retry_after(gateway):
    responses = await calls(gateway, "/v1/rx/Echo", 8)
    assert statuses(responses) == [200] * 5 + [429] * 3
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["type"] == "urn:rosetta:problem:rate-limited"
    assert body["request_id"] == refused.headers["x-request-id"]
    assert "route-60s" in body["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 120


async def test_every_response_of_a_limited_route_carries_the_ratelimit_fields(gateway):
    ok = await gateway.post("/v1/rx/Echo", json={})
    assert ok.headers["ratelimit-policy"] == '"route-60s";q=5;w=60'
    assert ok.headers["ratelimit"].startswith('"route-60s";r=4;t=')
    failed = await gateway.post("/down/Echo", json={})
    assert failed.status_code == 503 and failed.headers["ratelimit"].startswith('"route-60s";r=4;')
    await calls(gateway, "/v1/rx/Echo", 5)
    refused = await gateway.post("/v1/rx/Echo", json={})
    assert refused.status_code == 429 and refused.headers["ratelimit"].startswith('"route-60s";r=0;')


async def test_an_unlimited_route_has_no_ratelimit_fields(gateway):
    response = await gateway.post("/open/Echo", json={})
    assert response.status_code == 200 and "ratelimit" not in response.headers


async def test_each_route_has_its_own_bucket(gateway):
    await calls(gateway, "/v1/rx/Echo", 5)
    assert (await gateway.post("/v1/rx/Echo", json={})).status_code == 429
    assert (await gateway.post("/v2/rx/Echo", json={})).status_code == 200


async def test_a_costly_route_spends_its_cost_per_call(gateway):
    responses = [await gateway.post("/heavy/Echo", json={}) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[1].headers["ratelimit"].startswith('"route-60s";r=2;')


async def test_consumers_are_limited_by_their_plan_across_routes(gateway):
    gold = {"X-API-Key": GOLD_KEY}
    responses = [await gateway.post("/keyed/Echo", json={}, headers=gold) for _ in range(7)]
    assert [r.status_code for r in responses] == [200] * 6 + [429]
    assert responses[0].headers["ratelimit-policy"] == '"plan-60s";q=6;w=60'


async def test_a_consumer_without_a_plan_gets_the_default_plan_and_its_quota(gateway):
    free = {"X-API-Key": FREE_KEY}
    responses = [await gateway.post("/keyed/Echo", json={}, headers=free) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[0].headers["ratelimit-policy"] == '"plan-60s";q=2;w=60, "quota-86400s";q=3;w=86400'
    # The refused call spent nothing: the day quota still has 1 left.
    assert responses[2].headers["ratelimit"].split(", ")[1].startswith('"quota-86400s";r=1;')


async def test_anonymous_callers_share_nothing_with_consumers(gateway):
    await calls(gateway, "/v1/rx/Echo", 5)
    gold = {"X-API-Key": GOLD_KEY}
    assert (await gateway.post("/keyed/Echo", json={}, headers=gold)).status_code == 200


async def test_a_global_limit_counts_each_caller_across_every_route():
    settings = config(**{"global": "3/minute"})
    settings["routes"] = [r for r in settings["routes"] if r.get("cost", 1) <= 3]  # /heavy could never pass
    async with serve_gateway(settings) as url, httpx.AsyncClient(base_url=url) as client:
        codes = [(await client.post(p, json={})).status_code for p in ("/open/Echo", "/v1/rx/Echo", "/open/Echo", "/v2/rx/Echo")]
    assert codes == [200, 200, 200, 429]


async def test_anonymous_callers_behind_a_trusted_proxy_are_counted_by_forwarded_address():
    settings = config(trusted_proxies=["127.0.0.1/32"])
    async with serve_gateway(settings) as url, httpx.AsyncClient(base_url=url) as client:
        first = await calls(client, "/v1/rx/Echo", 6, headers={"X-Forwarded-For": "203.0.113.1"})
        second = await calls(client, "/v1/rx/Echo", 5, headers={"X-Forwarded-For": "203.0.113.2"})
        spoofed = await client.post("/v1/rx/Echo", json={}, headers={"X-Forwarded-For": "203.0.113.2, 203.0.113.1"})
    assert statuses(first) == [200] * 5 + [429]
    assert statuses(second) == [200] * 5
    assert spoofed.status_code == 429  # the proxy saw 203.0.113.1; the rest was the caller's claim


async def test_a_caller_behind_an_x_forwarded_for_proxy_cannot_pick_its_bucket_with_forwarded():
    settings = config(trusted_proxies=["127.0.0.1/32"])
    async with serve_gateway(settings) as url, httpx.AsyncClient(base_url=url) as client:
        responses = [
            await client.post("/v1/rx/Echo", json={}, headers={"X-Forwarded-For": "203.0.113.7", "Forwarded": f"for=198.51.100.{i}"})
            for i in range(6)
        ]
    assert statuses(responses) == [200] * 5 + [429]


async def test_proxies_that_write_forwarded_are_read_there():
    settings = config(trusted_proxies=["127.0.0.1/32"], client_ip_header="forwarded")
    async with serve_gateway(settings) as url, httpx.AsyncClient(base_url=url) as client:
        first = await calls(client, "/v1/rx/Echo", 6, headers={"Forwarded": 'for="203.0.113.1:4711"', "X-Forwarded-For": "1.1.1.1"})
        other = await client.post("/v1/rx/Echo", json={}, headers={"Forwarded": "for=203.0.113.2"})
    assert statuses(first) == [200] * 5 + [429] and other.status_code == 200


async def test_without_trusted_proxies_forwarding_headers_do_not_split_buckets():
    async with serve_gateway(config()) as url, httpx.AsyncClient(base_url=url) as client:
        responses = [
            await client.post("/v1/rx/Echo", json={}, headers={"X-Forwarded-For": f"203.0.113.{i}"})
            for i in range(6)
        ]
    assert [r.status_code for r in responses] == [200] * 5 + [429]


async def test_a_gateway_listening_on_ipv6_still_trusts_its_ipv4_proxy():
    # A dual-stack socket sees the IPv4 proxy as ::ffff:127.0.0.1; each client keeps its own bucket.
    app = create_app(build_config(config(trusted_proxies=["127.0.0.1/32"]), Path.cwd()))
    running = await start_server(app, host="::ffff:127.0.0.1")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{running.port}") as client:
            responses = [
                await client.post("/v1/rx/Echo", json={}, headers={"X-Forwarded-For": f"203.0.113.{i}"})
                for i in range(8)
            ]
    finally:
        await running.stop()
    assert [r.status_code for r in responses] == [200] * 8


async def test_an_ipv6_caller_cannot_escape_its_bucket_by_changing_address_within_its_network():
    settings = config(trusted_proxies=["127.0.0.1/32"])
    async with serve_gateway(settings) as url, httpx.AsyncClient(base_url=url) as client:
        own = [
            await client.post("/v1/rx/Echo", json={}, headers={"X-Forwarded-For": f"2001:db8:7:7::{i:x}"})
            for i in range(1, 7)
        ]
        neighbour = await client.post("/v1/rx/Echo", json={}, headers={"X-Forwarded-For": "2001:db8:7:8::1"})
    assert [r.status_code for r in own] == [200] * 5 + [429]
    assert neighbour.status_code == 200


SECRET = remember(demo_secret())


def with_jwt_route(settings):
    """``settings`` with an HS256 issuer and a route ``/jwt`` taking its tokens."""
    issuer = {"issuer": "rosetta-demo", "audience": "rosetta", "secret": SECRET, "algorithms": ["HS256"]}
    settings["auth"]["jwt"] = {"issuers": [issuer]}
    settings["routes"].append({"prefix": "/jwt", "upstream": "fake", "auth": "jwt"})


async def test_a_token_whose_subject_is_anonymous_is_still_held_to_its_plan():
    settings = config(default_plan="free")
    with_jwt_route(settings)
    token = {"Authorization": "Bearer " + demo_token(SECRET, subject="anonymous")}
    async with serve_gateway(settings) as url, httpx.AsyncClient(base_url=url) as client:
        responses = [await client.post("/jwt/Echo", json={}, headers=token) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[0].headers["ratelimit-policy"] == '"plan-60s";q=2;w=60, "quota-86400s";q=3;w=86400'


async def test_a_token_subject_that_is_not_valid_unicode_never_puts_the_shared_counters_out_of_service(redis_server):
    """Auth refuses such a subject (401); Redis keys that are no valid Unicode are counted
    apart all the same (see test_storage), so no caller can make the limiter fail for all."""
    settings = config(default_plan="free", storage=redis_server.url(), on_storage_error="deny", key_prefix=uuid.uuid4().hex)
    with_jwt_route(settings)
    odd = {"Authorization": "Bearer " + demo_token(SECRET, subject="odd-\ud800-" + uuid.uuid4().hex)}
    async with serve_gateway(settings) as url, httpx.AsyncClient(base_url=url) as client:
        responses = [await client.get("/jwt/status/204", headers=odd) for _ in range(3)]
        other = await client.post("/v1/rx/Echo", json={})
    assert [r.status_code for r in responses] == [401, 401, 401]
    assert other.status_code == 200  # the limiter never took the odd key for a storage outage
