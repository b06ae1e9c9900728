"""The rest translator against real HTTP servers: a pharmacy backend and misbehaving sockets."""

import asyncio
import contextlib
import dataclasses

import httpx
import pytest

from gateway.demo import rest_backend
from gateway.errors import GatewayError, InvalidPath
from gateway.testing import make_call, serve_gateway
from translators import _http
from translators.rest import ERROR_TABLE, RestTranslator, _fill, _forwarded


@pytest.fixture(scope="module")
async def echo_upstream():
    """An upstream that echoes what it received, as JSON, to show what was forwarded."""
    from sanic import Sanic
    from sanic.response import json

    from gateway.app import start_server

    app = Sanic("rest_echo_upstream", configure_logging=False)

    @app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def echo(request, path):
        return json(
            {
                "method": request.method,
                "path": request.path,
                "query": request.query_string,
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "body": request.body.decode(),
            },
            headers={"X-Upstream": "yes", "Connection": "keep-alive", "Keep-Alive": "timeout=5"},
        )

    @app.get("/big")
    async def big(request):
        return json({"data": "x" * 200_000})

    running = await start_server(app)
    yield f"http://127.0.0.1:{running.port}"
    await running.stop()


@contextlib.asynccontextmanager
async def raw_server(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


def config(url, **extra):
    return {
        "upstreams": {"up": {"type": "rest", "url": url, **extra}},
        "routes": [
            {"prefix": "/v1/rx", "upstream": "up", "auth": "none"},
            {"path": "/v1/refill/{rx}", "methods": ["POST"], "upstream": "up", "operation": "/refill/{rx}", "auth": "none"},
        ],
    }


async def test_a_prefix_route_forwards_method_path_query_and_body(echo_upstream):
    async with serve_gateway(config(echo_upstream)) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.put("/v1/rx/a/b%20c?x=1&y=2", content=b'{"k": 1}')
    seen = response.json()
    assert (seen["method"], seen["path"], seen["query"], seen["body"]) == ("PUT", "/a/b%20c", "x=1&y=2", '{"k": 1}')
    assert response.headers["x-upstream"] == "yes"


async def test_hop_by_hop_and_authorization_headers_are_dropped(echo_upstream):
    headers = {"Authorization": "Bearer secret-token", "Connection": "keep-alive, X-Drop-Me", "X-Drop-Me": "1", "X-Keep": "2", "TE": "trailers"}
    async with serve_gateway(config(echo_upstream)) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/v1/rx/h", headers=headers)
    seen = response.json()["headers"]
    assert "authorization" not in seen and "x-drop-me" not in seen and "te" not in seen
    assert seen["x-keep"] == "2"
    assert "keep-alive" not in response.headers


async def test_forward_auth_passes_the_callers_authorization(echo_upstream):
    async with serve_gateway(config(echo_upstream, forward_auth=True)) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/v1/rx/h", headers={"Authorization": "Bearer t"})
    assert response.json()["headers"]["authorization"] == "Bearer t"


async def test_request_id_and_forwarded_headers_go_upstream(echo_upstream):
    async with serve_gateway(config(echo_upstream)) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/v1/rx/h", headers={"X-Request-ID": "rid-1", "X-Forwarded-For": "10.9.9.9"})
    seen = response.json()["headers"]
    assert seen["x-request-id"] == "rid-1"
    assert seen["x-forwarded-for"] == "10.9.9.9, 127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["forwarded"].startswith("for=127.0.0.1;proto=http;host=")


async def test_a_path_route_fills_the_upstream_path_template(echo_upstream):
    async with serve_gateway(config(echo_upstream)) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/v1/refill/RX%2F1", json={"a": 1})
    assert response.json()["path"] == "/refill/RX%2F1"


@pytest.mark.parametrize(
    ("template", "params"),
    [("/refill/{rx}", {"rx": ".."}), ("/refill/{rx}", {"rx": "."}), ("/files/{p=**}", {"p": "a/../../admin"})],
)
def test_a_path_variable_that_would_climb_out_of_the_operation_path_is_refused(template, params):
    """Dots are never percent-encoded: such a value would climb out upstream. (The front door
    resolves dot segments before routing; this holds for any other source of variables.)"""
    with pytest.raises(InvalidPath):
        _fill(template, params)
    assert _fill("/files/{p=**}", {"p": "a/..b/c."}) == "/files/a/..b/c."


async def test_large_bodies_stream_both_ways(echo_upstream):
    big = b"y" * 300_000
    async with serve_gateway({**config(echo_upstream), "server": {"max_body_bytes": 1_000_000}}) as url, httpx.AsyncClient(base_url=url) as client:
        sent = await client.post("/v1/rx/upload", content=big)
        got = await client.get("/v1/rx/big")
    assert len(sent.json()["body"]) == 300_000
    assert len(got.json()["data"]) == 200_000


async def test_the_demo_pharmacy_answers_through_the_gateway():
    backend = await rest_backend.start()
    try:
        async with serve_gateway(config(f"http://127.0.0.1:{backend.port}")) as url, httpx.AsyncClient(base_url=url) as client:
            one = await client.get("/v1/rx/prescriptions/RX-1001")
            refill = await client.post("/v1/refill/RX-1002", json={"pharmacy": "Main St"})
            missing = await client.get("/v1/rx/prescriptions/RX-9")
    finally:
        await backend.stop()
    assert one.json()["drug"] == "Amoxicillin 500 mg"
    assert refill.status_code == 201 and refill.json()["pharmacy"] == "Main St"
    assert missing.status_code == 404 and missing.json() == {"error": "no prescription RX-9"}


def problem(response, status, slug):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:rosetta:problem:{slug}"


async def test_an_upstream_that_refuses_is_a_503():
    from gateway.testing import free_port

    async with serve_gateway(config(f"http://127.0.0.1:{free_port()}")) as url, httpx.AsyncClient(base_url=url) as client:
        problem(await client.get("/v1/rx/x"), 503, "upstream-unreachable")


async def test_an_upstream_that_resets_is_a_502():
    async def reset(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.transport.abort()

    async with raw_server(reset) as upstream, serve_gateway(config(upstream)) as url, httpx.AsyncClient(base_url=url) as client:
        problem(await client.get("/v1/rx/x"), 502, "upstream-protocol")


async def test_an_upstream_sending_garbage_is_a_502():
    async def garbage(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SMTP ready\r\n\r\n")
        await writer.drain()
        writer.close()

    async with raw_server(garbage) as upstream, serve_gateway(config(upstream)) as url, httpx.AsyncClient(base_url=url) as client:
        problem(await client.get("/v1/rx/x"), 502, "upstream-protocol")


async def test_an_upstream_that_hangs_past_the_timeout_is_a_504():
    async def hang(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)

    async with raw_server(hang) as upstream, serve_gateway(config(upstream, timeout=0.3)) as url, httpx.AsyncClient(base_url=url) as client:
        problem(await client.get("/v1/rx/x"), 504, "upstream-timeout")
        # and the gateway keeps serving
        problem(await client.get("/nowhere"), 404, "no-route")


async def test_an_upstream_that_dies_mid_stream_cuts_the_connection():
    async def half(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 500000\r\n\r\n" + b"z" * 100_000)
        await writer.drain()
        writer.transport.abort()

    async with raw_server(half) as upstream, serve_gateway(config(upstream)) as url, httpx.AsyncClient(base_url=url) as client:
        with pytest.raises(httpx.HTTPError):
            await client.get("/v1/rx/x")


def test_the_error_table_covers_every_client_error():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    mapped = {row[0] for row in ERROR_TABLE}
    public = {getattr(_http, name) for name in _http.__all__}
    raised = {cls for cls in subclasses(_http.HttpError) if cls in public} | {_http.HttpError}
    assert raised <= mapped
    assert all(issubclass(row[1], GatewayError) for row in ERROR_TABLE)


async def test_upstream_credentials_and_identity_headers_replace_the_callers(echo_upstream, monkeypatch):
    monkeypatch.setenv("ROSETTA_TEST_UPSTREAM_TOKEN", "upstream-secret-1")
    cfg = config(echo_upstream, auth={"bearer": "${ROSETTA_TEST_UPSTREAM_TOKEN}", "identity": True})
    from gateway.config import expand_env

    async with serve_gateway(expand_env(cfg)) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/v1/rx/h", headers={"Authorization": "Bearer caller", "X-Consumer-ID": "forged"})
    seen = response.json()["headers"]
    assert seen["authorization"] == "Bearer upstream-secret-1"
    assert seen["x-consumer-id"] == "anonymous"


@pytest.mark.parametrize(("host", "quoted"), [("a\\", '"a"'), ('a", for=6.6.6.6', '"a, for=6.6.6.6"')])
def test_the_callers_host_stays_inside_the_quotes_of_the_forwarded_header(host, quoted):
    """A trailing backslash would escape the closing quote, and the element would run on."""
    call = dataclasses.replace(make_call(RestTranslator._passthrough_op), host=host)
    assert _forwarded(call) == f"for=127.0.0.1;proto=http;host={quoted}"
