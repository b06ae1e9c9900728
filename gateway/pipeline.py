"""The request pipeline: every request takes the same path, in this order::

    request id → size limits → route → auth → rate limit → translate → respond → log

:func:`build_pipeline` returns the one handler Rosetta's Sanic app routes
every method and path to. Size limits are enforced by the front door before
the handler (Sanic refuses a body over ``server.max_body_bytes`` as soon as its
``Content-Length`` is seen, or while a chunked body is read).
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import re
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson
from sanic import Request
from sanic import exceptions as sanic_exc
from sanic.http import Http
from sanic.response import HTTPResponse

from gateway.deadlines import Deadlines, TaskDeadline, loop_deadlines
from gateway.errors import (
    PROBLEM_CONTENT_TYPE,
    BadRequest,
    GatewayError,
    GatewayTimeout,
    PayloadTooLarge,
    problem_body,
)
from gateway.observability.logging import REQUEST_ID, log_access
from gateway.plugin import ANONYMOUS, NOTHING, Call, Consumer, Reply, Translator
from gateway.response import GatewayResponse, encoded_name
from gateway.routing import clean_path

if TYPE_CHECKING:
    from gateway.routing import Endpoint
    from gateway.runtime import Runtime

__all__ = ["Exchange", "build_pipeline", "problem_response", "request_id_of"]

log = logging.getLogger("rosetta")

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse | None]]

# RFC 9110 §7.6.1 hop-by-hop fields, plus the ones the upstream client sets itself.
_HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length",
    }
)
_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")
_NO_BODY = frozenset({204, 304})


@dataclass(slots=True)
class Exchange:
    """One request on its way through the pipeline; steps fill it in."""

    request: Request
    runtime: Runtime
    request_id: str
    started: float
    path: str = ""  # the request path as routed: dot segments resolved (routing.clean_path)
    endpoint: Endpoint = field(default=None)  # type: ignore[assignment]
    params: dict[str, str] = field(default_factory=dict)
    consumer: Consumer = ANONYMOUS
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    #: Headers Rosetta made itself, already encoded and free of CR/LF/NUL (rate limits).
    encoded_headers: tuple[tuple[bytes, bytes], ...] = ()
    status: int = 0


def request_id_of(request: Request, header: str) -> str:
    """The caller's ``X-Request-ID`` when well-formed, else a new one."""
    given = request.headers.get(header)
    if given and _REQUEST_ID.fullmatch(given):
        return given
    return _new_request_id()


class _RequestIds:
    """New request ids: 32 hex digits, a random per-process half and a counting half.

    Unique across processes and instances (64 random bits each) and in order
    within one, at under half the cost of ``os.urandom(16).hex()``. They are
    labels for logs and support, never secrets.
    """

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._count = itertools.count(int.from_bytes(os.urandom(4), "big"))

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._count) & 0xFFFFFFFFFFFFFFFF:016x}"


_new_request_id = _RequestIds()
os.register_at_fork(after_in_child=_new_request_id.reseed)  # a forked worker must not repeat its parent's


def build_pipeline(get_runtime: Callable[[], Runtime]) -> Handler:
    """The handler for every request, reading the current runtime once per request."""

    async def pipeline(request: Request, **_: str) -> HTTPResponse | None:
        deadlines = loop_deadlines()
        runtime = get_runtime()
        x = Exchange(request, runtime, request_id_of(request, runtime.config.server.request_id_header), time.perf_counter())
        token = REQUEST_ID.set(x.request_id)
        try:
            _limit_body(request, runtime.config.server.max_body_bytes)
            x.path = clean_path(request.path)
            x.endpoint, x.params = runtime.routes.match(request.method, x.path)
            # Open routes, limits decided in memory and whole replies need nothing awaited:
            # each await here is a coroutine per request, so those steps skip them.
            if not runtime.auth.is_open(x.endpoint):
                # A bearer token verified before is looked up in place, without a coroutine.
                consumer = runtime.auth.known(x)
                x.consumer = consumer if consumer is not None else await runtime.auth.authenticate(x)
            waiting = runtime.limiter.acquire(x)
            if waiting is not None:
                await waiting
            translator, call, timeout, deadline = _prepare(x, deadlines)
            try:
                with TaskDeadline(deadlines, deadline):
                    if runtime.resilience.bare(x.endpoint.route):
                        reply = await translator.handle(call)
                    else:
                        reply = await runtime.resilience.handle(x, translator, call)
            except TimeoutError:
                raise GatewayTimeout(
                    f"upstream '{x.endpoint.upstream}' did not answer within {timeout:g} s"
                ) from None
            if reply.stream is not None:
                await _stream_reply(x, reply)
                return None
            return _response(x, reply)
        except GatewayError as exc:
            return _problem(x, exc)
        except Exception:
            log.exception("unexpected error while serving %s", request.path)
            return _problem(x, GatewayError("Rosetta failed to handle this request; it has been logged"))
        finally:
            _log(x)
            REQUEST_ID.reset(token)

    return pipeline


