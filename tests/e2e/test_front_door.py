"""The front door over raw sockets: what a request head must hold, what Sanic's own refusals
look like, how long a connection may dawdle, and how streamed replies leave the connection."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from gateway.app import create_app, start_server
from gateway.config import build_config
from gateway.testing import serve_gateway
from tests.e2e import log_capture

FAKE = "gateway.testing:FakeTranslator"
STREAM = "tests.e2e.stream_translator:StreamTranslator"
CONFIG = {
    "server": {"max_body_bytes": 1024},
    "upstreams": {"fake": {"type": FAKE}, "stream": {"type": STREAM}},
    "routes": [
        {"prefix": "/f", "upstream": "fake", "auth": "none"},
        {"prefix": "/s", "upstream": "stream", "auth": "none"},
    ],
}


@pytest.fixture(scope="module")
async def port():
    async with serve_gateway(CONFIG) as url:
        yield int(url.rsplit(":", 1)[1])


async def exchange(port: int, data: bytes, wait: float = 5.0) -> bytes:
    """Send ``data`` on a new connection and read until the gateway closes it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()


def responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The ``(status, headers, body)`` of each response in ``data``, in order."""
    found = []
    while data:
        head, _, data = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode().split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size, _, data = data.partition(b"\r\n")
                body, data = body + data[: int(size, 16)], data[int(size, 16) + 2 :]
                if size == b"0":
                    break
        else:
            length = int(headers.get("content-length", 0))
            body, data = data[:length], data[length:]
        found.append((int(status_line.split(" ")[1]), headers, body))
    return found


def assert_problem(response: tuple[int, dict[str, str], bytes], status: int, slug: str) -> dict:
    code, headers, body = response
    assert code == status and headers["content-type"] == "application/problem+json", response
    problem = json.loads(body)
    assert problem["type"] == f"urn:rosetta:problem:{slug}" and problem["status"] == status
    assert problem["detail"] and problem["request_id"] == headers["x-request-id"]
    return problem


# -- the request head (RFC 9112 §3.2, RFC 9110 §5.1) ---------------------------------------

SMUGGLED = b"GET /f/status/299 HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize(
    "line",
    [f"Content-Length : {len(SMUGGLED)}", f"Content-Length\t: {len(SMUGGLED)}", "X Y: z", ": no name", " X-Folded: y"],
)
async def test_a_header_name_that_is_not_a_token_is_a_400_and_what_follows_is_never_read_as_a_request(port, line):
    """``Content-Length : 40`` frames no body here, while a proxy in front may have sent 40 body
    bytes: read as the next request on the connection, they would be a smuggled request."""
    head = f"POST /f/Echo HTTP/1.1\r\nHost: x\r\n{line}\r\n\r\n".encode()
    answered = responses(await exchange(port, head + SMUGGLED))
    assert len(answered) == 1, answered
    problem = assert_problem(answered[0], 400, "invalid-header")
    assert answered[0][1]["connection"] == "close" and "token" in problem["detail"]


async def test_a_content_length_in_digits_other_than_ascii_is_a_400(port):
    """Python's int() reads '٢' as 2, so Sanic would frame a body a proxy in front may not."""
    head = "POST /f/Echo HTTP/1.1\r\nHost: x\r\nContent-Length: \u0662\r\n\r\n{}".encode()
    answered = responses(await exchange(port, head))
    assert len(answered) == 1
    assert_problem(answered[0], 400, "invalid-header")
    assert answered[0][1]["connection"] == "close"


@pytest.mark.parametrize(
    ("hosts", "why"),
    [((), "no Host"), (("a", "b"), "more than one Host"), (("a b",), "junk"), (("a/b",), "junk"),
     (("u@a",), "junk"), (("a:b:c",), "junk"), (("a:8o",), "junk")],
)
async def test_an_http11_request_without_exactly_one_valid_host_is_a_400(port, hosts, why):
    head = "GET /f/status/200 HTTP/1.1\r\n" + "".join(f"Host: {h}\r\n" for h in hosts) + "\r\n"
    answered = responses(await exchange(port, head.encode()))
    assert len(answered) == 1, why
    assert_problem(answered[0], 400, "invalid-header")
    assert answered[0][1]["connection"] == "close"


@pytest.mark.parametrize("host", ["gateway", "api.example.com.", "127.0.0.1:8080", "[::1]:80", "[::1]", "a-b_c~d%41:1", ""])
async def test_a_valid_host_is_served(port, host):
    head = f"GET /f/status/200 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    assert responses(await exchange(port, head))[0][0] == 200


async def test_an_http10_request_needs_no_host(port):
    answered = responses(await exchange(port, b"GET /f/status/200 HTTP/1.0\r\n\r\n"))
    assert answered[0][0] == 200 and answered[0][1]["connection"] == "close"


