"""Fixtures for the SOAP translator tests: real local SOAP servers and started translators."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from gateway.testing import context, make_call
from tests.conftest import IN_CI
from tests.translators.soap.servers import Scripted, SpyneServer, start_scripted, start_spyne
from translators.soap import SoapSettings, SoapTranslator

ROOT = Path(__file__).resolve().parents[3]
WSDL = ROOT / "wsdl"

MakeTranslator = Callable[..., Awaitable[SoapTranslator]]


async def call(translator: SoapTranslator, operation: str, body: Any = None, **kwargs: Any) -> Any:
    """Call ``operation`` with ``body`` as JSON; the reply's JSON (the call must succeed)."""
    raw = b"" if body is None else json.dumps(body).encode()
    reply = await translator.handle(make_call(translator.operation(operation), body=raw, **kwargs))
    assert reply.status == 200
    return reply.json


def settings(**data: Any) -> SoapSettings:
    """SoapSettings as the config loader would build them (paths relative to the repo)."""
    return SoapSettings.model_validate({"type": "soap", **data}, context={"base_dir": ROOT})


@pytest_asyncio.fixture(scope="module")
async def scripted() -> AsyncIterator[Scripted]:
    backend = await start_scripted()
    yield backend
    await backend.stop()


def _spyne(version: str, tmp: Path) -> Iterator[tuple[SpyneServer, Path]]:
    try:
        server = start_spyne(version)
    except Exception as exc:  # the server could not start here
        message = f"the spyne SOAP {version} test server did not start: {exc!r}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    path = tmp / f"spyne{version}.wsdl"
    path.write_bytes(server.wsdl)
    yield server, path
    server.stop()


@pytest.fixture(scope="module")
def spyne11(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SpyneServer, Path]]:
    yield from _spyne("1.1", tmp_path_factory.mktemp("spyne11"))


@pytest.fixture(scope="module")
def spyne12(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SpyneServer, Path]]:
    yield from _spyne("1.2", tmp_path_factory.mktemp("spyne12"))


@pytest_asyncio.fixture
async def make_translator() -> AsyncIterator[MakeTranslator]:
    """Build and start a SoapTranslator from settings keywords; closed after the test."""
    started: list[SoapTranslator] = []

    async def make(name: str = "svc", **data: Any) -> SoapTranslator:
        translator = SoapTranslator(name, settings(**data), context(name, ROOT))
        await translator.start()
        started.append(translator)
        return translator

    yield make
    for translator in started:
        await translator.close()
