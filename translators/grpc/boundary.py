"""The one place grpc and protobuf exceptions become Rosetta errors.

:data:`ERROR_TABLE` lists every foreign exception type the gRPC translator can
meet, most specific first; :func:`to_gateway_error` walks it. A test proves
each exception class grpc and grpc.aio export has a row. Call errors carry a
gRPC status, mapped by :data:`translators.grpc.status.CODES` — except the
statuses grpc's client makes up itself (:data:`LOCAL_STATUSES`), which are
not the upstream's answer::

    try:
        reply = await multicallable(request, timeout=5)
    except Exception as exc:
        raise to_gateway_error(exc, upstream="library") from None
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc
import grpc.aio
from google.protobuf import descriptor_pool
from google.protobuf import message as protobuf_message

from gateway.errors import (
    BadGateway,
    GatewayError,
    GatewayTimeout,
    InvalidArguments,
    PayloadTooLarge,
    ServiceUnavailable,
)
from translators.grpc.status import DETAILS_KEY, decode_details, error_for

__all__ = ["ERROR_TABLE", "ErrorContext", "FOREIGN_ERRORS", "LOCAL_STATUSES", "header_text", "to_gateway_error"]


@dataclass(frozen=True, slots=True)
class ErrorContext:
    """What a mapping needs beyond the exception: who failed and how to decode details."""

    upstream: str
    pool: descriptor_pool.DescriptorPool | None = None
    response_metadata: frozenset[str] = frozenset()


def _from_status(exc: BaseException, ctx: ErrorContext) -> GatewayError:
    assert isinstance(exc, grpc.RpcError)
    code_fn = getattr(exc, "code", None)
    code = code_fn() if callable(code_fn) else grpc.StatusCode.UNKNOWN
    details_fn = getattr(exc, "details", None)
    message = (details_fn() if callable(details_fn) else "") or ""
    trailers_fn = getattr(exc, "trailing_metadata", None)
    trailers = (trailers_fn() if callable(trailers_fn) else None) or ()
    raw = next((v for k, v in trailers if k == DETAILS_KEY and isinstance(v, bytes)), b"")
    headers = {k: header_text(v) for k, v in trailers if k in ctx.response_metadata}
    local = _local(code, message, ctx)
    if local is not None:
        return local
    number = code.value[0] if isinstance(code, grpc.StatusCode) else 2
    details = decode_details(raw, ctx.pool) if raw else []
    return error_for(number, message, upstream=ctx.upstream, details=details, headers=headers)


#: Statuses grpc's client raises itself, not the upstream: (code, words in grpc core's
#: message, the error, its detail). grpc core's message size filter and HTTP/2 transport
#: write these words; "(2003 vs. 1024)" gives the sizes.
LOCAL_STATUSES: Sequence[tuple[grpc.StatusCode, str, type[GatewayError], str]] = (
    (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "CLIENT: Sent message larger than max",
        PayloadTooLarge,
        "the request message is too large for upstream '{name}'{sizes} (max_message_bytes)",
    ),
    (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "CLIENT: Received message larger than max",
        BadGateway,
        "upstream '{name}' sent a message too large to accept{sizes} (max_message_bytes)",
    ),
    (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "Stream removed (received metadata size exceeds",
        BadGateway,
        "upstream '{name}' sent more metadata than gRPC accepts",
    ),
)

_SIZES = re.compile(r"\((\d+) vs\. (\d+)\)")


def _local(code: object, message: str, ctx: ErrorContext) -> GatewayError | None:
    """The error for a status grpc made up itself; ``None`` for the upstream's own."""
    for local_code, words, error, detail in LOCAL_STATUSES:
        if code is local_code and words in message:
            found = _SIZES.search(message)
            sizes = f": {found[1]} bytes, more than {found[2]}" if found else ""
            return error(detail.format(name=ctx.upstream, sizes=sizes))
    return None


def header_text(value: str | bytes) -> str:
    """A metadata value as a header value: text as it is, binary (``-bin`` keys) in base64."""
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


def _fixed(error: type[GatewayError], detail: str) -> Callable[[BaseException, ErrorContext], GatewayError]:
    def build(exc: BaseException, ctx: ErrorContext) -> GatewayError:
        return error(detail.format(name=ctx.upstream, exc=exc))

    return build


Mapper = Callable[[BaseException, ErrorContext], GatewayError]

#: Foreign exception → Rosetta error, most specific first.
ERROR_TABLE: Sequence[tuple[type[BaseException], Mapper]] = (
    (grpc.aio.AioRpcError, _from_status),
    (grpc.RpcError, _from_status),
    (grpc.aio.UsageError, _fixed(GatewayError, "Rosetta misused the channel to upstream '{name}'")),
    (grpc.aio.AbortError, _fixed(BadGateway, "the call to upstream '{name}' was aborted")),
    (grpc.aio.InternalError, _fixed(BadGateway, "the gRPC runtime failed calling upstream '{name}'")),
    (grpc.aio.BaseError, _fixed(BadGateway, "the call to upstream '{name}' failed")),
    (grpc.FutureTimeoutError, _fixed(GatewayTimeout, "upstream '{name}' did not answer in time")),
    (grpc.FutureCancelledError, _fixed(ServiceUnavailable, "the call to upstream '{name}' was cancelled")),
    (
        protobuf_message.EncodeError,
        _fixed(InvalidArguments, "the request cannot be encoded: {exc}"),
    ),
    (
        protobuf_message.DecodeError,
        _fixed(BadGateway, "upstream '{name}' sent a message that does not parse"),
    ),
)

#: Every exception type the table handles (for ``except`` clauses).
FOREIGN_ERRORS: tuple[type[BaseException], ...] = tuple(t for t, _ in ERROR_TABLE)


def to_gateway_error(exc: BaseException, ctx: ErrorContext) -> GatewayError:
    """The Rosetta error for a grpc/protobuf exception (``exc`` itself when already one)."""
    if isinstance(exc, GatewayError):
        return exc
    for kind, mapper in ERROR_TABLE:
        if isinstance(exc, kind):
            return mapper(exc, ctx)
    return BadGateway(f"the call to upstream '{ctx.upstream}' failed: {type(exc).__name__}")