async def test_pipelined_requests_are_answered_in_order_with_their_own_request_ids(port):
    data = b"".join(
        f"GET /f/status/20{i} HTTP/1.1\r\nHost: x\r\nX-Request-ID: call-{i}\r\n\r\n".encode() for i in range(3)
    )
    answered = responses(await exchange(port, data + b"GET /f/status/204 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    assert [(s, h["x-request-id"]) for s, h, _ in answered[:3]] == [(200, "call-0"), (201, "call-1"), (202, "call-2")]
    assert answered[3][0] == 204


# -- Sanic's own refusals ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["FOO", "get", "PROPFIND"])
async def test_an_unknown_method_is_a_501_problem(port, method):
    answered = responses(await exchange(port, f"{method} /f/Echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()))
    assert_problem(answered[0], 501, "method-not-implemented")


async def test_trace_is_refused_on_every_path_with_a_405_problem(port):
    """TRACE would echo the caller's credentials back."""
    answered = responses(await exchange(port, b"TRACE /f/Echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    assert_problem(answered[0], 405, "method-not-allowed")


async def test_an_expectation_other_than_100_continue_is_a_417_problem(port):
    head = b"POST /f/Echo HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n{}"
    assert_problem(responses(await exchange(port, head))[0], 417, "expectation-failed")


async def test_expect_100_continue_is_answered_with_a_continue_then_the_reply(port):
    head = b"POST /f/Echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    data = await exchange(port, head)
    assert data.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert responses(data.split(b"\r\n\r\n", 1)[1])[0][0] == 200


async def test_a_request_target_longer_than_the_head_limit_is_a_414_problem(port):
    head = b"GET /f/" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert_problem(responses(await exchange(port, head))[0], 414, "uri-too-long")


@pytest.mark.parametrize("data", [b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"])
async def test_what_is_not_http11_is_a_400_problem(port, data):
    assert_problem(responses(await exchange(port, data))[0], 400, "bad-request")


# -- HEAD (RFC 9110 §9.3.2) ----------------------------------------------------------------------


async def test_head_on_a_get_operation_carries_the_headers_and_length_the_get_would(port):
    get = responses(await exchange(port, b"GET /f/status/200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))[0]
    head = await exchange(port, b"HEAD /f/status/200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status_line, _, rest = head.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert status_line == b"HTTP/1.1 200 OK" and body == b""
    fields = dict(line.lower().split(b": ", 1) for line in headers.split(b"\r\n"))
    assert int(fields[b"content-length"]) == len(get[2]) > 0
    assert fields[b"content-type"] == get[1]["content-type"].encode()


async def test_a_head_reply_that_states_its_get_length_keeps_it(port):
    """A REST backend answers HEAD with no body and the GET's Content-Length; that length is sent on."""
    data = await exchange(port, b"HEAD /s/sized HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"\r\ncontent-length: 1234" in head.lower() and body == b""


async def test_head_on_a_streamed_reply_sends_its_headers_only_and_logs_no_error(port):
    """Sanic's HEAD handling fails on a streamed response's second write (an ERROR and a
    TypeError); the stream is not read for a HEAD at all."""
    start = len(log_capture.LINES)
    data = await exchange(port, b"HEAD /s/listing HTTP/1.1\r\nHost: x\r\n\r\nGET /f/status/201 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"application/x-ndjson" in head
    assert rest.startswith(b"HTTP/1.1 201 ")
    await asyncio.sleep(0.05)
    assert not _errors_since(start)


# -- streamed replies and the unread request body ------------------------------------------


def _errors_since(start: int) -> list[str]:
    return [line for line in log_capture.LINES[start:] if "| ERROR |" in line]


@pytest.mark.parametrize("operation", ["stream", "broken"])
async def test_a_streamed_reply_that_ends_before_the_body_is_read_logs_no_error(port, operation):
    """A gRPC server may end a stream, or fail, before the caller has sent all its body:
    that is no fault of the gateway's, and an operator must not see an ERROR for it."""
    start = len(log_capture.LINES)
    body = b"x" * 500
    data = await exchange(port, f"POST /s/{operation} HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\nConnection: close\r\n\r\n".encode() + body)
    assert data.startswith(b"HTTP/1.1 200 OK")
    await asyncio.sleep(0.05)
    assert not _errors_since(start)


async def test_a_whole_reply_that_leaves_the_body_unread_logs_no_error_and_serves_on(port):
    """A GET with a body its operation takes no part of is the caller's choice, not a fault."""
    start = len(log_capture.LINES)
    data = b"GET /f/status/200 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    answered = responses(await exchange(port, data + b"GET /f/status/201 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    assert [status for status, _, _ in answered] == [200, 201]
    await asyncio.sleep(0.05)
    assert not _errors_since(start)


async def test_after_a_streamed_reply_the_unread_body_is_skipped_and_the_connection_serves_on(port):
    head = b"POST /s/stream HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n" + b"x" * 500
    answered = responses(await exchange(port, head + b"GET /f/status/201 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    assert [status for status, _, _ in answered] == [200, 201]
    assert answered[0][2] == b'{"n": 1}\n{"n": 2}\n'


async def test_a_body_that_never_comes_after_a_streamed_reply_closes_the_connection(port):
    start = time.monotonic()
    data = await exchange(port, b"POST /s/stream HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\nonly this", wait=10)
    assert responses(data)[0][2] == b'{"n": 1}\n{"n": 2}\n'
    assert time.monotonic() - start < 5


# -- timeouts ------------------------------------------------------------------------------------


@asynccontextmanager
async def gateway_with(**sanic: float) -> AsyncIterator[int]:
    """A gateway whose Sanic timeouts are set to ``sanic`` (short ones, for tests)."""
    config = build_config(
        {"upstreams": {"slow": {"type": FAKE, "delay": 1.5, "timeout": 5}},
         "routes": [{"prefix": "/slow", "upstream": "slow", "auth": "none"}]},
        Path.cwd(),
    )
    app = create_app(config)
    running = await start_server(app)
    app.config.update(sanic)
    try:
        yield running.port
    finally:
        await running.stop()


async def test_a_head_trickled_byte_by_byte_ends_with_a_408_within_the_request_timeout():
    """Each byte restarts Sanic's own clock: a slow client could hold a connection for days."""
    async with gateway_with(REQUEST_TIMEOUT=1.0) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        start = time.monotonic()
        writer.write(b"GET /slow/status/200 HTTP/1.1\r\nHost: x\r\n")
        answer = b""
        while not answer and time.monotonic() - start < 6:
            writer.write(b"X")
            try:
                answer = await asyncio.wait_for(reader.read(4096), 0.3)
            except TimeoutError:
                continue
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408 ") and b"application/problem+json" in answer
        assert time.monotonic() - start < 3.5


async def test_a_call_within_its_route_timeout_is_not_cut_by_sanics_response_timeout():
    """Routes may wait up to an hour for their upstream; Sanic's watchdog must not cut them first."""
    async with gateway_with(RESPONSE_TIMEOUT=0.5) as port:
        data = await exchange(port, b"POST /slow/Echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        assert responses(data)[0][0] == 200


async def closed_within(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seconds: float, trickle: bytes = b"") -> bool:
    """Whether the gateway closes the connection within ``seconds`` (sending ``trickle`` a byte at a time)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if trickle:
            writer.write(trickle[:1])
            trickle = trickle[1:]
        try:
            if not await asyncio.wait_for(reader.read(65536), 0.25):
                return True
        except TimeoutError:
            continue
    return False


async def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout():
    async with gateway_with(KEEP_ALIVE_TIMEOUT=0.5) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /slow/status/200 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200 ")
        assert await closed_within(reader, writer, 5)
        writer.close()


async def test_a_body_trickled_after_a_refusal_does_not_hold_the_connection():
    """A 404 leaves the body unread; Sanic skips it afterwards, restarting its clock at each byte."""
    async with gateway_with(KEEP_ALIVE_TIMEOUT=0.5) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 404 ")
        assert await closed_within(reader, writer, 4, trickle=b"x" * 1000)
        writer.close()



@pytest.mark.parametrize(
    ("request_line", "status"),
    [("FOO /f/Echo HTTP/1.1", 501), ("TRACE /f/Echo HTTP/1.1", 405), ("GET /f/\xff HTTP/1.1", 400)],
    ids=["unknown-method", "trace", "path-not-utf8"],
)
async def test_a_request_refused_before_the_pipeline_still_gets_its_one_access_line(port, request_line, status):
    head = f"{request_line}\r\nHost: x\r\nConnection: close\r\n\r\n".encode("latin-1")
    answered, headers, _ = responses(await exchange(port, head))[0]
    assert answered == status
    rid = headers["x-request-id"]
    await asyncio.sleep(0.05)  # access lines are written once per loop iteration
    lines = [line for line in log_capture.LINES if line.startswith("rosetta.access") and rid in line]
    assert len(lines) == 1 and f"'status': {status}" in lines[0]


@pytest.mark.parametrize(("refusal", "status"), [("Forbidden", 403), ("RangeNotSatisfiable", 416), ("Unauthorized", 401)])
def test_a_sanic_refusal_without_its_own_row_is_a_client_error_not_an_internal_one(refusal, status):
    from sanic import exceptions as sanic_exc

    from gateway.app import _translate_sanic_error

    exc = getattr(sanic_exc, refusal)("refused")
    error = _translate_sanic_error(exc, build_config({}, Path(".")), None)  # type: ignore[arg-type]
    assert (error.http_status, error.slug) == (status, "bad-request")
