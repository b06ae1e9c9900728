"""Response framing: chunked, content-length, close-delimited, no-body statuses, 1xx."""

from __future__ import annotations

import asyncio

import pytest

from tests.translators.http.conftest import raw_server, read_request, reply
from translators._http import HttpPool, ResponseTooLarge


async def test_a_chunked_body_is_read_whole(app_url: str) -> None:
    pool = HttpPool(app_url)
    response = await pool.request("GET", "/api/chunks?n=4", [], timeout=5)
    assert await response.read() == b"chunk0;chunk1;chunk2;chunk3;"
    await pool.aclose()


async def test_chunks_stream_and_the_connection_returns_to_the_pool_at_the_end(app_url: str) -> None:
    pool = HttpPool(app_url, max_connections=1)
    response = await pool.request("GET", "/api/chunks?n=50", [], timeout=5)
    received = [chunk async for chunk in response.iter_chunks()]
    assert b"".join(received) == b"".join(b"chunk%d;" % i for i in range(50))
    # The only connection is free again: this would time out otherwise.
    assert (await pool.request("GET", "/api/echo", [], timeout=1)).status == 200
    await pool.aclose()


async def test_a_large_body_is_streamed_with_flow_control(app_url: str) -> None:
    pool = HttpPool(app_url)
    response = await pool.request("GET", "/api/big?size=3000000", [], timeout=5)
    await asyncio.sleep(0.1)  # let the socket buffer fill: reading pauses at the high-water mark
    total = 0
    async for chunk in response.iter_chunks():
        total += len(chunk)
    assert total == 3_000_000
    await pool.aclose()


async def test_reading_past_the_limit_raises_and_does_not_pool_the_connection(app_url: str) -> None:
    pool = HttpPool(app_url)
    response = await pool.request("GET", "/api/big?size=500000", [], timeout=5)
    with pytest.raises(ResponseTooLarge):
        await response.read(limit=1000)
    small = await pool.request("GET", "/api/big?size=10", [], timeout=5)
    with pytest.raises(ResponseTooLarge):
        await small.read(limit=9)
    assert await (await pool.request("GET", "/api/big?size=10", [], timeout=5)).read(limit=10) == b"x" * 10
    await pool.aclose()


async def test_closing_a_response_with_an_unread_body_closes_its_connection() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
        await writer.drain()
        await reader.read()  # until the client closes

    async with raw_server(serve) as server:
        pool = HttpPool(server.url)
        for _ in range(2):
            response = await pool.request("GET", "/", [], timeout=5)
            await response.aclose()
        assert server.connections == 2
        await pool.aclose()


async def test_a_close_delimited_body_ends_at_eof() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ")
        await writer.drain()
        await asyncio.sleep(0.02)
        writer.write(b"the end")

    async with raw_server(serve) as server:
        pool = HttpPool(server.url)
        response = await pool.request("GET", "/", [], timeout=5)
        assert await response.read() == b"until the end"
        await pool.aclose()


async def test_head_204_and_304_responses_have_no_body_and_keep_the_connection() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")
        for status in (b"204 No Content", b"304 Not Modified"):
            await read_request(reader)
            writer.write(b"HTTP/1.1 %b\r\nContent-Length: 0\r\n\r\n" % status)
        await read_request(reader)
        writer.write(reply(b"after"))

    async with raw_server(serve) as server:
        pool = HttpPool(server.url)
        head = await pool.request("HEAD", "/", [], timeout=5)
        assert (head.status, await head.read()) == (200, b"")
        for status in (204, 304):
            response = await pool.request("GET", "/", [], timeout=5)
            assert (response.status, await response.read()) == (status, b"")
        assert await (await pool.request("GET", "/", [], timeout=5)).read() == b"after"
        assert server.connections == 1
        await pool.aclose()


async def test_interim_1xx_responses_are_skipped() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
        writer.write(reply(b"final", b"X-Final: yes\r\n"))
        await reader.read()

    async with raw_server(serve) as server:
        pool = HttpPool(server.url)
        response = await pool.request("GET", "/", [], timeout=5)
        assert (response.status, await response.read()) == (200, b"final")
        assert ("X-Final", "yes") in response.headers
        assert all(name != "Link" for name, _ in response.headers)
        await pool.aclose()


@pytest.mark.parametrize(
    "answer",
    [
        reply(b"one", b"Connection: close\r\n"),
        b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\none",
    ],
    ids=["connection-close", "http-1.0"],
)
async def test_a_response_that_ends_the_connection_is_not_pooled(answer: bytes) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await reader.read()

    async with raw_server(serve) as server:
        pool = HttpPool(server.url)
        for _ in range(2):
            assert await (await pool.request("GET", "/", [], timeout=5)).read() == b"one"
        assert server.connections == 2
        await pool.aclose()


async def test_bytes_after_a_complete_response_keep_the_response_but_drop_the_connection() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply(b"good") + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsneak")
        await reader.read()

    async with raw_server(serve) as server:
        pool = HttpPool(server.url)
        for _ in range(2):
            assert await (await pool.request("GET", "/", [], timeout=5)).read() == b"good"
        assert server.connections == 2
        await pool.aclose()


async def test_trailer_fields_never_join_the_headers() -> None:
    """RFC 9110 §6.5.1: a trailer (here arriving with the head, in one read) is not a header."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Set-Cookie\r\n\r\n"
                     b"2\r\nok\r\n0\r\nSet-Cookie: session=forged\r\n\r\n")
        await reader.read()

    async with raw_server(serve) as server:
        pool = HttpPool(server.url)
        response = await pool.request("GET", "/", [], timeout=2)
        assert await response.read() == b"ok"
        assert [name for name, _ in response.headers] == ["Transfer-Encoding", "Trailer"]
        await pool.aclose()
