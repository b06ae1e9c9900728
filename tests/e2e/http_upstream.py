"""A real local HTTP backend for end-to-end tests: counts its hits, fails or waits on demand."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

__all__ = ["HttpUpstream", "http_upstream"]


class HttpUpstream:
    """Answers any path with JSON; ``mode`` is ``ok`` or ``503``; ``hits`` counts (method, path).

    With ``delay`` set, each request sets ``arrived`` as soon as it comes in and is
    answered ``delay`` seconds later: a test knows when a call is in flight.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.mode = "ok"
        self.delay = 0.0
        self.arrived = asyncio.Event()
        self.hits: Counter[tuple[str, str]] = Counter()
        self.raw_paths: list[str] = []  # as sent, before any decoding
        self.url = ""

    @property
    def total(self) -> int:
        return sum(self.hits.values())

    async def handle(self, request: web.Request) -> web.Response:
        self.hits[(request.method, request.path)] += 1
        self.raw_paths.append(request.raw_path)
        self.arrived.set()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.mode == "503":
            return web.json_response({"busy": True}, status=503)
        body = {"from": self.name, "path": request.path, "query": request.query_string,
                "hit": self.hits[(request.method, request.path)]}
        return web.json_response(body)


@asynccontextmanager
async def http_upstream(name: str) -> AsyncIterator[HttpUpstream]:
    upstream = HttpUpstream(name)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", upstream.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    upstream.url = f"http://127.0.0.1:{port}"
    try:
        yield upstream
    finally:
        await runner.cleanup()
