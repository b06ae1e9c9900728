"""Tools for testing Rosetta and translators: a fake translator, a conformance
kit every translator's tests reuse, a :class:`Call` builder and an in-process
gateway on a real socket.

A translator's test module reuses the conformance kit like this::

    class TestEchoConformance(TranslatorConformance):
        @pytest.fixture
        async def translator(self):
            t = EchoTranslator("echo", EchoSettings(type="echo"), context())
            await t.start()
            yield t
            await t.close()

        @pytest.fixture
        def sample_call(self, translator):
            return make_call(translator.operations()[0], body=b"{}")

and an end-to-end test serves a real gateway::

    async with serve_gateway({"upstreams": {...}, "routes": [...]}) as base_url:
        ...
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs

from pydantic import Field

from gateway.config import Config, build_config
from gateway.errors import GatewayError, ServiceUnavailable
from gateway.plugin import (
    NOTHING,
    Call,
    Operation,
    Reply,
    Translator,
    TranslatorContext,
    UpstreamSettings,
)
from gateway.routing import compile_template

__all__ = [
    "FakeSettings",
    "FakeTranslator",
    "TranslatorConformance",
    "context",
    "free_port",
    "make_call",
    "serve_gateway",
]


class FakeSettings(UpstreamSettings):
    """``type: gateway.testing:FakeTranslator`` — an in-memory upstream."""

    type: Literal["gateway.testing:FakeTranslator"] = "gateway.testing:FakeTranslator"
    fail: Literal["none", "unreachable", "slow"] = Field("none", description="How the fake fails.")
    delay: float = Field(0.0, ge=0, description="Seconds each call waits before answering.")


class FakeTranslator(Translator):
    """Echoes its call: ``Echo`` returns the merged arguments, ``Status`` a chosen status.

    It needs no network, so core tests and the conformance kit's own tests use it.
    """

    type_name = "fake"
    settings_model = FakeSettings
    settings: FakeSettings

    _ops = (
        Operation(
            name="Echo",
            method="POST",
            path="/Echo",
            request_schema={"type": "object"},
            response_schema={"type": "object"},
            summary="Return the call's arguments.",
        ),
        Operation(
            name="Status",
            method="GET",
            path="/status/{code}",
            request_schema={"type": "object", "properties": {"code": {"type": "string"}}},
            response_schema={"type": "object"},
            summary="Answer with the status code in the path.",
            idempotent=True,
        ),
    )

    def __init__(self, name: str, settings: UpstreamSettings, context: TranslatorContext) -> None:
        super().__init__(name, settings, context)
        self.calls: list[Call] = []

    def operations(self) -> Sequence[Operation]:
        return self._ops

    async def handle(self, call: Call) -> Reply:
        self.calls.append(call)
        if self.settings.fail == "unreachable":
            raise ServiceUnavailable(f"upstream '{self.name}' is unreachable")
        if self.settings.delay or self.settings.fail == "slow":
            await asyncio.sleep(self.settings.delay or 3600)
        if call.operation.name == "Status":
            return Reply(status=int(call.path_params.get("code", "200")), json={"ok": True})
        args = await call.arguments()
        return Reply(json={"args": args, "consumer": call.consumer.id, "request_id": call.request_id})


def context(name: str = "test", config_dir: Path | None = None, **kwargs: Any) -> TranslatorContext:
    """A :class:`TranslatorContext` for building a translator in a test."""
    return TranslatorContext(upstream=name, config_dir=config_dir or Path.cwd(), **kwargs)


def make_call(
    operation: Operation,
    *,
    method: str | None = None,
    path: str = "/",
    body: bytes = b"",
    query: str = "",
    headers: Sequence[tuple[str, str]] = (),
    path_params: Mapping[str, str] | None = None,
    request_id: str = "test-request",
    **kwargs: Any,
) -> Call:
    """A :class:`Call` as the pipeline would build it, for translator tests."""

    async def read() -> bytes:
        return body

    async def stream() -> AsyncIterator[bytes]:
        if body:
            yield body

    return Call(
        operation=operation,
        method=method or (operation.method if operation.method != "*" else "GET"),
        path=path,
        query_string=query,
        query=parse_qs(query, keep_blank_values=True),
        path_params=dict(path_params or {}),
        headers=list(headers),
        request_id=request_id,
        content_length=len(body) if body else None,
        client_ip="127.0.0.1",
        host="gateway.test",
        _read=read,
        _stream=stream,
        **kwargs,
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_gateway(
    config: Config | Mapping[str, Any], base_dir: Path | None = None
) -> AsyncIterator[str]:
    """Serve Rosetta in this event loop on a free loopback port; yield its base URL (https with server.tls)."""
    from gateway.app import create_app, start_server
    from gateway.auth.tls import server_ssl_context

    if not isinstance(config, Config):
        config = build_config(config, base_dir or Path.cwd())
    tls = config.server.tls
    running = await start_server(create_app(config), ssl=server_ssl_context(tls) if tls else None)
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{running.port}"
    finally:
        await running.stop()


class TranslatorConformance:
    """Checks every translator must pass. Subclass it as ``Test<Name>Conformance``.

    Provide two fixtures: ``translator`` (started, closed after the test) and
    ``sample_call`` (a :class:`Call` the translator answers successfully).
    """

    async def test_operations_are_described(self, translator: Translator) -> None:
        ops = translator.operations()
        assert ops, "a translator must offer at least one operation"
        for op in ops:
            assert isinstance(op, Operation)
            assert op.name and op.method in {"*", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
            compile_template(op.path or "/")
            assert isinstance(op.request_schema, Mapping) and isinstance(op.response_schema, Mapping)
            assert op.streaming in (None, "server", "client", "bidi")

    async def test_named_operations_resolve(self, translator: Translator) -> None:
        for op in translator.operations():
            if op.name != "*":
                assert translator.operation(op.name).name == op.name

    async def test_unknown_operation_is_a_404(self, translator: Translator) -> None:
        if translator.passthrough:
            return
        try:
            translator.operation("NoSuchOperation-x")
        except GatewayError as exc:
            assert exc.http_status == 404
        else:
            raise AssertionError("an unknown operation must raise UnknownOperation")

    async def test_settings_reject_unknown_keys(self, translator: Translator) -> None:
        data = translator.settings.model_dump(mode="json")
        data["no_such_key"] = 1
        try:
            type(translator.settings).model_validate(data)
        except ValueError:
            return
        raise AssertionError("a translator's settings model must forbid unknown keys")

    async def test_sample_call_gets_one_kind_of_reply(self, translator: Translator, sample_call: Call) -> None:
        reply = await translator.handle(sample_call)
        assert isinstance(reply, Reply)
        assert 100 <= reply.status <= 599
        kinds = [reply.json is not NOTHING, reply.body is not None, reply.stream is not None]
        assert sum(kinds) == 1, "a reply carries exactly one of json, body or stream"
        if reply.stream is not None:
            async for _ in reply.stream:
                pass

    async def test_close_can_be_called_twice(self, translator: Translator) -> None:
        await translator.close()
        await translator.close()
