"""API keys over real sockets: valid, unknown, revoked on reload, missing; the digest table."""

import hashlib
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app, start_server
from gateway.auth.apikeys import MAX_KEY_LENGTH, ApiKeyTable, digest
from gateway.config import build_config
from gateway.plugin import Consumer
from gateway.runtime import build_runtime
from gateway.testing import serve_gateway
from tests.e2e.log_capture import remember
from tests.gateway.auth.helpers import (
    ECHO,
    FAKE,
    assert_problem,
    counting,
    one_connection_call,
    sent_headers,
)

ACME_KEY = remember("acme-3f9c1d2e7b6a4c58a1e0")
BETA_KEY = remember("beta-8e7d6c5b4a39281706f5")
BETA_CONSUMER_KEY = remember("beta-own-key-0a1b2c3d4e5f")


def key_config(*keys):
    return {
        "upstreams": {"fake": {"type": FAKE}, "echo": {"type": ECHO}},
        "auth": {
            "api_keys": {"keys": list(keys)},
            "consumers": [
                {"id": "beta", "roles": ["auditor"], "api_keys": [digest(BETA_CONSUMER_KEY)]}
            ],
        },
        "routes": [
            {"prefix": "/rx", "upstream": "fake", "auth": "api_key", "scopes": ["rx:read"]},
            {"prefix": "/any", "upstream": "fake"},
            {"prefix": "/echo", "upstream": "echo"},
        ],
    }


ACME = {"consumer": "acme", "sha256": digest(ACME_KEY), "scopes": ["rx:read"]}
BETA = {"consumer": "beta", "sha256": digest(BETA_KEY).upper()}


@pytest.fixture(scope="module")
async def gateway():
    async with serve_gateway(key_config(ACME, BETA)) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


def test_a_digest_is_the_hex_sha256_of_the_key():
    assert digest("abc") == hashlib.sha256(b"abc").hexdigest()


def test_the_table_finds_a_key_by_its_digest_only():
    consumer = Consumer(id="acme", method="api_key")
    table = ApiKeyTable({digest(ACME_KEY): consumer})
    assert table.lookup(ACME_KEY) is consumer
    assert table.lookup(digest(ACME_KEY)) is None, "a stolen digest is no key"
    assert table.lookup(ACME_KEY[:-1]) is None
    assert table.lookup("") is None
    assert table.lookup(ACME_KEY + "x" * MAX_KEY_LENGTH) is None


async def test_a_valid_key_calls_as_its_consumer(gateway):
    response = await gateway.post("/rx/Echo", json={}, headers={"X-API-Key": ACME_KEY})
    assert response.status_code == 200
    assert response.json()["consumer"] == "acme"


async def test_the_key_header_name_is_case_insensitive(gateway):
    response = await gateway.post("/rx/Echo", json={}, headers={"x-api-key": ACME_KEY})
    assert response.status_code == 200


async def test_an_unknown_key_is_a_401_that_does_not_echo_it(gateway):
    response = await gateway.post("/rx/Echo", json={}, headers={"X-API-Key": "guess-1234"})
    body = assert_problem(response, 401, "unauthorized")
    assert body["detail"] == "the API key is not valid"
    assert response.headers["www-authenticate"] == 'ApiKey realm="rosetta", header="X-API-Key"'
    assert "guess-1234" not in response.text


async def test_a_missing_key_is_a_401_with_a_challenge(gateway):
    response = await gateway.post("/rx/Echo", json={})
    body = assert_problem(response, 401, "unauthorized")
    assert "X-API-Key" in body["detail"]
    assert response.headers["www-authenticate"] == 'ApiKey realm="rosetta", header="X-API-Key"'


async def test_a_key_without_the_route_scope_is_forbidden(gateway):
    response = await gateway.post("/rx/Echo", json={}, headers={"X-API-Key": BETA_KEY})
    assert_problem(response, 403, "forbidden")
    assert "www-authenticate" not in response.headers


async def test_a_key_listed_on_its_consumer_works_on_routes_without_auth(gateway):
    response = await gateway.post("/any/Echo", json={}, headers={"X-API-Key": BETA_CONSUMER_KEY})
    assert response.status_code == 200
    assert response.json()["consumer"] == "beta"


async def test_a_key_is_never_forwarded_upstream(gateway):
    response = await gateway.post("/echo/x", json={}, headers={"X-API-Key": BETA_CONSUMER_KEY})
    assert response.json()["consumer"] == "beta"
    assert "x-api-key" not in sent_headers(response)


async def test_a_revoked_key_is_refused_after_a_reload():
    app = create_app(build_config(key_config(ACME, BETA), Path.cwd()))
    running = await start_server(app)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{running.port}") as client:
            assert (await client.post("/rx/Echo", json={}, headers={"X-API-Key": ACME_KEY})).status_code == 200
            old, app.ctx.runtime = app.ctx.runtime, await build_runtime(build_config(key_config(BETA), Path.cwd()))
            await old.close()
            response = await client.post("/rx/Echo", json={}, headers={"X-API-Key": ACME_KEY})
            assert_problem(response, 401, "unauthorized")
            assert (await client.post("/any/Echo", json={}, headers={"X-API-Key": BETA_KEY})).status_code == 200
    finally:
        await running.stop()


async def test_keys_taking_turns_on_one_keep_alive_connection_are_each_judged(gateway):
    """The connection remembers the last key that passed; any other key is judged afresh."""
    async with httpx.AsyncClient(base_url=gateway.base_url, limits=httpx.Limits(max_connections=1)) as one:
        seen = []
        for key in (BETA_CONSUMER_KEY, BETA_CONSUMER_KEY, ACME_KEY, BETA_CONSUMER_KEY):
            response = await one.post("/any/Echo", json={}, headers={"X-API-Key": key})
            seen.append((response.status_code, response.json()["consumer"]))
        assert seen == [(200, "beta"), (200, "beta"), (200, "acme"), (200, "beta")]
        assert_problem(await one.post("/any/Echo", json={}, headers={"X-API-Key": "guess-1234"}), 401, "unauthorized")
        assert_problem(await one.post("/rx/Echo", json={}, headers={"X-API-Key": BETA_KEY}), 403, "forbidden")
        assert (await one.post("/rx/Echo", json={}, headers={"X-API-Key": ACME_KEY})).json()["consumer"] == "acme"


async def test_a_connection_remembers_its_last_key_for_its_own_key_table_only():
    """The second call on a connection skips the key's SHA-256; a reload's table judges anew."""
    first = await build_runtime(build_config(key_config(ACME, BETA), Path.cwd()))
    second = await build_runtime(build_config(key_config(BETA), Path.cwd()))
    try:
        exchange = one_connection_call(first, ("x-api-key", ACME_KEY), "/any/Echo")
        looked_up = counting(first.auth._consumers.api_keys, "lookup")
        assert [first.auth.known(exchange).id for _ in range(3)] == ["acme"] * 3
        assert len(looked_up) == 1
        exchange.runtime, exchange.endpoint = second, second.routes.match("POST", "/any/Echo")[0]
        assert second.auth.known(exchange) is None  # acme's key is gone from this config
    finally:
        await first.close()
        await second.close()
