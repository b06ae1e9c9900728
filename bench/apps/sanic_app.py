"""A one-worker Sanic server: the bare baseline, or a forwarder over one HTTP client.

    python bench/apps/sanic_app.py MODE PORT [UPSTREAM_URL]

MODE ``bare`` answers every GET with the fixed 1 KB JSON; the others forward
each GET to ``UPSTREAM_URL`` + path with one shared client: ``pool`` (Rosetta's
HttpPool), ``aiohttp`` (one ClientSession), ``httpx`` (one AsyncClient, default
pool) or ``httpx-pool`` (httpx over Rosetta's transport).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sanic import Request, Sanic  # noqa: E402
from sanic.response import HTTPResponse, raw  # noqa: E402

from bench.payload import PAYLOAD  # noqa: E402

MODES = ("bare", "pool", "aiohttp", "httpx", "httpx-pool")


def build(mode: str, upstream: str) -> Sanic:
    app = Sanic(f"bench_{mode.replace('-', '_')}", configure_logging=False)
    app.config.ACCESS_LOG = False
    app.config.MOTD = False
    if mode == "bare":
        app.add_route(_bare, "/<path:path>")
        return app
    app.ctx.forward = None
    app.register_listener(lambda app: _open(app, mode, upstream), "before_server_start")
    app.add_route(_forward, "/<path:path>")
    return app


async def _bare(request: Request, path: str) -> HTTPResponse:
    return raw(PAYLOAD, content_type="application/json")


async def _forward(request: Request, path: str) -> HTTPResponse:
    status, body = await request.app.ctx.forward("/" + path)
    return raw(body, status=status, content_type="application/json")


async def _open(app: Sanic, mode: str, upstream: str) -> None:
    app.ctx.forward = await _FORWARDERS[mode](upstream)


async def _pool(upstream: str) -> Any:
    from translators._http import HttpPool

    pool = HttpPool(upstream)

    async def forward(path: str) -> tuple[int, bytes]:
        response = await pool.request("GET", path, [("Accept", "application/json")], timeout=10)
        return response.status, await response.read()

    return forward


async def _aiohttp(upstream: str) -> Any:
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256))

    async def forward(path: str) -> tuple[int, bytes]:
        async with session.get(upstream + path, headers={"Accept": "application/json"}) as resp:
            return resp.status, await resp.read()

    return forward


def _httpx_forwarder(client: Any, upstream: str) -> Any:
    async def forward(path: str) -> tuple[int, bytes]:
        resp = await client.get(upstream + path, headers={"Accept": "application/json"})
        return resp.status_code, resp.content

    return forward


async def _httpx(upstream: str) -> Any:
    import httpx

    return _httpx_forwarder(httpx.AsyncClient(timeout=10), upstream)


async def _httpx_pool(upstream: str) -> Any:
    import httpx

    from translators._http import httpx_transport

    return _httpx_forwarder(httpx.AsyncClient(transport=httpx_transport(), timeout=10), upstream)


_FORWARDERS = {"pool": _pool, "aiohttp": _aiohttp, "httpx": _httpx, "httpx-pool": _httpx_pool}


def main(argv: list[str]) -> None:
    mode, port = argv[0], int(argv[1])
    upstream = argv[2].rstrip("/") if len(argv) > 2 else ""
    if mode not in MODES:
        raise SystemExit(f"mode must be one of {MODES}")
    app = build(mode, upstream)
    app.run(host="127.0.0.1", port=port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main(sys.argv[1:])
