"""The REST forwarding path over raw sockets: a real gateway process, and an upstream that
records each request head exactly as it arrived. Rosetta never forwards a head another
server could frame differently, and never hands the caller a header meant for one hop."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import pytest

from tests.e2e.gateway_proc import GatewayProcess

_ANSWERS = {
    b"/hop": b"HTTP/1.1 200 OK\r\nConnection: x-secret, keep-alive\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\n"
             b"X-Request-ID: upstream-id\r\nX-Kept: k\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok",
    b"/switch": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nRAW",
    b"/octets": b"HTTP/1.1 200 OK\r\nX-Name: caf\xc3\xa9 caf\xe9\r\nContent-Length: 2\r\n\r\nok",
    b"/untyped": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"/sized": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n",  # to HEAD
}
_OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class RecordingUpstream:
    """Answers on keep-alive connections; keeps every head as received, and every body
    sent with a ``Content-Length`` by path."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.bodies: dict[bytes, bytes] = {}
        self.url = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                path = head.split(b" ", 2)[1]
                length = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
                if length is not None:
                    self.bodies[path] = await reader.readexactly(int(length[1]))
                writer.write(_ANSWERS.get(path, _OK))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def paths(self) -> list[bytes]:
        return [head.split(b" ", 2)[1] for head in self.heads]


@pytest.fixture(scope="module")
async def gateway(tmp_path_factory) -> AsyncIterator[tuple[GatewayProcess, RecordingUpstream]]:
    upstream = RecordingUpstream()
    server = await asyncio.start_server(upstream.serve, "127.0.0.1", 0)
    upstream.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    config = {
        "upstreams": {"up": {"type": "rest", "url": upstream.url, "timeout": 3, "headers": {"X-Tenant": "rosetta"}}},
        "routes": [{"prefix": "/p", "upstream": "up", "auth": "none"}],
    }
    try:
        with GatewayProcess(config, tmp_path_factory.mktemp("rest-forwarding")) as process:
            yield process, upstream
    finally:
        server.close()


async def exchange(process: GatewayProcess, head: bytes) -> tuple[int, dict[str, list[str]], bytes]:
    """Send ``head`` (one bodiless request, as written) and read the one response."""
    reader, writer = await asyncio.open_connection("127.0.0.1", process.port)
    writer.write(head + b"Connection: close\r\n\r\n")
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    raw_head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = raw_head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.lower(), []).append(value.strip())
    return int(status.split(" ")[1]), headers, body


def received(upstream: RecordingUpstream, path: bytes) -> list[bytes]:
    return [head for head in upstream.heads if head.split(b" ", 2)[1] == path]


@pytest.mark.parametrize(
    "line",
    [
        b"Content-Length : 40",  # a lenient upstream would read the next pooled request as this body
        b"Transfer-Encoding\t: chunked",
        b"X-A: one\r\n Transfer-Encoding: chunked",  # an obs-fold continuation line
        b"X(A): 1",
        b": 1",
    ],
)
async def test_a_header_name_that_is_not_a_token_is_a_400_and_never_goes_upstream(gateway, line):
    process, upstream = gateway
    path = b"/name-%d" % len(upstream.heads)
    status, _, body = await exchange(process, b"GET /p%b HTTP/1.1\r\nHost: g\r\n%b\r\n" % (path, line))
    problem = json.loads(body)
    # The front door refuses such a head (invalid-header); the HTTP client would too (bad-request).
    assert status == 400 and problem["type"] == "urn:rosetta:problem:invalid-header" and problem["request_id"]
    assert received(upstream, path) == []


@pytest.mark.parametrize("value", [b"o\x00ne", b"one\nTransfer-Encoding: chunked", b"one\rX-B: 2"])
async def test_a_header_value_holding_nul_cr_or_lf_is_a_400_not_a_500(gateway, value):
    process, upstream = gateway
    path = b"/value-%d" % len(upstream.heads)
    status, _, body = await exchange(process, b"GET /p%b HTTP/1.1\r\nHost: g\r\nX-A: %b\r\n" % (path, value))
    assert status == 400 and json.loads(body)["type"] == "urn:rosetta:problem:bad-request"
    assert received(upstream, path) == []


async def test_header_octets_pass_both_ways_as_sent_utf8_or_not(gateway):
    process, upstream = gateway
    octets = b"caf\xc3\xa9 caf\xe9"
    reader, writer = await asyncio.open_connection("127.0.0.1", process.port)
    writer.write(b"GET /p/octets HTTP/1.1\r\nHost: g\r\nX-Name: %b\r\nConnection: close\r\n\r\n" % octets)
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 ") and b"\r\nX-Name: %b\r\n" % octets in answer
    assert b"\r\nx-name: %b\r\n" % octets in received(upstream, b"/octets")[-1]


