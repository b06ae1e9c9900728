"""Shared checks for the auth tests."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

import httpx

from gateway.auth.upstream import with_upstream_auth
from gateway.plugin import Call, Operation, Reply, Translator, UpstreamSettings

FAKE = "gateway.testing:FakeTranslator"
INVALID_TOKEN = 'Bearer realm="rosetta", error="invalid_token"'


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """``response`` is a problem+json document with this status and type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:rosetta:problem:{slug}"
    assert body["status"] == status and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def assert_invalid_token(response: httpx.Response, token: str = "") -> None:
    """A 401 that names no failed check: the same challenge and detail for every bad token."""
    body = assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == INVALID_TOKEN
    assert body["detail"] == "the bearer token is not valid"
    if token:
        assert token not in response.text


def assert_missing_credentials(response: httpx.Response) -> None:
    """A 401 asking for a bearer token, with no error code (RFC 6750 §3.1)."""
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Bearer realm="rosetta"'


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class HeaderEchoSettings(UpstreamSettings):
    type: Literal["tests.gateway.auth.helpers:HeaderEcho"] = "tests.gateway.auth.helpers:HeaderEcho"


class HeaderEcho(Translator):
    """Answers with the headers it would send upstream, as a REST translator builds them."""

    settings_model = HeaderEchoSettings

    def operations(self) -> Sequence[Operation]:
        return [Operation(name="Echo", method="*", path="/{path=**}")]

    async def handle(self, call: Call) -> Reply:
        await call.read_body()
        headers = with_upstream_auth(call.headers, self.settings.auth, call.consumer)
        return Reply(json={"headers": [list(h) for h in headers], "consumer": call.consumer.id, "pid": os.getpid()})


ECHO = "tests.gateway.auth.helpers:HeaderEcho"


def sent_headers(response: httpx.Response) -> dict[str, list[str]]:
    """What ``HeaderEcho`` would have sent upstream, by lower-case name."""
    found: dict[str, list[str]] = {}
    for name, value in response.json()["headers"]:
        found.setdefault(name.lower(), []).append(value)
    return found


def one_connection_call(runtime: Any, header: tuple[str, str], path: str) -> Any:
    """An exchange on ``path`` carrying ``header``, as every call of one keep-alive connection
    would (the same connection context each time)."""
    from types import SimpleNamespace

    from sanic.compat import Header

    from gateway.pipeline import Exchange

    request = SimpleNamespace(headers=Header([header]), conn_info=SimpleNamespace(ctx=SimpleNamespace()), ip="127.0.0.1")
    exchange = Exchange(request, runtime, "id", 0.0)  # type: ignore[arg-type]
    exchange.endpoint = runtime.routes.match("POST", path)[0]
    return exchange


def counting(owner: Any, name: str) -> list[Any]:
    """Wrap ``owner.name`` so each call's first argument is appended to the returned list."""
    calls: list[Any] = []
    original = getattr(owner, name)
    setattr(owner, name, lambda arg: calls.append(arg) or original(arg))
    return calls
