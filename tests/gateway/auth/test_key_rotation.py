"""Issuer keys over time: rotation at the IdP, unknown kids under load, the IdP down or hanging."""

import asyncio
import uuid

import httpx
import pytest

from gateway.auth.jwks import MAX_JWKS_BYTES, JwksKeys, KeysUnavailable
from gateway.runtime import StartupError
from gateway.testing import free_port, serve_gateway
from tests.gateway.auth.helpers import assert_invalid_token, assert_problem, bearer
from tests.gateway.auth.idp import LocalIdP, rsa_key
from tests.gateway.auth.test_tokens import jwt_config

INTERVAL = 0.5  # jwks_refresh_interval of these tests


@pytest.fixture
def idp():
    server = LocalIdP().start()
    yield server
    server.stop()


def config(idp, **issuer):
    return jwt_config(idp, jwks_refresh_interval=INTERVAL, jwks_timeout=0.5, **issuer)


async def burst(client, tokens):
    return await asyncio.gather(*(client.post("/rx/Echo", json={}, headers=bearer(t)) for t in tokens))


async def test_the_keys_are_fetched_once_at_start_up(idp):
    async with serve_gateway(config(idp)) as url, httpx.AsyncClient(base_url=url) as client:
        assert idp.hits == 1
        for _ in range(5):
            assert (await client.post("/rx/Echo", json={}, headers=bearer(idp.token()))).status_code == 200
        assert idp.hits == 1


async def test_a_rotated_key_is_picked_up_with_one_fetch_under_fifty_concurrent_calls(idp):
    async with serve_gateway(config(idp)) as url, httpx.AsyncClient(base_url=url) as client:
        await asyncio.sleep(INTERVAL + 0.1)
        idp.rotate()
        responses = await burst(client, [idp.token(sub=f"user-{i}") for i in range(50)])
        assert [r.status_code for r in responses] == [200] * 50
        assert idp.hits == 2


async def test_fifty_unknown_kids_at_once_cause_at_most_one_fetch(idp):
    async with serve_gateway(config(idp)) as url, httpx.AsyncClient(base_url=url) as client:
        await asyncio.sleep(INTERVAL + 0.1)
        stranger = rsa_key(2)
        tokens = [idp.token(kid=uuid.uuid4().hex, key=stranger) for _ in range(50)]
        for response in await burst(client, tokens):
            assert_invalid_token(response)
        assert idp.hits == 2
        for response in await burst(client, tokens[:10]):
            assert_invalid_token(response)
        assert idp.hits == 2, "within the interval, unknown kids do not refetch"


async def test_the_idp_down_at_start_up_is_a_503_until_it_answers(idp):
    idp.stop()
    down = LocalIdP(port=free_port())
    async with serve_gateway(config(down)) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/rx/Echo", json={}, headers=bearer(down.token()))
        assert_problem(response, 503, "auth-unavailable")
        assert response.headers["retry-after"]
        down.start()
        try:
            await asyncio.sleep(INTERVAL + 0.1)
            response = await client.post("/rx/Echo", json={}, headers=bearer(down.token()))
            assert response.status_code == 200
            assert down.hits == 1
        finally:
            down.stop()


async def test_the_idp_down_at_start_up_refuses_to_start_when_keys_are_required(idp):
    idp.stop()
    down = LocalIdP(port=free_port())
    with pytest.raises(StartupError) as raised:
        async with serve_gateway(config(down, require_keys_at_start=True)):
            pass
    assert "auth.jwt.issuers[0]" in str(raised.value)
    assert down.jwks_url in str(raised.value)


async def test_known_keys_keep_serving_while_the_idp_is_down_later(idp):
    async with serve_gateway(config(idp)) as url, httpx.AsyncClient(base_url=url) as client:
        idp.stop()
        await asyncio.sleep(INTERVAL + 0.1)
        assert (await client.post("/rx/Echo", json={}, headers=bearer(idp.token()))).status_code == 200
        unknown = idp.token(kid="never-published", key=rsa_key(2))
        assert_invalid_token(await client.post("/rx/Echo", json={}, headers=bearer(unknown)))
        idp.start()
        idp.rotate()
        await asyncio.sleep(INTERVAL + 0.1)
        assert (await client.post("/rx/Echo", json={}, headers=bearer(idp.token()))).status_code == 200


async def test_an_idp_answering_errors_keeps_the_old_keys(idp):
    async with serve_gateway(config(idp)) as url, httpx.AsyncClient(base_url=url) as client:
        idp.status = 500
        await asyncio.sleep(INTERVAL + 0.1)
        unknown = idp.token(kid="never-published", key=rsa_key(2))
        assert_invalid_token(await client.post("/rx/Echo", json={}, headers=bearer(unknown)))
        assert idp.hits == 2
        assert (await client.post("/rx/Echo", json={}, headers=bearer(idp.token()))).status_code == 200


async def test_a_hanging_idp_does_not_hang_start_up_or_calls(idp):
    idp.delay = 3
    async with serve_gateway(config(idp)) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        response = await client.post("/rx/Echo", json={}, headers=bearer(idp.token()))
        assert_problem(response, 503, "auth-unavailable")


async def test_an_oversized_jwks_is_refused_and_the_known_keys_keep_serving(idp):
    async with serve_gateway(config(idp)) as url, httpx.AsyncClient(base_url=url) as client:
        old = idp.token()
        idp.rotate()
        idp.padding = MAX_JWKS_BYTES
        await asyncio.sleep(INTERVAL + 0.1)
        assert_invalid_token(await client.post("/rx/Echo", json={}, headers=bearer(idp.token())))
        assert idp.hits == 2
        assert (await client.post("/rx/Echo", json={}, headers=bearer(old))).status_code == 200


async def test_a_jwks_trickled_byte_by_byte_is_given_up_within_its_timeout(idp):
    """A fetch ends by its deadline, not when the IdP stops sending: a thread left reading
    would hold one of the event loop's few worker threads."""
    idp.trickle = 0.05  # a few hundred bytes: many seconds
    keys = JwksKeys(idp.jwks_url, timeout=0.5, refresh_interval=INTERVAL, max_age=600)
    await keys.start(required=False)
    for _ in range(30):
        if idp.hung_up:
            break
        await asyncio.sleep(0.1)
    assert idp.hung_up == 1
    with pytest.raises(KeysUnavailable):
        await keys.key(None)


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[" * 100_000, b'{"keys": "x"}', b"\xff\xfe", b"null", b'{"keys": [' + b"{}," * 10 + b"{}]}"],
    ids=["not-json", "deeply-nested", "keys-not-a-list", "not-utf8", "null", "no-usable-key"],
)
async def test_a_jwks_answer_that_is_no_key_set_leaves_start_up_running_without_keys(idp, body):
    idp.body = body
    keys = JwksKeys(idp.jwks_url, timeout=0.5, refresh_interval=INTERVAL, max_age=600)
    await keys.start(required=False)
    with pytest.raises(KeysUnavailable):
        await keys.key(None)


async def test_a_jwks_url_that_redirects_is_not_followed(idp):
    """Keys come from the configured URL only: a redirect could lead to plain http or another host."""
    elsewhere = LocalIdP().start()
    try:
        idp.redirect_to = elsewhere.jwks_url
        keys = JwksKeys(idp.jwks_url, timeout=0.5, refresh_interval=INTERVAL, max_age=600)
        await keys.start(required=False)
        with pytest.raises(KeysUnavailable):
            await keys.key(None)
        assert (idp.hits, elsewhere.hits) == (1, 0)
    finally:
        elsewhere.stop()
