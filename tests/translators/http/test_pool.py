"""HttpPool against a real aiohttp server: requests, framing, reuse and bounds."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator

import pytest

from tests.translators.http.conftest import raw_server, read_request, reply
from translators._http import ConnectError, HttpPool, PoolTimeout


async def _json(pool: HttpPool, method: str, target: str, headers=(), body=None) -> dict:
    response = await pool.request(method, target, list(headers), body, timeout=5)
    assert response.status == 200
    return json.loads(await response.read())


async def _parts(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def test_get_returns_status_reason_headers_and_body(app_url: str) -> None:
    pool = HttpPool(app_url)
    response = await pool.request("GET", "/api/status/201", [], timeout=5)
    assert (response.status, response.reason) == (201, "Created")
    assert ("Content-Type", "application/octet-stream") in response.headers
    assert json.loads(await response.read()) == {"status": 201}
    await pool.aclose()


async def test_target_is_appended_to_the_base_path_and_host_is_added(app_url: str) -> None:
    pool = HttpPool(app_url + "/api/")
    echoed = await _json(pool, "GET", "/echo/x?y=1&z=%20")
    assert echoed["path_qs"] == "/api/echo/x?y=1&z=%20"
    assert echoed["headers"]["Host"] == app_url.split("://")[1]
    assert "Content-Length" not in echoed["headers"]
    await pool.aclose()


async def test_a_host_header_from_the_caller_is_kept(app_url: str) -> None:
    pool = HttpPool(app_url)
    echoed = await _json(pool, "GET", "/api/echo", [("Host", "example.test")])
    assert echoed["headers"]["Host"] == "example.test"
    await pool.aclose()


async def test_a_bytes_body_is_sent_with_its_own_content_length(app_url: str) -> None:
    pool = HttpPool(app_url)
    echoed = await _json(pool, "PUT", "/api/echo", [("Content-Length", "999")], b"hello")
    assert echoed["body"] == "hello"
    assert echoed["headers"]["Content-Length"] == "5"
    await pool.aclose()


async def test_a_stream_body_is_sent_chunked(app_url: str) -> None:
    pool = HttpPool(app_url)
    echoed = await _json(pool, "POST", "/api/echo", [], _parts(b"ab", b"", b"cd"))
    assert echoed["body"] == "abcd"
    assert echoed["headers"]["Transfer-Encoding"] == "chunked"
    await pool.aclose()


async def test_a_stream_body_with_a_given_content_length_is_sent_raw(app_url: str) -> None:
    pool = HttpPool(app_url)
    echoed = await _json(pool, "POST", "/api/echo", [("Content-Length", "4")], _parts(b"ab", b"cd"))
    assert echoed["body"] == "abcd"
    assert "Transfer-Encoding" not in echoed["headers"]
    await pool.aclose()


async def test_a_post_without_body_says_content_length_zero(app_url: str) -> None:
    pool = HttpPool(app_url)
    echoed = await _json(pool, "POST", "/api/echo")
    assert echoed["headers"]["Content-Length"] == "0"
    await pool.aclose()


async def test_connections_are_kept_alive_and_reused(app_url: str) -> None:
    pool = HttpPool(app_url)
    peers = {(await _json(pool, "GET", "/api/echo"))["peer"] for _ in range(5)}
    assert len(peers) == 1
    await pool.aclose()


async def test_max_connections_bounds_the_open_connections(app_url: str) -> None:
    pool = HttpPool(app_url, max_connections=2)
    calls = [_json(pool, "GET", "/api/slow?s=0.05") for _ in range(8)]
    peers = {reply["peer"] for reply in await asyncio.gather(*calls)}
    assert len(peers) == 2
    await pool.aclose()


async def test_the_wait_for_a_busy_pool_is_bounded_by_the_timeout(app_url: str) -> None:
    pool = HttpPool(app_url, max_connections=1)
    slow = asyncio.ensure_future(pool.request("GET", "/api/slow?s=0.5", [], timeout=5))
    await asyncio.sleep(0.05)
    with pytest.raises(PoolTimeout):
        await pool.request("GET", "/api/echo", [], timeout=0.1)
    await (await slow).read()
    await pool.aclose()


async def test_a_cancelled_request_frees_its_connection(app_url: str) -> None:
    pool = HttpPool(app_url, max_connections=1)
    slow = asyncio.ensure_future(pool.request("GET", "/api/slow?s=2", [], timeout=5))
    await asyncio.sleep(0.05)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert (await _json(pool, "GET", "/api/echo"))["method"] == "GET"
    await pool.aclose()


async def test_a_header_holding_cr_or_lf_is_refused(app_url: str) -> None:
    pool = HttpPool(app_url)
    with pytest.raises(ValueError):
        await pool.request("GET", "/api/echo", [("X-A", "1\r\nX-Injected: 2")])
    with pytest.raises(ValueError):
        await pool.request("GET", "/api/echo HTTP/1.1\r\nX: y", [])
    await pool.aclose()


async def test_a_closed_pool_refuses_requests(app_url: str) -> None:
    pool = HttpPool(app_url)
    await pool.aclose()
    with pytest.raises(ConnectError):
        await pool.request("GET", "/api/echo", [])


async def test_idle_connections_past_their_expiry_are_replaced(app_url: str) -> None:
    pool = HttpPool(app_url, keepalive_expiry=0.05)
    first = (await _json(pool, "GET", "/api/echo"))["peer"]
    await asyncio.sleep(0.1)
    assert (await _json(pool, "GET", "/api/echo"))["peer"] != first
    await pool.aclose()


def test_a_bad_base_url_is_refused() -> None:
    with pytest.raises(ValueError):
        HttpPool("ftp://127.0.0.1/")
    with pytest.raises(ValueError):
        HttpPool("http://127.0.0.1", max_connections=0)


def test_the_pool_works_on_uvloop() -> None:
    """Sanic serves on uvloop: reuse, a stale connection's retry and a stream work there too."""
    uvloop = pytest.importorskip("uvloop")
    result: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in (b"uv", b"again"):
            await read_request(reader)
            writer.write(reply(answer))
        await read_request(reader)  # then close unanswered: the client retries elsewhere

    async def main() -> None:
        async with raw_server(serve) as server:
            pool = HttpPool(server.url)
            for body in (None, _parts(b"x", b"y"), b"z"):
                response = await pool.request("POST", "/", [], body, timeout=5)
                result.append(await response.read())
            await pool.aclose()
            result.append(b"connections: %d" % server.connections)

    thread = threading.Thread(target=lambda: uvloop.run(main()))
    thread.start()
    thread.join(10)
    assert result == [b"uv", b"again", b"uv", b"connections: 2"]
