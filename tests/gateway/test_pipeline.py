"""The front door and pipeline, over real sockets: errors are problem+json with a request id."""

import asyncio
import json

import httpx
import pytest

from gateway.testing import serve_gateway

FAKE = "gateway.testing:FakeTranslator"
CONFIG = {
    "server": {"max_body_bytes": 1024},
    "upstreams": {
        "fake": {"type": FAKE},
        "down": {"type": FAKE, "fail": "unreachable"},
        "slow": {"type": FAKE, "fail": "slow", "timeout": 0.3},
    },
    "routes": [
        {"prefix": "/f", "upstream": "fake", "auth": "none"},
        {"prefix": "/down", "upstream": "down", "auth": "none"},
        {"prefix": "/slow", "upstream": "slow", "auth": "none"},
        {"prefix": "/locked", "upstream": "fake"},
        {"path": "/echo/{who}", "upstream": "fake", "operation": "Echo", "auth": "none"},
    ],
}


@pytest.fixture(scope="module")
async def gateway():
    async with serve_gateway(CONFIG) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


def assert_problem(response, status, slug):
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:rosetta:problem:{slug}"
    assert body["status"] == status
    assert body["detail"] and body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


async def test_a_call_reaches_the_translator_with_merged_arguments(gateway):
    response = await gateway.post("/echo/ana?x=1&x=2&who=query", json={"who": "body", "n": 1})
    assert response.status_code == 200
    assert response.json()["args"] == {"who": "ana", "x": ["1", "2"], "n": 1}


async def test_every_response_carries_a_request_id(gateway):
    response = await gateway.post("/f/Echo", json={})
    assert len(response.headers["x-request-id"]) == 32


async def test_a_well_formed_incoming_request_id_is_kept_and_passed_on(gateway):
    response = await gateway.post("/f/Echo", json={}, headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json()["request_id"] == "abc-123"


@pytest.mark.parametrize("bad", ["has space", "x" * 200, "<script>", ""])
async def test_an_invalid_request_id_is_replaced(gateway, bad):
    response = await gateway.post("/f/Echo", json={}, headers={"X-Request-ID": bad})
    assert response.status_code == 200
    assert response.headers["x-request-id"] != bad and len(response.headers["x-request-id"]) == 32


async def test_malformed_json_is_a_400(gateway):
    body = assert_problem(await gateway.post("/f/Echo", content=b"{nope"), 400, "malformed-body")
    assert "not valid JSON" in body["detail"]


@pytest.mark.parametrize("payload", [b"[1, 2]", b'"text"', b"42", b"true"])
async def test_a_body_that_is_not_an_object_is_a_400(gateway, payload):
    assert_problem(await gateway.post("/f/Echo", content=payload), 400, "bad-request")


async def test_an_unknown_route_is_a_404(gateway):
    assert_problem(await gateway.get("/nowhere"), 404, "no-route")


async def test_a_wrong_method_is_a_405_with_allow(gateway):
    response = await gateway.get("/f/Echo")
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "POST"


async def test_a_body_over_the_limit_is_a_413_before_it_is_read(gateway):
    assert_problem(await gateway.post("/f/Echo", content=b"x" * 5000), 413, "payload-too-large")


async def test_a_413_for_a_declared_body_says_the_connection_closes_and_closes_it(gateway):
    """The refused body is never read: a client told keep-alive would send its next
    request on a connection about to close, and fail."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.base_url.port)
    writer.write(b"POST /f/Echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"x" * 100)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 5)  # to the end: the gateway closes
    writer.close()
    head = data.partition(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 413") and b"\r\nconnection: close" in head


async def test_a_chunked_body_over_the_limit_is_a_413(gateway):
    port = gateway.base_url.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /f/Echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    writer.write(b"".join(b"1f4\r\n" + b"x" * 500 + b"\r\n" for _ in range(3)))
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    writer.close()
    assert head.startswith(b"HTTP/1.1 413")
    assert b"application/problem+json" in head


@pytest.mark.parametrize("target", ["f/Echo", "/f/\x7f"])
async def test_a_request_line_whose_url_does_not_parse_is_a_400_problem(gateway, target):
    """Sanic alone drops the connection without an answer and logs an uncaught error."""
    host, port = str(gateway.base_url).removeprefix("http://").rstrip("/").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {target} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"content-type: application/problem+json" in head.lower()
    problem = json.loads(body)
    assert problem["type"] == "urn:rosetta:problem:bad-request" and len(problem["request_id"]) == 32


async def test_an_unreachable_upstream_is_a_503(gateway):
    assert_problem(await gateway.post("/down/Echo", json={}), 503, "upstream-unreachable")


async def test_an_upstream_past_its_timeout_is_a_504_and_the_gateway_keeps_serving(gateway):
    body = assert_problem(await gateway.post("/slow/Echo", json={}), 504, "upstream-timeout")
    assert "0.3" in body["detail"]
    assert (await gateway.post("/f/Echo", json={})).status_code == 200


async def test_a_route_without_auth_refuses_anonymous_calls(gateway):
    assert_problem(await gateway.post("/locked/Echo", json={}), 401, "unauthorized")


async def test_the_upstream_status_passes_through(gateway):
    assert (await gateway.get("/f/status/418")).status_code == 418


async def test_many_concurrent_calls_all_answer(gateway):
    responses = await asyncio.gather(*(gateway.post("/f/Echo", json={"i": i}) for i in range(50)))
    assert [r.json()["args"]["i"] for r in responses] == list(range(50))


async def test_oversized_header_fields_are_a_431(gateway):
    assert_problem(await gateway.post("/f/Echo", json={}, headers={"X-Big": "x" * 9000}), 431, "headers-too-large")


def test_new_request_ids_are_32_hex_digits_unique_and_reseeded_in_a_forked_child():
    import os

    from gateway.pipeline import _new_request_id

    ids = [_new_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its first id and leave at once
        os.write(write, _new_request_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    os.close(write)
    assert child[:16] != ids[-1][:16]  # a fresh random half, not the parent's
