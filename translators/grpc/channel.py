"""The network side of the gRPC translator: the channel, server reflection and health.

One :func:`open_channel` per upstream, shared by every call. Reflection
(:func:`fetch_descriptors`) asks the server for the files defining each of its
services, following imports, using ``grpc.reflection.v1`` and falling back to
``v1alpha``. :func:`health` asks ``grpc.health.v1``. Errors here are raised as
:class:`ChannelError` with a sentence for the start-up report; call errors
go through :mod:`translators.grpc.boundary`.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
import grpc.aio
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from translators.grpc.settings import GrpcSettings

__all__ = ["ChannelError", "fetch_descriptors", "health", "open_channel"]

_REFLECTION_PATHS = (
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
)
_SKIPPED_SERVICES = frozenset(
    {"grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", "grpc.health.v1.Health"}
)
_HEALTH_PATH = "/grpc.health.v1.Health/Check"


# grpc.aio reports INTERNAL "Internal error from Core" instead of the server's
# status when the server ends the call (UNIMPLEMENTED) while our first request
# is still being written (about 1 in 150 tries here): ask again.
_ATTEMPTS = 3


def _lost_status(exc: grpc.aio.AioRpcError) -> bool:
    return exc.code() == grpc.StatusCode.INTERNAL and "Internal error from Core" in (exc.details() or "")


class ChannelError(Exception):
    """The upstream could not be reached or described at start-up."""


def open_channel(settings: GrpcSettings) -> grpc.aio.Channel:
    """The shared channel to ``settings.target``: plaintext, or TLS with optional client cert."""
    options: list[tuple[str, int | str]] = [
        ("grpc.max_receive_message_length", settings.max_message_bytes),
        ("grpc.max_send_message_length", settings.max_message_bytes),
        ("grpc.enable_retries", 0),
    ]
    if settings.tls is None:
        return grpc.aio.insecure_channel(settings.target, options=options)
    tls = settings.tls
    credentials = grpc.ssl_channel_credentials(
        root_certificates=tls.ca.read_bytes() if tls.ca else None,
        private_key=tls.key.read_bytes() if tls.key else None,
        certificate_chain=tls.cert.read_bytes() if tls.cert else None,
    )
    if tls.server_name:
        options.append(("grpc.ssl_target_name_override", tls.server_name))
    return grpc.aio.secure_channel(settings.target, credentials, options=options)


async def fetch_descriptors(channel: grpc.aio.Channel, timeout: float) -> descriptor_pb2.FileDescriptorSet:
    """Every file defining the server's services (and their imports), by server reflection."""
    last: grpc.aio.AioRpcError | None = None
    for path in _REFLECTION_PATHS:
        try:
            return await _collect(channel, path, timeout)
        except grpc.aio.AioRpcError as exc:
            last = exc
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                break
    assert last is not None
    if last.code() == grpc.StatusCode.UNIMPLEMENTED:
        raise ChannelError("the server does not offer gRPC server reflection (grpc.reflection.v1 or v1alpha)")
    raise ChannelError(f"server reflection failed: {last.code().name}: {last.details()}")


async def _collect(channel: grpc.aio.Channel, path: str, timeout: float) -> descriptor_pb2.FileDescriptorSet:
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return await _Reflection(channel, path, timeout).collect()
        except grpc.aio.AioRpcError as exc:
            if attempt == _ATTEMPTS or not _lost_status(exc):
                raise
    raise AssertionError("unreachable")


class _Reflection:
    """One reflection conversation: list services, then fetch files until imports are closed."""

    def __init__(self, channel: grpc.aio.Channel, path: str, timeout: float) -> None:
        self._call = channel.stream_stream(
            path,
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )(timeout=timeout)
        self._files: dict[str, descriptor_pb2.FileDescriptorProto] = {}

    async def collect(self) -> descriptor_pb2.FileDescriptorSet:
        try:
            listed = await self._ask(reflection_pb2.ServerReflectionRequest(list_services=""), "the list of services")
            services = [s.name for s in listed.list_services_response.service if s.name not in _SKIPPED_SERVICES]
            if not services:
                raise ChannelError("server reflection lists no services")
            for name in services:
                request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=name)
                await self._fetch(request, f"the file defining '{name}'")
            await self._close_imports()
        finally:
            self._call.cancel()
        return descriptor_pb2.FileDescriptorSet(file=list(self._files.values()))

    async def _ask(
        self, request: reflection_pb2.ServerReflectionRequest, what: str
    ) -> reflection_pb2.ServerReflectionResponse:
        """The server's answer to ``request``; ``what`` names what was asked for in an error."""
        await self._call.write(request)
        response = await self._call.read()
        if response is grpc.aio.EOF:
            raise ChannelError(f"the server closed the reflection stream early, asked for {what}")
        if response.HasField("error_response"):
            err = response.error_response
            raise ChannelError(f"server reflection could not give {what}: {err.error_message} (code {err.error_code})")
        return response

    async def _fetch(self, request: reflection_pb2.ServerReflectionRequest, what: str) -> None:
        response = await self._ask(request, what)
        for raw in response.file_descriptor_response.file_descriptor_proto:
            proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
            self._files.setdefault(proto.name, proto)

    async def _close_imports(self) -> None:
        while missing := _missing(self._files.values(), self._files):
            for name, importer in sorted(missing.items()):
                what = f"'{name}' (imported by '{importer}')"
                await self._fetch(reflection_pb2.ServerReflectionRequest(file_by_filename=name), what)
                if name not in self._files:
                    raise ChannelError(f"server reflection did not return {what}")


def _missing(files: Iterable[descriptor_pb2.FileDescriptorProto], known: dict[str, object]) -> dict[str, str]:
    """Each import not in ``known``, with a file importing it."""
    return {dep: f.name for f in files for dep in f.dependency if dep not in known}


async def health(channel: grpc.aio.Channel, timeout: float, service: str = "") -> bool | None:
    """``grpc.health.v1`` status: True when SERVING, False otherwise, None when not offered."""
    check = channel.unary_unary(
        _HEALTH_PATH,
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    try:
        reply = await check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    except grpc.aio.AioRpcError as exc:
        return None if exc.code() == grpc.StatusCode.UNIMPLEMENTED else False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

