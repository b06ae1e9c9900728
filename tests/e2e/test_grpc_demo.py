"""The demo's gRPC curl lines work: the bookshelf backend behind Rosetta serving demo.yaml."""

from __future__ import annotations

import json
import shlex

import httpx
import pytest

from gateway.auth.demo import DEMO_SECRET_ENV, demo_secret
from gateway.config import load_config
from gateway.demo import DEMO_CONFIG
from gateway.demo.grpc_backend import CURL_LINES, PORT_ENV, start
from gateway.testing import serve_gateway


@pytest.fixture(scope="module")
async def demo():
    backend = await start("127.0.0.1", 0)
    try:
        config = load_config(DEMO_CONFIG, env={PORT_ENV: str(backend.port), DEMO_SECRET_ENV: demo_secret()})
        async with serve_gateway(config) as url, httpx.AsyncClient(timeout=10) as client:
            yield url, client
    finally:
        await backend.stop()


def as_request(line: str, gateway: str) -> tuple[str, str, dict[str, str], bytes | None, int]:
    """Method, URL, headers, body and expected status of one printed curl line."""
    command, _, comment = line.format(gateway=gateway).partition("#")
    args = shlex.split(command)
    assert args[0] == "curl"
    method, headers, body, url = "GET", {}, None, None
    it = iter(args[1:])
    for arg in it:
        if arg == "-X":
            method = next(it)
        elif arg == "-H":
            name, _, value = next(it).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            body, method = next(it).encode(), "POST" if method == "GET" else method
        elif not arg.startswith("-"):
            url = arg
    assert url is not None
    expected = int(comment.split("expect", 1)[1].split()[0]) if "expect" in comment else 200
    return method, url, headers, body, expected


@pytest.mark.parametrize("line", CURL_LINES)
async def test_each_printed_curl_line_works(demo, line):
    gateway, client = demo
    method, url, headers, body, expected = as_request(line, gateway)
    response = await client.request(method, url, headers=headers, content=body)
    assert response.status_code == expected, response.text
    if expected == 200:
        assert response.text.strip() and "urn:rosetta:problem" not in response.text


async def test_the_demo_error_carries_grpc_details(demo):
    gateway, client = demo
    response = await client.get(f"{gateway}/v1/bookshelf/v1/shelves/1/books/99")
    body = response.json()
    assert body["grpc_status"] == "NOT_FOUND"
    assert {d["@type"].rsplit(".", 1)[1] for d in body["details"]} == {"ErrorInfo", "ResourceInfo"}


async def test_the_demo_stream_sends_one_book_per_line(demo):
    gateway, client = demo
    response = await client.get(f"{gateway}/v1/bookshelf/v1/shelves/2/books")
    books = [json.loads(line) for line in response.text.splitlines()]
    assert [b["title"] for b in books] == ["The Double Helix", "Invisible Cities"]


async def test_an_incomplete_book_is_a_400_with_field_violations(demo):
    gateway, client = demo
    response = await client.post(f"{gateway}/v1/bookshelf/v1/shelves/1/books", json={"title": "No author"})
    body = response.json()
    assert response.status_code == 400 and body["grpc_status"] == "INVALID_ARGUMENT"
    assert body["details"][0]["fieldViolations"] == [{"field": "book.author", "description": "required"}]
