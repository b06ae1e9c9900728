"""The resilience step in the pipeline: cached operations called with POST, per consumer."""

import httpx
import pytest

from gateway.testing import serve_gateway

FAKE = "gateway.testing:FakeTranslator"
CONFIG = {
    "upstreams": {"fake": {"type": FAKE}},
    "routes": [
        {"prefix": "/ops", "upstream": "fake", "auth": "none", "cache": {"ttl": 30, "operations": ["Echo"]}},
        {"prefix": "/plain", "upstream": "fake", "auth": "none", "cache": {"ttl": 30}},
    ],
}


@pytest.fixture(scope="module")
async def gateway():
    async with serve_gateway(CONFIG) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def test_an_operation_listed_as_cacheable_is_served_from_the_cache_for_the_same_arguments(gateway):
    first = await gateway.post("/ops/Echo", json={"code": "AMX500", "qty": 1})
    again = await gateway.post("/ops/Echo", content=b'{"qty": 1, "code": "AMX500"}')
    other = await gateway.post("/ops/Echo", json={"code": "AMX500", "qty": 2})
    # The fake upstream echoes the request id: a cached answer still carries the first one.
    assert again.json()["request_id"] == first.json()["request_id"]
    assert again.headers["cache-status"].startswith("Rosetta; hit")
    assert other.json()["request_id"] != first.json()["request_id"]


async def test_a_post_to_an_operation_not_listed_is_never_cached(gateway):
    first = await gateway.post("/plain/Echo", json={"a": 1})
    again = await gateway.post("/plain/Echo", json={"a": 1})
    assert again.json()["request_id"] != first.json()["request_id"]
    assert "cache-status" not in again.headers


async def test_a_malformed_body_is_not_cached_and_gets_its_400(gateway):
    response = await gateway.post("/ops/Echo", content=b"{nope")
    assert response.status_code == 400 and "cache-status" not in response.headers


async def test_each_route_keeps_its_own_memory_cache_bound():
    config = {
        "upstreams": {"fake": {"type": FAKE}},
        "routes": [
            {"prefix": "/small", "upstream": "fake", "auth": "none", "cache": {"ttl": 30, "max_entries": 1}},
            {"prefix": "/large", "upstream": "fake", "auth": "none", "cache": {"ttl": 30}},
        ],
    }
    async with serve_gateway(config) as url, httpx.AsyncClient(base_url=url) as client:
        await client.get("/large/status/200")
        for n in (1, 2):
            await client.get(f"/small/status/200?n={n}")
        again = await client.get("/large/status/200")
    assert again.headers["cache-status"].startswith("Rosetta; hit")
