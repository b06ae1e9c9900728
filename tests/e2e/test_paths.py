"""Dot segments at the front door, over raw sockets: a call is routed on its resolved path
and sent upstream resolved, so no route reaches beside the upstream path it is scoped to."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.testing import serve_gateway
from tests.e2e.http_upstream import http_upstream


async def raw_get(base: str, path: str) -> tuple[int, dict]:
    """``GET path`` exactly as written (HTTP clients resolve dot segments before sending)."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


@pytest.fixture(scope="module")
async def setup():
    async with http_upstream("backend") as upstream:
        config = {
            "upstreams": {"backend": {"type": "rest", "url": upstream.url + "/base"}},
            "routes": [
                {"prefix": "/open", "upstream": "backend", "auth": "none"},
                {"prefix": "/locked", "upstream": "backend"},  # needs credentials nobody has here
            ],
        }
        async with serve_gateway(config) as url:
            yield url, upstream


@pytest.mark.parametrize(
    ("path", "sent"),
    [
        ("/open/./a/../b", "/base/b"),
        ("/open/a/%2E/b/%2e%2e/c", "/base/a/c"),
        ("/open/a/..", "/base/"),
        ("/open/a%2Fb", "/base/a%2Fb"),  # an encoded slash is data: kept as sent
    ],
)
async def test_dot_segments_are_resolved_before_the_call_goes_upstream(setup, path, sent):
    url, upstream = setup
    status, body = await raw_get(url, path)
    assert status == 200 and upstream.raw_paths[-1] == sent, body


@pytest.mark.parametrize("path", ["/open/../locked/admin", "/open/%2e%2e/locked/admin", "/open/.%2E/locked/admin"])
async def test_climbing_out_of_a_route_lands_on_the_route_it_names_and_its_auth(setup, path):
    url, upstream = setup
    before = len(upstream.raw_paths)
    status, body = await raw_get(url, path)
    assert status == 401 and body["type"] == "urn:rosetta:problem:unauthorized"
    assert len(upstream.raw_paths) == before


@pytest.mark.parametrize("path", ["/open/../../etc/passwd", "/open/..;/locked/admin", "/open/a%2F..%2F..%2Flocked"])
async def test_a_path_that_climbs_above_its_root_or_hides_a_dot_segment_is_a_400(setup, path):
    url, upstream = setup
    before = len(upstream.raw_paths)
    status, body = await raw_get(url, path)
    assert status == 400 and body["type"] == "urn:rosetta:problem:invalid-path" and body["request_id"]
    assert len(upstream.raw_paths) == before
