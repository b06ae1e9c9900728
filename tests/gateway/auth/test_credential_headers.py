"""How credential headers are read: raw bytes that are not UTF-8, and a credential sent twice."""

import asyncio

import httpx
import pytest

from gateway.auth.apikeys import digest
from gateway.testing import serve_gateway
from tests.e2e.log_capture import remember
from tests.gateway.auth.helpers import (
    ECHO,
    assert_invalid_token,
    assert_missing_credentials,
    assert_problem,
    bearer,
)
from tests.gateway.auth.test_tokens import jwt_config

KEY = remember("acme-5d2e8f1a9c3b7e60d4a1")


@pytest.fixture(scope="module")
async def gateway(idp):
    config = jwt_config(idp)
    config["upstreams"] = {"echo": {"type": ECHO, "forward_auth": True}}
    config["auth"]["api_keys"] = {"keys": [{"consumer": "acme", "sha256": digest(KEY), "scopes": ["rx:read"]}]}
    config["routes"] = [
        {"prefix": "/rx", "upstream": "echo", "auth": ["jwt", "api_key"], "scopes": ["rx:read"]},
        {"prefix": "/key", "upstream": "echo", "auth": "api_key"},
        {"prefix": "/jwt", "upstream": "echo", "auth": "jwt"},
    ]
    async with serve_gateway(config) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def raw_call(base_url: httpx.URL, path: str, header: bytes) -> httpx.Response:
    """A request written byte for byte, so a header may hold bytes that are not UTF-8."""
    reader, writer = await asyncio.open_connection(base_url.host, base_url.port)
    writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n" + header + b"\r\n\r\n{}")
    await writer.drain()
    head, _, body = (await asyncio.wait_for(reader.read(65536), 5)).partition(b"\r\n\r\n")
    writer.close()
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [tuple(line.split(": ", 1)) for line in lines]
    return httpx.Response(int(status_line.split()[1]), headers=headers, content=body)


@pytest.mark.parametrize(
    "header",
    [b"Authorization: Bearer \xff\xfe", b"Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.e30.\xc3", b"Authorization: \xff"],
)
async def test_a_bearer_header_with_bytes_that_are_not_utf8_is_an_invalid_token(gateway, header):
    response = await raw_call(gateway.base_url, "/jwt/Echo", header)
    if header.startswith(b"Authorization: Bearer"):
        assert_invalid_token(response)
    else:
        assert_missing_credentials(response)


async def test_an_api_key_with_bytes_that_are_not_utf8_is_an_invalid_key(gateway):
    response = await raw_call(gateway.base_url, "/key/Echo", b"X-API-Key: acme-\xff\xfe")
    body = assert_problem(response, 401, "unauthorized")
    assert body["detail"] == "the API key is not valid"


async def test_two_authorization_headers_are_a_bad_request_even_when_the_first_is_valid(gateway, idp):
    """The gateway would judge one header and an upstream might read the other (RFC 6750 §3.1)."""
    token = idp.token()
    assert (await gateway.post("/rx/Echo", json={}, headers=bearer(token))).status_code == 200  # now cached
    for pair in ([token, "forged"], ["forged", token]):
        headers = [("Authorization", f"Bearer {t}") for t in pair]
        response = await gateway.post("/rx/Echo", json={}, headers=headers)
        body = assert_problem(response, 400, "invalid-header")
        assert response.headers["www-authenticate"] == 'Bearer realm="rosetta", error="invalid_request"'
        assert "Authorization" in body["detail"] and token not in response.text


async def test_two_authorization_headers_are_refused_on_a_keep_alive_connection_that_knows_the_first(gateway, idp):
    token = idp.token(sub="cy")
    async with httpx.AsyncClient(base_url=gateway.base_url, limits=httpx.Limits(max_connections=1)) as one:
        assert (await one.post("/rx/Echo", json={}, headers=bearer(token))).status_code == 200
        assert (await one.post("/rx/Echo", json={}, headers=bearer(token))).status_code == 200
        twice = [("Authorization", f"Bearer {token}"), ("Authorization", "Bearer forged")]
        assert_problem(await one.post("/rx/Echo", json={}, headers=twice), 400, "invalid-header")


async def test_an_api_key_header_sent_twice_is_a_bad_request_even_when_the_first_is_valid(gateway):
    assert (await gateway.post("/key/Echo", json={}, headers={"X-API-Key": KEY})).status_code == 200
    for pair in ([KEY, "other"], ["other", KEY]):
        response = await gateway.post("/key/Echo", json={}, headers=[("X-API-Key", k) for k in pair])
        body = assert_problem(response, 400, "invalid-header")
        assert "X-API-Key" in body["detail"] and KEY not in response.text


async def test_a_single_credential_still_passes_beside_an_unrelated_repeated_header(gateway, idp):
    headers = [("Authorization", f"Bearer {idp.token()}"), ("Accept", "a/b"), ("Accept", "c/d")]
    assert (await gateway.post("/rx/Echo", json={}, headers=headers)).status_code == 200
