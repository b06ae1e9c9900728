"""httpx over HttpPool: httpx's API and exceptions, Rosetta's connections."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.translators.http.conftest import raw_server, read_request
from translators._http import ERROR_MAP, HttpError, HttpPool, httpx_transport
from translators._http import errors as http_errors
from translators._http.httpx_transport import map_error


async def test_httpx_requests_go_through_the_pool(app_url: str) -> None:
    async with httpx.AsyncClient(transport=httpx_transport(), base_url=app_url) as client:
        first = await client.post("/api/echo?a=1", json={"x": 1}, headers={"X-Trace": "t"})
        second = await client.get("/api/echo")
    assert first.status_code == 200 and first.reason_phrase == "OK"
    assert first.http_version == "HTTP/1.1"
    echoed = first.json()
    assert (echoed["method"], echoed["path_qs"], echoed["body"]) == ("POST", "/api/echo?a=1", '{"x":1}')
    assert echoed["headers"]["X-Trace"] == "t"
    assert "Content-Length" not in second.json()["headers"]
    assert first.json()["peer"] == second.json()["peer"]


async def test_httpx_streams_responses_and_requests(app_url: str) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"streamed "
        yield b"body"

    async with httpx.AsyncClient(transport=httpx_transport(), base_url=app_url) as client:
        async with client.stream("GET", "/api/chunks?n=3") as response:
            chunks = [chunk async for chunk in response.aiter_raw()]
        sent = await client.post("/api/echo", content=body())
    assert b"".join(chunks) == b"chunk0;chunk1;chunk2;"
    assert sent.json()["body"] == "streamed body"


async def test_one_pool_serves_each_origin_and_a_given_pool_stays_open(app_url: str) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nother")

    own = HttpPool(app_url)
    async with raw_server(serve) as other:
        async with httpx.AsyncClient(transport=httpx_transport(own)) as client:
            assert (await client.get(app_url + "/api/echo")).status_code == 200
            assert (await client.get(other.url + "/")).text == "other"
        assert own._open == 1  # the transport closed the pool it made, not this one
        await own.aclose()


async def test_client_errors_surface_as_httpx_exceptions() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{sock.getsockname()[1]}/"

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"not http at all\r\n\r\n")

    transport = httpx_transport(max_connections=1)
    async with raw_server(hang) as slow, raw_server(garbage) as bad, httpx.AsyncClient(
        transport=transport
    ) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(refused)
        with pytest.raises(httpx.ReadTimeout):
            await client.get(slow.url, timeout=0.1)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(bad.url)
        busy = asyncio.ensure_future(client.get(slow.url, timeout=1))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await client.get(slow.url, timeout=0.1)
        with pytest.raises(httpx.ReadTimeout):
            await busy


def _subclasses(cls: type[HttpError]) -> list[type[HttpError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _subclasses(sub)
    return found


def test_every_client_error_maps_to_its_own_httpx_exception() -> None:
    request = httpx.Request("GET", "http://127.0.0.1/")
    public = {getattr(http_errors, name) for name in http_errors.__all__}
    for error in _subclasses(HttpError):
        mapped = map_error(error("boom"), request)
        assert isinstance(mapped, httpx.TransportError)
        if error in public:  # each public error has its own row, most specific first
            row = next(theirs for ours, theirs in ERROR_MAP if issubclass(error, ours))
            assert next(ours for ours, _ in ERROR_MAP if issubclass(error, ours)) is error
            assert type(mapped) is row
    assert {ours for ours, _ in ERROR_MAP} == public


async def test_header_octets_pass_both_ways_as_sent() -> None:
    """UTF-8 or not, a header's bytes reach the server and the httpx caller unchanged."""
    octets = b"caf\xc3\xa9 caf\xe9"
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nX-Name: %b\r\nContent-Length: 2\r\n\r\nok" % octets)
        await reader.read()

    async with raw_server(serve) as server, httpx.AsyncClient(transport=httpx_transport()) as client:
        response = await client.get(server.url, headers=[(b"X-Name", octets)])
    assert b"\r\nX-Name: %b\r\n" % octets in seen[0]
    assert response.headers.raw[0] == (b"X-Name", octets)