def _prepare(x: Exchange, deadlines: Deadlines) -> tuple[Translator, Call, float, float]:
    """The route's translator, the call for it, the route's timeout and the call's deadline."""
    endpoint = x.endpoint
    translator = x.runtime.translators[endpoint.upstream]
    timeout = endpoint.route.timeout or translator.settings.timeout
    deadline = deadlines.loop.time() + timeout
    return translator, _make_call(x, translator.settings.forward_auth, deadline), timeout, deadline


def _make_call(x: Exchange, forward_auth: bool, deadline: float) -> Call:
    request = x.request
    return Call(
        operation=x.endpoint.operation,
        method=request.method,
        path=x.path[x.endpoint.prefix_len :] or "/",
        query_string=request.query_string,
        query=parse_qs(request.query_string, keep_blank_values=True) if request.query_string else {},
        path_params=x.params,
        headers=_end_to_end(request, x.runtime.auth.credential_headers, forward_auth),
        request_id=x.request_id,
        client_ip=request.ip,
        # Straight from the connection and the Host header: Sanic's own properties
        # re-read proxy settings Rosetta does not use (trusted proxies live in limits).
        scheme="https" if request.conn_info is not None and request.conn_info.ssl else "http",
        host=request.headers.get("host", ""),
        consumer=x.consumer,
        route_options=x.endpoint.route.options,
        deadline=deadline,
        content_length=_declared_length(request),
        chunked="chunked" in request.headers.get("transfer-encoding", "").lower(),
        _read=lambda: _read_body(request),
        _stream=lambda: _stream_body(request),
    )


def _declared_length(request: Request) -> int | None:
    """``Content-Length`` as a number; ``None`` when absent. The front door has refused any
    value that is not digits, but lets the whitespace around them through (RFC 9110 §5.5)."""
    length = request.headers.get("content-length")
    if length is None:
        return None
    length = length.strip(" \t")
    return int(length) if length.isascii() and length.isdigit() else None


def _end_to_end(request: Request, credentials: frozenset[str], forward_auth: bool) -> list[tuple[str, str]]:
    headers = request.headers
    drop = _HOP_BY_HOP if forward_auth else _hop_by_hop_and(credentials)
    connection = headers.getall("connection", None)
    if connection:  # every Connection header nominates (RFC 9110 §7.6.1), not only the first
        drop = drop | {token.strip().lower() for value in connection for token in value.split(",")}
    return [(k, v) for k, v in headers.items() if k.lower() not in drop]


@functools.lru_cache(maxsize=16)
def _hop_by_hop_and(credentials: frozenset[str]) -> frozenset[str]:
    """The headers never forwarded, plus ``credentials`` (built once, not per request)."""
    return _HOP_BY_HOP | credentials


def _limit_body(request: Request, limit: int) -> None:
    """Refuse a declared body over the limit before reading it; cap a chunked one.

    A refused body is left unread, so the connection ends with the answer, and the
    answer says so (``Connection: close``): a client must not send its next request
    on a connection that is about to close.
    """
    length = _declared_length(request)
    if length is not None and length > limit:
        if isinstance(request.stream, Http):  # HTTP/1.1
            request.stream.keep_alive = False
        raise PayloadTooLarge(f"the request body is larger than the limit of {limit} bytes")
    if request.stream is not None:
        request.stream.request_max_size = limit


