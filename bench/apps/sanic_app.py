"""A one-worker Sanic server: the bare baseline, or a forwarder over one HTTP client.

    python bench/apps/sanic_app.py MODE PORT [UPSTREAM_URL]

MODE ``bare`` answers every GET with the fixed 1 KB JSON; ``pool``, ``aiohttp``,
``httpx`` and ``httpx-pool`` forward each GET to ``UPSTREAM_URL`` + path with one
shared client: ``pool`` (Rosetta's HttpPool), ``aiohttp`` (one ClientSession),
``httpx`` (one AsyncClient, default pool) or ``httpx-pool`` (httpx over
Rosetta's transport).

MODE ``grpc`` is the plain handler a gRPC-to-JSON gateway starts from, with
``UPSTREAM_URL`` a gRPC target: every POST's JSON body is parsed with
``json_format.ParseDict`` into the benchmark's ``TestService/Echo`` request,
sent on one ``grpc.aio`` channel, and the reply returned through
``json_format.MessageToDict`` (its defaults) and Sanic's ``json``; ``GET /ready``
answers once the proto is loaded.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from google.protobuf import json_format  # noqa: E402
from sanic import Request, Sanic  # noqa: E402
from sanic.response import HTTPResponse, json, raw  # noqa: E402

from bench.payload import PAYLOAD  # noqa: E402

MODES = ("bare", "pool", "aiohttp", "httpx", "httpx-pool", "grpc")


def build(mode: str, upstream: str) -> Sanic:
    app = Sanic(f"bench_{mode.replace('-', '_')}", configure_logging=False)
    app.config.ACCESS_LOG = False
    app.config.MOTD = False
    if mode == "bare":
        app.add_route(_bare, "/<path:path>")
        return app
    if mode == "grpc":
        app.register_listener(lambda app: _open_grpc(app, upstream), "before_server_start")
        app.add_route(_ready, "/ready")
        app.add_route(_grpc_echo, "/<path:path>", methods=["POST"])
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


async def _ready(request: Request) -> HTTPResponse:
    return raw(b"ok")


async def _grpc_echo(request: Request, path: str) -> HTTPResponse:
    ctx = request.app.ctx
    message = json_format.ParseDict(request.json, ctx.echo_input())
    reply = await ctx.echo(message, timeout=30)
    return json(json_format.MessageToDict(reply))


async def _open_grpc(app: Sanic, target: str) -> None:
    import grpc.aio

    from bench.scenarios.grpc import PROTO, SERVICE
    from translators.grpc.descriptors import compile_protos, load_services

    info = load_services(compile_protos([PROTO])).method(f"{SERVICE}/Echo")
    channel = grpc.aio.insecure_channel(target)
    app.ctx.echo_input = info.input
    app.ctx.echo = channel.unary_unary(info.wire_path, info.input.SerializeToString, info.output.FromString)


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
