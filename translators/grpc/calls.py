"""Performing one gRPC call of each kind on the shared channel.

Every grpc exception raised here goes through
:func:`translators.grpc.boundary.to_gateway_error`; callers see only
:mod:`gateway.errors`. Streaming calls return the first response (so a
failure before it still gets a real HTTP status) and an iterator of the rest,
already turned into JSON-ready values; a failure in the rest is raised from
the iterator as a :class:`~gateway.errors.GatewayError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import grpc
import grpc.aio
from google.protobuf.message import Message

from gateway.errors import BadGateway, GatewayError
from translators.grpc.boundary import FOREIGN_ERRORS, ErrorContext, header_text, to_gateway_error
from translators.grpc.direct import DirectUnary

__all__ = ["END", "Invocation", "Metadata", "Method", "Streamed", "bidi", "client_stream", "server_stream", "unary"]

#: Metadata as grpc takes it: text values, bytes under ``-bin`` keys.
Metadata = tuple[tuple[str, str | bytes], ...]
Encode = Callable[[Message], Any]
EncodeReply = Callable[[bytes], Any]  # a reply still in bytes, parsed then encoded

#: The first response of a stream that had none.
END: Any = object()


class Invocation(NamedTuple):
    """How to make one call: deadline, metadata out, metadata wanted back, error context."""

    timeout: float
    metadata: Metadata
    errors: ErrorContext

    def fail(self, exc: BaseException) -> GatewayError:
        return to_gateway_error(exc, self.errors)


@dataclass(frozen=True, slots=True)
class Method:
    """One method as the calls here make it.

    ``multicallable`` hands replies back as bytes and ``parse`` turns them into
    messages: grpc.aio logs a reply its deserializer cannot parse and returns
    ``None``, where Rosetta answers 502 (``DecodeError``). A unary method has a
    :class:`~translators.grpc.direct.DirectUnary` where grpc.aio allows, used
    until it reports a fallback.
    """

    multicallable: Any
    parse: Callable[[bytes], Message]
    direct: DirectUnary | None = None


@dataclass(slots=True)
class Streamed:
    """A streaming call under way: the first value (or :data:`END`), the rest, response headers."""

    first: Any
    rest: AsyncIterator[Any]
    headers: list[tuple[str, str]]


async def unary(method: Method, request: Message, inv: Invocation) -> tuple[Message, list[tuple[str, str]]]:
    """One request, one response, and the configured response metadata as headers."""
    try:
        direct = method.direct
        if direct is not None and not direct.fallback:
            finished = await direct(request, inv.timeout, inv.metadata)
            if finished is not None:
                wanted = inv.errors.response_metadata
                return _one_reply(method, finished.raw, inv), (_wanted(finished.metadata(), wanted) if wanted else [])
        call = method.multicallable(request, timeout=inv.timeout, metadata=inv.metadata)
        raw = await _reply(call)
        return _one_reply(method, raw, inv), (await _headers(call, inv, trailers=True) if inv.errors.response_metadata else [])
    except FOREIGN_ERRORS as exc:
        raise inv.fail(exc) from None


async def server_stream(method: Method, request: Message, inv: Invocation, encode: Encode) -> Streamed:
    """Start a server-streaming call and wait for its first message."""
    call = method.multicallable(request, timeout=inv.timeout, metadata=inv.metadata)
    return await _first_and_rest(call, inv, _parsed(method, encode), writer=None)


async def client_stream(
    method: Method, requests: AsyncIterator[Message], inv: Invocation
) -> tuple[Message, list[tuple[str, str]]]:
    """Send every request as it is read, then wait for the one response.

    A bad request (a :class:`GatewayError` from ``requests``) cancels the call
    and is raised as it is; so does the request's task being cancelled (the
    caller went away mid-body), rather than leaving the call open until its
    deadline.
    """
    call = method.multicallable(timeout=inv.timeout, metadata=inv.metadata)
    try:
        await _write_all(call, requests)
        raw = await _reply(call)
        return _one_reply(method, raw, inv), await _headers(call, inv, trailers=True)
    except FOREIGN_ERRORS as exc:
        raise inv.fail(exc) from None
    except BaseException:  # GatewayError, CancelledError
        call.cancel()
        raise


async def bidi(method: Method, requests: AsyncIterator[Message], inv: Invocation, encode: Encode) -> Streamed:
    """Send requests from a task while responses stream back; wait for the first response."""
    call = method.multicallable(timeout=inv.timeout, metadata=inv.metadata)
    writer = _Writer(call, requests)
    return await _first_and_rest(call, inv, _parsed(method, encode), writer=writer)


async def _reply(call: Any) -> bytes:
    """The one reply of ``call``; a call the channel cancelled under us is ``FutureCancelledError``."""
    try:
        return await call  # type: ignore[no-any-return]
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        raise grpc.FutureCancelledError() from None  # the channel closed under the call


def _one_reply(method: Method, raw: bytes | None, inv: Invocation) -> Message:
    """The reply of a call that has one; grpc gives ``None`` when the server ended OK without it."""
    if raw is None:
        raise BadGateway(f"upstream '{inv.errors.upstream}' ended the call without sending its reply")
    return method.parse(raw)


def _parsed(method: Method, encode: Encode) -> EncodeReply:
    """``encode`` for a reply still in bytes."""
    parse = method.parse
    return lambda raw: encode(parse(raw))


class _Writer:
    """Feeds a call from an iterator; a bad request is kept and the call cancelled."""

    def __init__(self, call: Any, requests: AsyncIterator[Message]) -> None:
        self.error: GatewayError | None = None
        self._call = call
        self._task = asyncio.get_running_loop().create_task(self._run(requests))

    async def _run(self, requests: AsyncIterator[Message]) -> None:
        try:
            await _write_all(self._call, requests)
        except GatewayError as exc:
            self.error = exc
            self._call.cancel()
        except FOREIGN_ERRORS:
            pass  # the reading side reports the call's own status

    def stop(self) -> None:
        self._task.cancel()


async def _write_all(call: Any, requests: AsyncIterator[Message]) -> None:
    """Send every request, then half-close; stop quietly once the call has ended.

    A server may answer (or fail) before reading everything; awaiting or
    reading the call then reports its status, which a write would not.
    """
    try:
        async for request in requests:
            if call.done():
                return
            await call.write(request)
        if not call.done():
            await call.done_writing()
    except (grpc.aio.AioRpcError, grpc.aio.InternalError, asyncio.InvalidStateError):
        return


async def _first_and_rest(call: Any, inv: Invocation, encode: EncodeReply, writer: _Writer | None) -> Streamed:
    try:
        message = await call.read()
        headers = await _headers(call, inv, trailers=message is grpc.aio.EOF)
        first = END if message is grpc.aio.EOF else encode(message)
    except FOREIGN_ERRORS as exc:
        _stop(call, writer)
        raise _writer_error(writer) or inv.fail(exc) from None
    except asyncio.CancelledError:
        _stop(call, writer)
        _raise_writer_error(writer)
        raise
    except BaseException:
        _stop(call, writer)
        raise
    if first is END:
        _stop(call, writer)
        if writer is not None and writer.error is not None:
            raise writer.error
        return Streamed(END, _nothing(), headers)
    return Streamed(first, _rest(call, inv, encode, writer), headers)


async def _rest(call: Any, inv: Invocation, encode: EncodeReply, writer: _Writer | None) -> AsyncIterator[Any]:
    try:
        while (message := await call.read()) is not grpc.aio.EOF:
            yield encode(message)
        if writer is not None and writer.error is not None:
            raise writer.error
    except FOREIGN_ERRORS as exc:
        raise _writer_error(writer) or inv.fail(exc) from None
    except asyncio.CancelledError:
        _raise_writer_error(writer)  # our own cancel after a bad request line
        raise
    finally:
        _stop(call, writer)


def _writer_error(writer: _Writer | None) -> GatewayError | None:
    return writer.error if writer is not None else None


def _raise_writer_error(writer: _Writer | None) -> None:
    """grpc.aio reports a call we cancelled as CancelledError; a bad request line caused it."""
    error = _writer_error(writer)
    if error is not None:
        raise error


def _stop(call: Any, writer: _Writer | None) -> None:
    if not call.done():
        call.cancel()
    if writer is not None:
        writer.stop()


async def _nothing() -> AsyncIterator[Any]:
    return
    yield  # pragma: no cover - makes this an async generator


async def _headers(call: Any, inv: Invocation, *, trailers: bool) -> list[tuple[str, str]]:
    wanted = inv.errors.response_metadata
    if not wanted:
        return []
    found = list(await call.initial_metadata() or ())
    if trailers:
        found += list(await call.trailing_metadata() or ())
    return _wanted(found, wanted)


def _wanted(found: Sequence[tuple[str, str | bytes]], wanted: frozenset[str]) -> list[tuple[str, str]]:
    return [(key, header_text(value)) for key, value in found if key in wanted]