async def _read_body(request: Request) -> bytes:
    try:
        await request.receive_body()
    except sanic_exc.PayloadTooLarge:
        raise PayloadTooLarge("the request body is larger than the limit") from None
    except sanic_exc.BadRequest as exc:
        raise BadRequest(f"the request body could not be read: {exc}") from None
    return bytes(request.body or b"")


async def _stream_body(request: Request):  # type: ignore[no-untyped-def]
    if request.stream is None:
        if request.body:
            yield bytes(request.body)
        return
    try:
        async for chunk in request.stream:  # type: ignore[attr-defined]
            yield chunk
    except sanic_exc.PayloadTooLarge:
        raise PayloadTooLarge("the request body is larger than the limit") from None
    except sanic_exc.BadRequest as exc:
        raise BadRequest(f"the request body could not be read: {exc}") from None


def _response(x: Exchange, reply: Reply) -> HTTPResponse:
    """The response for a whole (not streamed) reply."""
    headers = _headers(x, reply.headers)
    x.status = reply.status
    if reply.json is not NOTHING:
        body, content_type = orjson.dumps(reply.json), reply.content_type or "application/json"
    else:
        body, content_type = reply.body or b"", reply.content_type  # type: ignore[assignment]
    if reply.status in _NO_BODY:
        body = b""
    return GatewayResponse(body, status=reply.status, headers=headers, content_type=content_type, encoded=_encoded(x))


async def _stream_reply(x: Exchange, reply: Reply) -> None:
    assert reply.stream is not None
    headers = _headers(x, reply.headers)
    x.status = reply.status
    response = await x.request.respond(
        GatewayResponse(status=reply.status, headers=headers, content_type=reply.content_type, encoded=_encoded(x))
    )
    try:
        async for chunk in reply.stream:
            await response.send(chunk)
        await response.eof()
    except Exception as exc:
        # Too late for a problem document: cut the connection so the caller
        # sees a broken response, never a short one that looks complete.
        log.warning("stream to the caller broken off: %s", exc)
        x.status = 502
        if x.request.transport is not None:
            x.request.transport.abort()  # type: ignore[attr-defined]
    finally:
        closer = getattr(reply.stream, "aclose", None)
        if closer is not None:
            await closer()


def _headers(x: Exchange, extra: Sequence[tuple[str, str]]) -> Sequence[tuple[str, str]]:
    return [*extra, *x.response_headers] if x.response_headers else extra


def _encoded(x: Exchange) -> tuple[tuple[bytes, bytes], ...]:
    # A request id is 32 hex digits or a caller's id that matched _REQUEST_ID: plain ASCII.
    return (*x.encoded_headers, (encoded_name(x.runtime.config.server.request_id_header), x.request_id.encode()))


def problem_response(
    error: GatewayError,
    request_id: str | None,
    header: str = "X-Request-ID",
    extra_headers: Sequence[tuple[str, str]] = (),
    encoded: Sequence[tuple[bytes, bytes]] = (),
) -> HTTPResponse:
    """The problem+json response for ``error``."""
    headers = [*extra_headers, *error.headers.items()]
    if request_id:
        headers.append((header, request_id))
    body = orjson.dumps(problem_body(error, request_id))
    return GatewayResponse(body, status=error.http_status, headers=headers, content_type=PROBLEM_CONTENT_TYPE, encoded=encoded)


def _problem(x: Exchange, error: GatewayError) -> HTTPResponse:
    x.status = error.http_status
    header = x.runtime.config.server.request_id_header
    return problem_response(error, x.request_id, header, x.response_headers, x.encoded_headers)


def _log(x: Exchange) -> None:
    if not x.runtime.config.server.access_log:
        return
    fields = {
        "method": x.request.method,
        "path": x.request.path,
        "status": x.status,
        "request_id": x.request_id,
        "consumer": x.consumer.id,
    }
    if x.endpoint is not None:
        fields["upstream"] = x.endpoint.upstream
        fields["operation"] = x.endpoint.operation.name
    log_access(fields, x.started)
