"""The ``grpc`` translator: REST/JSON in front of a gRPC service.

At start-up it compiles the configured protos (or fetches descriptors by
server reflection), opens one shared channel and publishes an operation per
method and per HTTP binding (see :mod:`translators.grpc.operations`). A call
is assembled from path variables, query parameters and the JSON body by the
binding's rule, sent with the request id and configured metadata under the
call's deadline, and answered as JSON; server-streaming answers stream
(:mod:`translators.grpc.streaming`); client-streaming and bidi calls read an
NDJSON body.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc.aio
from google.protobuf import descriptor_pb2
from google.protobuf.message import Message

from gateway.auth.upstream import outgoing_headers
from gateway.errors import GatewayTimeout, InvalidArguments, InvalidHeader, UnknownOperation
from gateway.plugin import (
    Call,
    CorpusReport,
    Operation,
    Reply,
    Translator,
    TranslatorContext,
    UpstreamSettings,
)
from translators.grpc import calls
from translators.grpc.batching import batches
from translators.grpc.boundary import ErrorContext
from translators.grpc.channel import fetch_descriptors, health, open_channel
from translators.grpc.codec import Codec, JsonOptions, loads
from translators.grpc.descriptors import MethodInfo, ServiceSet, compile_protos, load_services
from translators.grpc.direct import DirectUnary
from translators.grpc.fielderrors import invalid
from translators.grpc.httprule import assemble, pick_response
from translators.grpc.metadata import outgoing
from translators.grpc.operations import DEFAULT_BINDING, build_operations
from translators.grpc.settings import GrpcSettings
from translators.grpc.streaming import choose_format, empty, ndjson_values, render

__all__ = ["GrpcTranslator"]

log = logging.getLogger("rosetta.grpc")

# Streamed messages are written in batches of up to _BATCH, at most one write per
# _LINGER seconds while they flow (measured at 50 streams: about a third less CPU per message).
_BATCH, _LINGER = 256, 0.005
# A quiet SSE stream gets a keep-alive comment this often (seconds): well under the 60 s
# after which nginx (proxy_read_timeout) and cloud load balancers drop an idle connection.
_KEEPALIVE = 15.0
_KINDS = {None: "unary_unary", "server": "unary_stream", "client": "stream_unary", "bidi": "stream_stream"}


@dataclass(frozen=True, slots=True)
class _Stub:
    info: MethodInfo
    method: calls.Method


class GrpcTranslator(Translator):
    """Serves every method of one gRPC upstream as JSON over HTTP.

    Example config::

        upstreams:
          library: {type: grpc, target: "127.0.0.1:50051", protos: [protos/library.proto]}
        routes:
          - {prefix: /api, upstream: library}
    """

    type_name = "grpc"
    settings_model = GrpcSettings
    settings: GrpcSettings

    @classmethod
    def check_corpus(cls, folder: Path) -> CorpusReport:
        """Every ``.proto`` under ``folder``, compiled and turned into operations."""
        from translators.grpc import corpus

        report = corpus.check_corpus(folder)
        lines = [f"FAIL {path}: {reason}" for path, reason in report.failures]
        lines += [f"skip {binding}" for binding in report.skipped]
        lines.append(f"{report.bindings} HTTP bindings")
        return CorpusReport(report.loaded, report.failed, report.methods, tuple(lines))

    def __init__(self, name: str, settings: UpstreamSettings, context: TranslatorContext) -> None:
        super().__init__(name, settings, context)
        self._channel: grpc.aio.Channel | None = None
        self._stubs: dict[str, _Stub] = {}
        self._operations: list[Operation] = []
        self._services: ServiceSet | None = None
        self._static_metadata = tuple((k, outgoing(k, v)) for k, v in self.settings.metadata.items())
        self._id_key = context.request_id_header.lower()

    async def start(self) -> None:
        self._channel = open_channel(self.settings)
        skipped: list[str] = []
        try:
            services = load_services(await self._descriptor_files())
            self._operations = build_operations(
                services, proto_names=self.settings.preserve_proto_field_names, skipped=skipped
            )
        except BaseException:
            await self.close()
            raise
        for problem in skipped:
            log.warning("upstream '%s': %s", self.name, problem)
        self._prepare(services)

    async def _descriptor_files(self) -> descriptor_pb2.FileDescriptorSet:
        assert self._channel is not None
        if self.settings.reflection:
            return await fetch_descriptors(self._channel, self.settings.timeout)
        return compile_protos(self.settings.protos, self.settings.import_paths)

    def _prepare(self, services: ServiceSet) -> None:
        """Codecs, error context and one multicallable per method, built once."""
        self._services = services
        options = JsonOptions(
            preserve_proto_field_names=self.settings.preserve_proto_field_names,
            emit_unpopulated=self.settings.emit_unpopulated,
            ignore_unknown_fields=self.settings.ignore_unknown_fields,
            pool=services.pool,
        )
        self._codec = Codec(options)
        self._codec_all = Codec(replace(options, emit_unpopulated=True))  # for response_body
        self._errors = ErrorContext(self.name, services.pool, frozenset(self.settings.response_metadata))
        self._stubs = {m.name: _Stub(m, self._method(m)) for m in services.methods}

    def _method(self, info: MethodInfo) -> calls.Method:
        assert self._channel is not None
        factory = getattr(self._channel, _KINDS[info.streaming])
        # Replies come back as bytes: calls.Method.parse turns them into messages.
        multicallable = factory(info.wire_path, request_serializer=info.input.SerializeToString, _registered_method=True)
        direct = DirectUnary.of(multicallable) if info.streaming is None and self.settings.direct_calls else None
        return calls.Method(multicallable, info.output.FromString, direct)

    async def close(self) -> None:
        channel, self._channel = self._channel, None
        for stub in self._stubs.values():
            if stub.method.direct is not None:
                stub.method.direct.cancel_all()
        if channel is not None:
            await channel.close()

    async def ready(self) -> bool:
        if self._channel is None:
            return False
        timeout = min(self.settings.timeout, 2.0)
        if self.settings.health_check:
            status = await health(self._channel, timeout)
            if status is not None:
                return status
        try:
            await asyncio.wait_for(self._channel.channel_ready(), timeout)
        except TimeoutError:
            return False
        return True

    def operations(self) -> Sequence[Operation]:
        return self._operations

    @property
    def services(self) -> ServiceSet:
        """The loaded service definitions (after :meth:`start`)."""
        assert self._services is not None, "start() first"
        return self._services

    async def handle(self, call: Call) -> Reply:
        stub = self._stubs.get(call.operation.name)
        if stub is None:
            raise UnknownOperation(f"upstream '{self.name}' has no method '{call.operation.name}'")
        inv = self._invocation(call)
        kind = stub.info.streaming
        if kind is None:
            response, headers = await calls.unary(stub.method, await self._request(call, stub), inv)
            return Reply(json=self._encoder(call, stub)(response), headers=headers)
        if kind == "server":
            request = await self._request(call, stub)
            return self._stream_reply(call, await calls.server_stream(stub.method, request, inv, self._encoder(call, stub)))
        requests = self._request_stream(call, stub)
        if kind == "client":
            response, headers = await calls.client_stream(stub.method, requests, inv)
            return Reply(json=self._encoder(call, stub)(response), headers=headers)
        return self._stream_reply(call, await calls.bidi(stub.method, requests, inv, self._encoder(call, stub)))

    def _invocation(self, call: Call) -> calls.Invocation:
        timeout = self.settings.timeout
        if call.deadline is not None:
            timeout = min(timeout, call.deadline - asyncio.get_running_loop().time())
            if timeout <= 0:
                raise GatewayTimeout(f"no time was left to call upstream '{self.name}'")
        metadata: calls.Metadata = ((self._id_key, call.request_id), *self._static_metadata)
        if self.settings.forward_headers:
            metadata += tuple(self._forwarded(call))
        if self.settings.auth is not None:
            metadata += tuple(self._credentials(call))
        return calls.Invocation(timeout, metadata, self._errors)

    def _credentials(self, call: Call) -> list[tuple[str, str]]:
        """``auth:`` credentials and identity, as metadata (whose keys are lower case)."""
        return [(k.lower(), v) for k, v in outgoing_headers(self.settings.auth, call.consumer)]

    def _forwarded(self, call: Call) -> list[tuple[str, str | bytes]]:
        """The ``forward_headers`` the caller sent; one gRPC metadata cannot carry is a 400."""
        out = []
        for name in self.settings.forward_headers:
            value = call.header(name)
            if value is None:
                continue
            try:
                out.append((name, outgoing(name, value)))
            except ValueError as exc:
                raise InvalidHeader(f"header '{name}' cannot be passed on to upstream '{self.name}': {exc}") from None
        return out

    async def _request(self, call: Call, stub: _Stub) -> Message:
        extra: Mapping[str, Any] = call.operation.extra or DEFAULT_BINDING
        body_field = extra.get("body", "*")
        if body_field:
            body = _json_body(await call.read_body(), whole=body_field == "*")
        else:
            body = None
            if call.content_length is not None or call.chunked:  # read even "Content-Length: 0": Sanic logs
                _no_body(await call.read_body())                   # an error for a body left unread
        if body_field == "*" and not call.query and not call.path_params:
            return self._codec.decode(body, stub.info.input)
        data = assemble(
            stub.info.input.DESCRIPTOR,
            body_field,
            call.path_params,
            call.query,
            body,
            ignore_unknown=self.settings.ignore_unknown_fields,
            query_with_body=extra.get("binding") is None,
        )
        return self._codec.decode(data, stub.info.input)

    async def _request_stream(self, call: Call, stub: _Stub) -> AsyncIterator[Message]:
        """The NDJSON body as request messages; a bad line is a 400 naming it."""
        async for number, value in ndjson_values(_body_chunks(call)):
            try:
                yield self._codec.decode(_not_null(value), stub.info.input)
            except InvalidArguments as exc:
                errors = [{**e, "line": number} for e in exc.extra.get("errors", [])]
                raise InvalidArguments(f"line {number}: {exc.detail}", errors=errors) from None

    def _encoder(self, call: Call, stub: _Stub) -> calls.Encode:
        picked = (call.operation.extra or {}).get("response_body") or ""
        if not picked:
            return self._codec.encode
        descriptor, proto_names, encode = stub.info.output.DESCRIPTOR, self.settings.preserve_proto_field_names, self._codec_all.encode
        return lambda message: pick_response(descriptor, encode(message), picked, proto_names)

    def _stream_reply(self, call: Call, streamed: calls.Streamed) -> Reply:
        """The stream framed as ``Accept`` asks; ``Vary: Accept`` so caches keep each framing apart."""
        fmt = choose_format(_accept(call))
        headers = [*streamed.headers, ("Cache-Control", "no-cache"), ("Vary", "Accept")]
        if streamed.first is calls.END:
            return Reply(body=empty(fmt), content_type=fmt.content_type, headers=headers)
        idle = _KEEPALIVE if fmt.keepalive else None
        stream = render(batches(streamed.rest, _BATCH, _LINGER, idle), fmt, call.request_id, streamed.first)
        return Reply(stream=stream, content_type=fmt.content_type, headers=headers)


def _accept(call: Call) -> str:
    """Every ``Accept`` header of the call, as one list (RFC 9110 §5.3)."""
    return ", ".join([value for key, value in call.headers if key.lower() == "accept"])


def _json_body(raw: bytes, *, whole: bool) -> Any:
    """The parsed body, ``None`` when empty; ``null`` as the ``whole`` message is refused."""
    if not raw.strip():
        return None
    body = loads(raw)
    return _not_null(body) if whole else body


def _not_null(value: Any) -> Any:
    """``value``, unless it is JSON ``null``: to the codec ``None`` means no body, an empty message."""
    if value is None:
        raise invalid("", "the request must be a JSON object, not null")
    return value


def _no_body(raw: bytes) -> None:
    """A binding without ``body`` takes none: a body with fields in it would be dropped unread."""
    if raw.strip() and loads(raw) != {}:
        raise invalid("", "this HTTP binding takes no request body: send the fields in the path or the query string")


async def _body_chunks(call: Call) -> AsyncIterator[bytes]:
    chunks = call.stream_body()
    if chunks is None:
        yield await call.read_body()
        return
    async for chunk in chunks:
        yield chunk
