"""Servers for the HTTP client tests: a real aiohttp app and raw sockets that misbehave."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest_asyncio
from aiohttp import web

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """A loopback TCP server running ``handler`` per connection; counts connections."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self._handler = handler
        self._tls = tls
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()  # handlers waiting on the socket end with EOF
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()


@asynccontextmanager
async def raw_server(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[RawServer]:
    server = RawServer(handler, tls)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request head (bodies are not read)."""
    return await reader.readuntil(b"\r\n\r\n")


def reply(body: bytes = b"ok", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%b\r\n%b" % (len(body), extra, body)


async def _echo(request: web.Request) -> web.Response:
    body = await request.read()
    peer = request.transport.get_extra_info("peername")[1] if request.transport else 0
    return web.json_response({
        "method": request.method,
        "path_qs": request.path_qs,
        "headers": dict(request.headers),
        "body": body.decode("latin-1"),
        "peer": peer,
    })


async def _chunks(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.enable_chunked_encoding()
    await response.prepare(request)
    for i in range(int(request.query.get("n", "3"))):
        await response.write(b"chunk%d;" % i)
        await asyncio.sleep(0)
    await response.write_eof()
    return response


async def _big(request: web.Request) -> web.Response:
    return web.Response(body=b"x" * int(request.query.get("size", "1000000")))


async def _status(request: web.Request) -> web.Response:
    status = int(request.match_info["code"])
    body = None if status in (204, 304) else json.dumps({"status": status}).encode()
    return web.Response(status=status, body=body)


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.query.get("s", "0.2")))
    peer = request.transport.get_extra_info("peername")[1] if request.transport else 0
    return web.json_response({"peer": peer})


@pytest_asyncio.fixture(scope="session")
async def app_url() -> AsyncIterator[str]:
    """An aiohttp server: /api/echo, /api/chunks, /api/big, /api/status/{code}, /api/slow."""
    app = web.Application()
    app.router.add_route("*", "/api/echo", _echo)
    app.router.add_route("*", "/api/echo/{tail:.*}", _echo)
    app.router.add_get("/api/chunks", _chunks)
    app.router.add_get("/api/big", _big)
    app.router.add_route("*", "/api/status/{code}", _status)
    app.router.add_get("/api/slow", _slow)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()
