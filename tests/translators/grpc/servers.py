"""Real grpc.aio servers for the gRPC translator's tests, serving protos/testing/testing.proto.

Messages come from the compiled descriptors (no generated code). The
``TestService`` answers:

* ``Echo``      the request itself
* ``Fail``      the status named in ``code``, optionally with google.rpc details
* ``Sleep``     an empty reply after ``seconds``
* ``Count``     ``n`` ticks, failing with ``code`` after ``fail_after`` when set
* ``Sum``       the sum and count of the ticks it is sent (client streaming); a tick
                with text "fail" makes it fail with FAILED_PRECONDITION
* ``Chat``      each tick doubled and upper-cased (bidi)
* ``Metadata``  the request metadata it saw (binary values in base64); sends ``x-served-by``
                and trailer ``x-trailer``

``start_reflecting_server`` serves TestService with a reflection service under the
given versions, listing services it cannot describe and with a file whose import
it cannot give, when asked to.

``start_test_server(lying=True)`` serves a TestService whose ``Echo`` answers
bytes that do not parse as its reply message, whose ``Count`` sends one
good tick and then such bytes, and whose ``Sleep`` and ``Sum`` end OK without
sending their one reply. ``handlers.cancelled`` lists the ``seconds``
of each ``Sleep`` call the client cancelled, ``handlers.ended_sums`` the text
of the last tick of each ``Sum`` call whose requests ended (finished, cancelled
by the client or past the deadline: grpc.aio ends the iteration alike).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from google.protobuf import any_pb2, descriptor_pb2, empty_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection, reflection_pb2
from grpc_reflection.v1alpha._async import ReflectionServicer

from translators.grpc.descriptors import ServiceSet, compile_protos, load_services

ROOT = Path(__file__).resolve().parents[3]
TESTING_PROTO = ROOT / "protos" / "testing" / "testing.proto"
SERVICE = "rosetta.testing.v1.TestService"

_services: ServiceSet | None = None


def services() -> ServiceSet:
    """The compiled testing proto (compiled once per test run)."""
    global _services
    if _services is None:
        _services = load_services(compile_protos([TESTING_PROTO]))
    return _services


def message(name: str) -> Any:
    """The dynamic class of message ``rosetta.testing.v1.<name>``."""
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(services().pool.FindMessageTypeByName(f"rosetta.testing.v1.{name}"))


def _details(code: grpc.StatusCode, text: str) -> bytes:
    bad = error_details_pb2.BadRequest(
        field_violations=[error_details_pb2.BadRequest.FieldViolation(field="name", description="must not be empty")]
    )
    info = error_details_pb2.ErrorInfo(reason="TEST_REASON", domain="rosetta.test", metadata={"k": "v"})
    details = []
    for item in (bad, info):
        packed = any_pb2.Any()
        packed.Pack(item)
        details.append(packed)
    return status_pb2.Status(code=code.value[0], message=text, details=details).SerializeToString()


async def _fail(context: grpc.aio.ServicerContext, code_name: str, text: str, details: bool) -> None:
    code = grpc.StatusCode[code_name]
    trailers = (("grpc-status-details-bin", _details(code, text)),) if details else ()
    await context.abort(code, text, trailing_metadata=trailers)


class _Handlers:
    def __init__(self) -> None:
        self.tick = message("Tick")
        self.total = message("Total")
        self.reply = message("MetadataReply")
        self.seen_metadata: list[dict[str, str]] = []
        self.cancelled: list[float] = []
        self.ended_sums: list[str] = []

    async def echo(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        return request

    async def fail(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        await _fail(context, request.code, request.message, request.with_details)

    async def sleep(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            await asyncio.sleep(request.seconds)
        except asyncio.CancelledError:
            self.cancelled.append(request.seconds)
            raise
        return empty_pb2.Empty()

    async def count(self, request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        for i in range(request.n):
            if request.code and i == request.fail_after:
                await _fail(context, request.code, f"failed after {i}", False)
            yield self.tick(n=i, text=f"tick {i}")
        if request.code and request.fail_after >= request.n:
            await _fail(context, request.code, "failed at the end", False)

    async def sum(self, requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
        total = count = 0
        last = ""
        async for tick in requests:
            if tick.text == "fail":
                await _fail(context, "FAILED_PRECONDITION", f"refused tick {tick.n}", False)
            total += tick.n
            count += 1
            last = tick.text
        self.ended_sums.append(last)
        return self.total(sum=total, count=count)

    async def chat(self, requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        async for tick in requests:
            if tick.text == "fail":
                await _fail(context, "ABORTED", "asked to fail", False)
            yield self.tick(n=tick.n * 2, text=tick.text.upper())

    async def metadata(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        seen = {k: v if isinstance(v, str) else base64.b64encode(v).decode() for k, v in context.invocation_metadata()}
        self.seen_metadata.append(seen)
        await context.send_initial_metadata((("x-served-by", "test-server"),))
        context.set_trailing_metadata((("x-trailer", "done"), ("x-ignored", "no")))
        return self.reply(metadata=seen)


#: A length-delimited field 1 that claims 255 bytes and has none: no message parses it.
UNPARSEABLE = b"\x0a\xff\x01"


async def _lying_echo(request: Any, context: grpc.aio.ServicerContext) -> bytes:
    return UNPARSEABLE


async def _lying_count(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    yield message("Tick")(n=0, text="tick 0").SerializeToString()
    yield UNPARSEABLE


async def _no_reply(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
    return
    yield  # an async generator: a stream handler may end OK having sent nothing


def _generic_handler(h: _Handlers, lying: bool = False) -> grpc.GenericRpcHandler:
    s = services()

    def io(name: str) -> dict[str, Any]:
        info = s.method(f"{SERVICE}/{name}")
        return {"request_deserializer": info.input.FromString, "response_serializer": info.output.SerializeToString}

    handlers = {
        "Echo": grpc.unary_unary_rpc_method_handler(h.echo, **io("Echo")),
        "Fail": grpc.unary_unary_rpc_method_handler(h.fail, **io("Fail")),
        "Sleep": grpc.unary_unary_rpc_method_handler(h.sleep, **io("Sleep")),
        "Count": grpc.unary_stream_rpc_method_handler(h.count, **io("Count")),
        "Sum": grpc.stream_unary_rpc_method_handler(h.sum, **io("Sum")),
        "Chat": grpc.stream_stream_rpc_method_handler(h.chat, **io("Chat")),
        "Metadata": grpc.unary_unary_rpc_method_handler(h.metadata, **io("Metadata")),
    }
    if lying:
        handlers["Echo"] = grpc.unary_unary_rpc_method_handler(_lying_echo, io("Echo")["request_deserializer"])
        handlers["Count"] = grpc.unary_stream_rpc_method_handler(_lying_count, io("Count")["request_deserializer"])
        handlers["Sleep"] = grpc.unary_stream_rpc_method_handler(_no_reply, io("Sleep")["request_deserializer"])
        handlers["Sum"] = grpc.stream_stream_rpc_method_handler(_no_reply, io("Sum")["request_deserializer"])
    return grpc.method_handlers_generic_handler(SERVICE, handlers)


@dataclass
class TestServer:
    """A running TestService; ``target`` is ``127.0.0.1:<port>``."""

    server: grpc.aio.Server
    port: int
    handlers: _Handlers
    health: Any = field(default=None)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self) -> None:
        await self.server.stop(grace=None)


async def start_test_server(
    *,
    port: int = 0,
    reflection_service: bool = False,
    health_service: bool = False,
    tls: tuple[bytes, bytes, bytes | None] | None = None,
    lying: bool = False,
) -> TestServer:
    """Serve TestService on 127.0.0.1 (``tls``: key, cert chain, client CA for mutual TLS)."""
    server = grpc.aio.server()
    handlers = _Handlers()
    server.add_generic_rpc_handlers([_generic_handler(handlers, lying)])
    names = [SERVICE]
    servicer = None
    if health_service:
        servicer = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        names.append("grpc.health.v1.Health")
    if reflection_service:
        reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], server, pool=services().pool)
    address = f"127.0.0.1:{port}"
    if tls is None:
        bound = server.add_insecure_port(address)
    else:
        key, chain, client_ca = tls
        creds = grpc.ssl_server_credentials([(key, chain)], root_certificates=client_ca, require_client_auth=client_ca is not None)
        bound = server.add_secure_port(address, creds)
    await server.start()
    return TestServer(server, bound, handlers, servicer)


class _Reflection(ReflectionServicer):
    """grpc's own reflection servicer, optionally claiming an import ``missing_import`` it cannot give."""

    def __init__(self, names: list[str], missing_import: str | None) -> None:
        super().__init__(names, pool=services().pool)
        self._missing_import = missing_import

    def _file_containing_symbol(self, request: Any, name: str) -> Any:
        response = super()._file_containing_symbol(request, name)
        if self._missing_import is None or not response.HasField("file_descriptor_response"):
            return response
        files = response.file_descriptor_response.file_descriptor_proto
        first = descriptor_pb2.FileDescriptorProto.FromString(files[0])
        first.dependency.append(self._missing_import)
        files[0] = first.SerializeToString()
        return response


def _reflection_handler(servicer: _Reflection, version: str) -> grpc.GenericRpcHandler:
    """``servicer`` as ``grpc.reflection.<version>`` (v1 and v1alpha share their messages on the wire)."""
    info = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        reflection_pb2.ServerReflectionRequest.FromString,
        reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    return grpc.method_handlers_generic_handler(f"grpc.reflection.{version}.ServerReflection", {"ServerReflectionInfo": info})


async def start_reflecting_server(
    *, versions: tuple[str, ...] = ("v1",), undescribed: tuple[str, ...] = (), missing_import: str | None = None
) -> TestServer:
    """TestService with reflection under ``versions``, also listing the ``undescribed`` services."""
    server = grpc.aio.server()
    handlers = _Handlers()
    servicer = _Reflection([SERVICE, *undescribed], missing_import)
    server.add_generic_rpc_handlers([_generic_handler(handlers), *(_reflection_handler(servicer, v) for v in versions)])
    bound = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return TestServer(server, bound, handlers)