@pytest.mark.parametrize("given", [b"a b\t<script>", b"caller-id-1", b"x" * 300])
async def test_the_upstream_gets_one_request_id_the_one_the_caller_is_given(gateway, given):
    process, upstream = gateway
    path = b"/rid-%d" % len(upstream.heads)
    status, headers, _ = await exchange(process, b"GET /p%b HTTP/1.1\r\nHost: g\r\nX-Request-ID: %b\r\n" % (path, given))
    assert status == 200
    (head,) = received(upstream, path)
    ids = [line.split(b":", 1)[1].strip() for line in head.split(b"\r\n") if line.lower().startswith(b"x-request-id:")]
    assert ids == [headers["x-request-id"][0].encode()]


async def test_hop_by_hop_and_nominated_response_headers_and_the_upstream_request_id_stay_behind(gateway):
    process, _ = gateway
    status, headers, body = await exchange(process, b"GET /p/hop HTTP/1.1\r\nHost: g\r\n")
    assert status == 200 and body == b"ok" and headers["x-kept"] == ["k"]
    assert "x-secret" not in headers and "keep-alive" not in headers
    assert len(headers["x-request-id"]) == 1 and headers["x-request-id"] != ["upstream-id"]


async def test_an_upstream_switching_protocols_unasked_is_a_502_and_the_next_call_is_clean(gateway):
    process, upstream = gateway
    status, _, body = await exchange(process, b"GET /p/switch HTTP/1.1\r\nHost: g\r\n")
    assert status == 502 and json.loads(body)["type"] == "urn:rosetta:problem:upstream-protocol"
    status, _, body = await exchange(process, b"GET /p/after-switch HTTP/1.1\r\nHost: g\r\n")
    assert (status, body) == (200, b"ok") and received(upstream, b"/after-switch")
    assert "Fatal error" not in process.log.read_text(errors="replace")


@pytest.mark.parametrize("length", [b"8 ", b" 8", b"8\t"])
async def test_a_content_length_with_whitespace_around_it_still_sends_the_body_upstream(gateway, length):
    """RFC 9110 §5.5: whitespace around a field value is not part of it."""
    process, upstream = gateway
    path = b"/length-%d" % len(upstream.heads)
    head = b"POST /p%b HTTP/1.1\r\nHost: g\r\nContent-Length:%b\r\n" % (path, length)
    reader, writer = await asyncio.open_connection("127.0.0.1", process.port)
    writer.write(head + b"Connection: close\r\n\r\n" + b'{"n": 1}')
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert upstream.bodies[path] == b'{"n": 1}'


async def test_every_connection_header_nominates_headers_that_stay_behind(gateway):
    process, upstream = gateway
    path = b"/nominated-%d" % len(upstream.heads)
    head = b"GET /p%b HTTP/1.1\r\nHost: g\r\nConnection: x-a\r\nConnection: x-b\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\n"
    status, _, _ = await exchange(process, head % path)
    assert status == 200
    (sent,) = received(upstream, path)
    assert b"\r\nx-c: 3" in sent.lower() and b"x-a:" not in sent.lower() and b"x-b:" not in sent.lower()


async def test_a_body_the_upstream_left_untyped_reaches_the_caller_without_a_content_type(gateway):
    process, _ = gateway
    status, headers, body = await exchange(process, b"GET /p/untyped HTTP/1.1\r\nHost: g\r\n")
    assert (status, body) == (200, b"ok") and "content-type" not in headers


async def test_head_carries_the_content_length_the_backend_gives_for_get(gateway):
    """RFC 9110 §9.3.2: the headers of a HEAD answer are those a GET would get."""
    process, _ = gateway
    status, headers, body = await exchange(process, b"HEAD /p/sized HTTP/1.1\r\nHost: g\r\n")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == ["1234"] and headers["content-type"] == ["text/plain"]


async def test_every_x_forwarded_for_the_caller_sent_is_kept_in_order_before_the_peer(gateway):
    """RFC 9110 §5.3: repeated fields are one list; only the first used to be kept."""
    process, upstream = gateway
    path = b"/chain-%d" % len(upstream.heads)
    head = b"GET /p%b HTTP/1.1\r\nHost: g\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2, 3.3.3.3\r\n"
    status, _, _ = await exchange(process, head % path)
    (sent,) = received(upstream, path)
    chains = [line for line in sent.split(b"\r\n") if line.lower().startswith(b"x-forwarded-for:")]
    assert status == 200 and chains == [b"X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 127.0.0.1"]


async def test_a_header_the_upstream_setting_fixes_replaces_the_callers_own(gateway):
    process, upstream = gateway
    path = b"/fixed-%d" % len(upstream.heads)
    status, _, _ = await exchange(process, b"GET /p%b HTTP/1.1\r\nHost: g\r\nX-Tenant: someone-else\r\n" % path)
    (sent,) = received(upstream, path)
    tenants = [line for line in sent.split(b"\r\n") if line.lower().startswith(b"x-tenant:")]
    assert status == 200 and tenants == [b"X-Tenant: rosetta"]
