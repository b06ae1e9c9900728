"""Servers that misbehave: each failure surfaces as its own client error, never a hang."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator

import pytest

from tests.translators.http.conftest import Handler, raw_server, read_request, reply
from translators._http import (
    ConnectError,
    ConnectTimeout,
    HttpPool,
    ReadTimeout,
    RemoteProtocolError,
)


async def _hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()


async def _expect(serve: Handler, error: type[Exception], *, on_read: bool = False,
                  timeout: float = 2.0, match: str | None = None) -> int:
    """Request from a server running ``serve``; ``error`` is raised (by ``read`` when
    ``on_read``). Returns how many connections the server saw."""
    async with raw_server(serve) as server:
        pool = HttpPool(server.url)
        with pytest.raises(error, match=match):
            response = await pool.request("GET", "/", [], timeout=timeout)
            if on_read:
                await response.read()
            else:
                pytest.fail(f"got a response, not {error.__name__}")
        await pool.aclose()
        return server.connections


async def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    pool = HttpPool(f"http://127.0.0.1:{port}")
    with pytest.raises(ConnectError):
        await pool.request("GET", "/", [], timeout=2)
    await pool.aclose()


async def test_a_connection_that_never_opens_is_a_connect_timeout() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        backlog = [socket.socket() for _ in range(3)]
        for sock in backlog:
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                sock.connect(("127.0.0.1", port))
        pool = HttpPool(f"http://127.0.0.1:{port}", connect_timeout=0.2)
        with pytest.raises(ConnectTimeout):
            await pool.request("GET", "/", [], timeout=5)
        for sock in backlog:
            sock.close()
        await pool.aclose()


async def test_a_server_that_never_answers_is_a_read_timeout() -> None:
    async with raw_server(_hang) as server:
        pool = HttpPool(server.url)
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(ReadTimeout):
            await pool.request("GET", "/", [], timeout=0.2)
        assert loop.time() - started < 1
        await pool.aclose()


async def test_a_body_that_stops_arriving_is_a_read_timeout() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome")
        await reader.read()

    await _expect(serve, ReadTimeout, on_read=True, timeout=0.2)


async def test_garbage_instead_of_a_response_is_a_protocol_error() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH_9.0\r\n\r\n")
        await reader.read()

    await _expect(serve, RemoteProtocolError)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nRAW",
        b"HTTP/1.1 099 Early\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 600 Beyond\r\nContent-Length: 2\r\n\r\nok",
    ],
)
async def test_a_switch_of_protocols_or_a_status_outside_100_to_599_is_a_protocol_error(answer: bytes) -> None:
    """Nothing asked to switch protocols, and no other status exists: neither waits for a
    timeout, and neither escapes the connection as an error the event loop must log."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await reader.read()

    loop = asyncio.get_running_loop()
    unhandled: list[dict] = []
    handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: unhandled.append(context))
    try:
        await _expect(serve, RemoteProtocolError, timeout=5)
    finally:
        loop.set_exception_handler(handler)
    assert unhandled == []


async def test_a_response_head_without_end_is_a_protocol_error() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"a" * 70_000)
        await reader.read()

    await _expect(serve, RemoteProtocolError, match="too large")


async def test_a_reset_in_the_middle_of_the_body_is_a_protocol_error() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()
        await asyncio.sleep(0.02)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    await _expect(serve, RemoteProtocolError, on_read=True)


async def test_eof_in_the_middle_of_a_framed_body_is_a_protocol_error() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")

    await _expect(serve, RemoteProtocolError, on_read=True)


async def test_a_fresh_connection_closed_without_an_answer_is_not_retried() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    assert await _expect(serve, RemoteProtocolError) == 1


def _closes_after_first_answer() -> tuple[list[int], object]:
    served: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply(b"first" if not served else b"fresh"))
        served.append(1)
        await read_request(reader)  # the pooled connection's next request: closed unanswered

    return served, serve


async def test_a_pooled_connection_closed_by_the_server_is_retried_once() -> None:
    _, serve = _closes_after_first_answer()
    async with raw_server(serve) as server:  # type: ignore[arg-type]
        pool = HttpPool(server.url)
        assert await (await pool.request("GET", "/", [], timeout=2)).read() == b"first"
        assert await (await pool.request("POST", "/", [], b"x", timeout=2)).read() == b"fresh"
        assert server.connections == 2
        await pool.aclose()


async def test_a_streamed_body_on_a_stale_connection_is_not_retried() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"once"

    _, serve = _closes_after_first_answer()
    async with raw_server(serve) as server:  # type: ignore[arg-type]
        pool = HttpPool(server.url)
        await (await pool.request("GET", "/", [], timeout=2)).read()
        with pytest.raises(RemoteProtocolError):
            await pool.request("POST", "/", [], body(), timeout=2)
        assert server.connections == 1
        await pool.aclose()


async def test_an_idle_connection_the_server_closed_is_skipped() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply())

    async with raw_server(serve) as server:
        pool = HttpPool(server.url)
        for _ in range(2):
            assert await (await pool.request("GET", "/", [], timeout=2)).read() == b"ok"
            await asyncio.sleep(0.05)  # the server closes the idle connection meanwhile
        assert server.connections == 2
        await pool.aclose()
