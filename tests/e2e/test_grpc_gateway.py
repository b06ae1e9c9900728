"""Rosetta in front of a real grpc.aio server, over real sockets: routes, streaming, errors."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from gateway.testing import free_port, serve_gateway
from tests.translators.grpc.conftest import eventually
from tests.translators.grpc.servers import TESTING_PROTO, start_test_server

SERVICE = "rosetta.testing.v1.TestService"


def config(target: str, **upstream: object) -> dict:
    return {
        "upstreams": {
            "testing": {"type": "grpc", "target": target, "protos": [str(TESTING_PROTO)], "timeout": 5, **upstream},
            "down": {"type": "grpc", "target": f"127.0.0.1:{free_port()}", "protos": [str(TESTING_PROTO)]},
        },
        "routes": [
            {"prefix": "/g", "upstream": "testing", "auth": "none"},
            {"prefix": "/down", "upstream": "down", "auth": "none"},
            {"path": "/slow", "methods": ["POST"], "upstream": "testing", "operation": f"{SERVICE}/Sleep", "auth": "none", "timeout": 0.3},
            {"path": "/hello/{name}", "methods": ["GET"], "upstream": "testing", "operation": f"{SERVICE}/Echo", "auth": "none"},
        ],
    }


@pytest.fixture(scope="module")
async def grpc_server():
    running = await start_test_server()
    yield running
    await running.stop()


@pytest.fixture(scope="module")
async def gateway(grpc_server):
    upstream = {"response_metadata": ["x-served-by"], "forward_headers": ["accept-language"]}
    async with serve_gateway(config(grpc_server.target, **upstream)) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield client


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:rosetta:problem:{slug}" and body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_a_method_is_served_at_post_service_method(gateway):
    response = await gateway.post(f"/g/{SERVICE}/Echo", json={"name": "e2e", "int64Value": 12})
    assert response.status_code == 200
    assert response.json()["int64Value"] == "12" and response.json()["name"] == "e2e"


async def test_http_rules_are_mounted_under_the_prefix(gateway):
    response = await gateway.get("/g/v1/echo/ana", params={"tags": ["x", "y"], "nested.level": "2"})
    assert response.json()["name"] == "ana" and response.json()["tags"] == ["x", "y"]
    assert response.json()["nested"]["level"] == 2
    response = await gateway.put("/g/v1/books/shelves/1/books/2", json={"note": "n"})
    assert response.json()["name"] == "shelves/1/books/2" and response.json()["nested"]["note"] == "n"
    response = await gateway.post("/g/v1/echo/shelf%2F9:shout", json={"nested": {"level": 5}})
    assert response.json() == {"note": "", "level": 5}
    response = await gateway.get("/g/v1/echo/n1/level/7")
    assert response.json()["nested"] == {"note": "n1", "level": 7}


async def test_a_binding_without_body_reads_an_empty_one_and_refuses_content(gateway):
    errors: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = errors.append  # type: ignore[method-assign]
    sanic_errors = logging.getLogger("sanic.error")
    sanic_errors.addHandler(handler)
    try:
        response = await gateway.request("DELETE", "/g/v1/echo-delete/ana", content=b"", headers={"content-length": "0"})
        assert response.status_code == 200 and response.json()["name"] == "ana"
        refused = await gateway.request("DELETE", "/g/v1/echo-delete/ana", json={"tags": ["a"]})
        assert "takes no request body" in assert_problem(refused, 400, "invalid-arguments")["detail"]
    finally:
        sanic_errors.removeHandler(handler)
    assert [r.getMessage() for r in errors] == []  # Sanic logs an error for a body left unread


async def test_a_path_route_names_one_method(gateway):
    response = await gateway.get("/hello/bob", params={"int32Value": "3"})
    assert response.json()["name"] == "bob" and response.json()["int32Value"] == 3


async def test_a_path_that_matches_no_binding_is_a_404(gateway):
    assert_problem(await gateway.get("/g/v1/nothing/here"), 404, "no-route")


async def test_a_wrong_method_on_a_binding_is_a_405(gateway):
    response = await gateway.delete("/g/v1/echo/ana")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


async def test_bad_input_is_a_400_problem_naming_the_field(gateway):
    body = assert_problem(await gateway.post(f"/g/{SERVICE}/Echo", json={"int32Value": "x"}), 400, "invalid-arguments")
    assert body["errors"][0]["field"] == "int32Value"
    body = assert_problem(await gateway.get("/g/v1/echo/a", params={"bogus": "1"}), 400, "invalid-arguments")
    assert body["errors"][0]["field"] == "bogus"
    assert_problem(await gateway.post(f"/g/{SERVICE}/Echo", content=b"{nope"), 400, "malformed-body")


async def test_a_grpc_error_is_a_problem_with_its_status_and_details(gateway):
    response = await gateway.post("/g/v1/fail/NOT_FOUND", json={"message": "no such thing", "withDetails": True})
    body = assert_problem(response, 404, "upstream-rejected")
    assert body["grpc_status"] == "NOT_FOUND" and body["grpc_message"] == "no such thing"
    assert body["details"][0]["fieldViolations"][0]["field"] == "name"


async def test_request_id_and_headers_travel_as_metadata_and_back(gateway):
    response = await gateway.post(f"/g/{SERVICE}/Metadata", headers={"X-Request-ID": "e2e-rid-1", "Accept-Language": "fr"})
    seen = response.json()["metadata"]
    assert seen["x-request-id"] == "e2e-rid-1" and seen["accept-language"] == "fr"
    assert response.headers["x-served-by"] == "test-server"


async def test_a_forwarded_header_grpc_metadata_cannot_carry_is_a_400(gateway):
    response = await gateway.post(f"/g/{SERVICE}/Metadata", headers={"Accept-Language": "fr-\xe9".encode("latin-1")})
    body = assert_problem(response, 400, "invalid-header")
    assert "'accept-language'" in body["detail"]


async def test_a_caller_leaving_mid_body_ends_the_client_streaming_call(gateway, grpc_server):
    port = int(str(gateway.base_url).rstrip("/").rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"POST /g/{SERVICE}/Sum HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    writer.write(head.encode() + b'{"n": 1, "text": "gone"}\n')  # 975 bytes short
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.close()
    assert await eventually(lambda: "gone" in grpc_server.handlers.ended_sums)  # not left open until its 5 s deadline


async def test_server_streaming_arrives_as_ndjson(gateway):
    async with gateway.stream("GET", "/g/v1/count/3") as response:
        assert response.headers["content-type"] == "application/x-ndjson"
        received = [json.loads(line) async for line in response.aiter_lines() if line]
    assert [m["n"] for m in received] == ["0", "1", "2"]


async def test_server_streaming_as_sse_and_as_a_json_array(gateway):
    response = await gateway.get("/g/v1/count/2", headers={"Accept": "text/event-stream"})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.count("data: ") == 2
    response = await gateway.get("/g/v1/count/2", headers={"Accept": "application/json"})
    assert [m["n"] for m in response.json()] == ["0", "1"]


async def test_a_streamed_reply_follows_q_values_and_varies_by_accept(gateway):
    response = await gateway.get("/g/v1/count/2", headers={"Accept": "application/json;q=0.5, text/*"})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.count("data: ") == 2
    assert "accept" in response.headers["vary"].lower()


async def test_head_on_a_streaming_route_answers_its_headers_only(gateway):
    response = await gateway.head("/g/v1/count/2", headers={"Accept": "text/event-stream"})
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-type"].startswith("text/event-stream")


async def test_a_stream_failing_before_its_first_message_gets_a_real_status(gateway):
    response = await gateway.post(f"/g/{SERVICE}/Count", json={"n": 3, "code": "PERMISSION_DENIED"})
    assert_problem(response, 403, "upstream-rejected")


async def test_a_stream_failing_midway_ends_with_a_problem_line(gateway):
    response = await gateway.post(f"/g/{SERVICE}/Count", json={"n": 4, "failAfter": 2, "code": "UNAVAILABLE"})
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert response.status_code == 200 and len(lines) == 3
    assert lines[-1]["status"] == 503 and lines[-1]["grpc_status"] == "UNAVAILABLE"
    assert lines[-1]["request_id"] == response.headers["x-request-id"]


async def test_a_json_array_stream_failing_midway_is_cut_off(gateway):
    with pytest.raises(httpx.HTTPError):
        await gateway.post(
            f"/g/{SERVICE}/Count", json={"n": 4, "failAfter": 2, "code": "INTERNAL"}, headers={"Accept": "application/json"}
        )


async def test_client_streaming_and_bidi_take_ndjson(gateway):
    response = await gateway.post(f"/g/{SERVICE}/Sum", content=b'{"n": 2}\n{"n": 5}\n', headers={"Content-Type": "application/x-ndjson"})
    assert response.json() == {"sum": "7", "count": 2}
    response = await gateway.post(f"/g/{SERVICE}/Chat", content=b'{"n": 1, "text": "x"}\n{"n": 2, "text": "y"}\n')
    assert [json.loads(line)["text"] for line in response.text.splitlines()] == ["X", "Y"]


async def test_malformed_ndjson_is_a_400(gateway):
    response = await gateway.post(f"/g/{SERVICE}/Sum", content=b'{"n": 2}\nnot json\n')
    body = assert_problem(response, 400, "malformed-body")
    assert "line 2" in body["detail"]


async def test_a_server_that_is_down_is_a_503(gateway):
    body = assert_problem(await gateway.post(f"/down/{SERVICE}/Echo", json={}), 503, "upstream-unreachable")
    assert body["grpc_status"] == "UNAVAILABLE"


async def test_a_call_past_the_route_timeout_is_a_504(gateway):
    assert_problem(await gateway.post("/slow", json={"seconds": 3}), 504, "upstream-timeout")


async def test_a_proto_that_does_not_compile_stops_start_up_naming_file_and_line(tmp_path):
    from gateway.runtime import StartupError

    bad = tmp_path / "bad.proto"
    bad.write_text('syntax = "proto3";\nmessage A {\n  int32 a = 1\n}\n')
    raw = {"upstreams": {"bad": {"type": "grpc", "target": "127.0.0.1:1", "protos": [str(bad)]}}, "routes": []}
    with pytest.raises(StartupError) as caught:
        async with serve_gateway(raw):
            pass
    assert any(line.startswith("upstreams.bad:") and f"{bad}:4:" in line for line in caught.value.errors)
