"""Fixtures: a real grpc.aio TestService and gRPC translators pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from gateway.plugin import Operation
from gateway.testing import context
from tests.translators.grpc.servers import TESTING_PROTO, TestServer, start_test_server
from translators.grpc import GrpcSettings, GrpcTranslator

SERVICE = "rosetta.testing.v1.TestService"


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[TestServer]:
    running = await start_test_server(health_service=True)
    yield running
    await running.stop()


def settings(target: str, **overrides: Any) -> GrpcSettings:
    data: dict[str, Any] = {"type": "grpc", "target": target, "protos": [str(TESTING_PROTO)], "timeout": 5}
    data.update(overrides)
    return GrpcSettings.model_validate(data)


MakeTranslator = Callable[..., Any]


@pytest.fixture(params=["direct", "public"])
async def make_translator(server: TestServer, request: pytest.FixtureRequest) -> AsyncIterator[MakeTranslator]:
    """Build and start translators (closed after the test): ``await make_translator(**settings)``.

    Every test using it runs twice: unary calls through
    :class:`~translators.grpc.direct.DirectUnary` (``direct``), and through
    grpc.aio's multicallables (``public``, also the fallback).
    """
    started: list[GrpcTranslator] = []

    async def make(target: str | None = None, **overrides: Any) -> GrpcTranslator:
        overrides.setdefault("direct_calls", request.param == "direct")
        translator = GrpcTranslator("testing", settings(target or server.target, **overrides), context("testing"))
        await translator.start()
        started.append(translator)
        return translator

    yield make
    for translator in started:
        await translator.close()


@pytest.fixture
async def translator(make_translator: MakeTranslator) -> GrpcTranslator:
    return await make_translator()


def op(translator: GrpcTranslator, method: str, http: str = "POST", path: str | None = None) -> Operation:
    """The operation of ``method`` bound to ``http path`` (default: the POST route)."""
    name = f"{SERVICE}/{method}"
    for candidate in translator.operations():
        if candidate.name == name and candidate.method == http and (path is None or candidate.path == path):
            return candidate
    raise LookupError(f"no operation {http} {path} for {name}")


async def eventually(check: Callable[[], bool], seconds: float = 1.0) -> bool:
    """Whether ``check()`` comes true within ``seconds`` (asked every 20 ms)."""
    for _ in range(int(seconds / 0.02)):
        if check():
            return True
        await asyncio.sleep(0.02)
    return check()
