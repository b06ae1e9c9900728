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
from multidict import istr
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
    InvalidHeader,
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
# RFC 9110 §5.1 and §5.6.2: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9112 §3.2 (RFC 3986 §3.2.2-3.2.3): uri-host [":" port], the host an IP literal or a reg-name.
_HOST = re.compile(r"(?:\[[0-9A-Za-z:._~!$&'()*+,;=-]+\]|[0-9A-Za-z._~!$&'()*+,;=%-]*)(?::[0-9]*)?")
# Header names and Host values found valid: requests repeat a few, so most checks are a set lookup.
_NAMES_SEEN: set[str] = set()
_HOSTS_SEEN: set[str] = set()
_HOST_KEY = istr("host")  # Sanic's headers are case-insensitive: a ready-folded key spares a fold per lookup
_SEEN_KEPT = 4096
_UNREAD_BODY_WAIT = 1.0  # seconds a streamed reply's unread request body gets to arrive and be skipped


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
            _check_head(request)
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
                if request.method == "HEAD":
                    return await _head_of_stream(x, reply)
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
    """``Content-Length`` as a number; ``None`` when absent.

    Sanic refuses a sign or an underscore and lets the whitespace around the digits
    through (RFC 9110 §5.5), but reads any digits Python's ``int`` does: ``٢`` frames
    a 2-byte body here, and likely none in a proxy in front. A value that is not
    ASCII digits (RFC 9110 §8.6) is a 400 that closes the connection.
    """
    length = request.headers.get("content-length")
    if length is None:
        return None
    length = length.strip(" \t")
    if length.isascii() and length.isdigit():
        return int(length)
    raise _bad_head(request, f"Content-Length {length[:64]!r} is not a number of bytes (RFC 9110 §8.6)")


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


def _check_head(request: Request) -> None:
    """Refuse a head that a proxy in front could frame differently than Rosetta does.

    Every field name must be a token (RFC 9110 §5.1): Sanic reads ``Content-Length : 40``
    as a field it does not know, frames no body, and would read the 40 body bytes a
    proxy sent on as the next request on the connection. An HTTP/1.1 request needs
    exactly one ``Host``, and a valid one (RFC 9112 §3.2). Either fault is a
    ``400 invalid-header`` that closes the connection: the bytes after such a head
    cannot be trusted. A head of names and a Host seen before costs two set lookups.
    """
    headers = request.headers
    if not _NAMES_SEEN.issuperset(headers):
        _check_names(request)
    hosts = headers.getall(_HOST_KEY, ())
    if len(hosts) != 1 or hosts[0] not in _HOSTS_SEEN:
        _check_host(request, hosts)


def _check_names(request: Request) -> None:
    for name in request.headers:
        if name not in _NAMES_SEEN:
            if not _TOKEN.fullmatch(name):
                raise _bad_head(request, f"the header name {name[:64]!r} is not a token (RFC 9110 §5.1)")
            if len(_NAMES_SEEN) < _SEEN_KEPT:
                _NAMES_SEEN.add(name)


def _check_host(request: Request, hosts: Sequence[str]) -> None:
    if not hosts and request.version != "1.1":
        return  # HTTP/1.0 had no Host
    if len(hosts) != 1:
        raise _bad_head(request, f"an HTTP/1.1 request needs exactly one Host header, not {len(hosts)} (RFC 9112 §3.2)")
    if not _HOST.fullmatch(hosts[0].rstrip(" \t")):
        raise _bad_head(request, f"the Host header {hosts[0][:64]!r} is not a host and optional port (RFC 9112 §3.2)")
    if len(_HOSTS_SEEN) < _SEEN_KEPT:
        _HOSTS_SEEN.add(hosts[0])


def _bad_head(request: Request, detail: str) -> InvalidHeader:
    """The error for a malformed head; the connection ends with its answer."""
    if isinstance(request.stream, Http):  # HTTP/1.1
        request.stream.keep_alive = False
    return InvalidHeader(detail)


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


async def _head_of_stream(x: Exchange, reply: Reply) -> HTTPResponse:
    """A streamed reply's answer to HEAD: its headers, the stream closed unread.

    Sanic cannot stream a response to HEAD (its second write fails), and reading a
    stream only to drop it would hold the upstream. The length is the reply's own
    ``Content-Length`` when it gives one, else unknown and sent as 0.
    """
    assert reply.stream is not None
    closer = getattr(reply.stream, "aclose", None)
    if closer is not None:
        await closer()
    reply.stream, reply.body = None, b""
    return _response(x, reply)


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
        _drop_unread_body(x.request)
        if x.request.transport is not None:
            x.request.transport.abort()  # type: ignore[attr-defined]
    finally:
        closer = getattr(reply.stream, "aclose", None)
        if closer is not None:
            await closer()
    # Only once the stream is closed: a translator reading the body for it has let go of it.
    await _skip_unread_body(x.request)


async def _skip_unread_body(request: Request) -> None:
    """Read and drop what a streamed reply ended without reading of the request body.

    A gRPC server may end a stream, or an upstream answer, before its caller has
    sent all of its body: that is no fault, and Sanic would log an ERROR for it.
    The rest of the body is skipped so the connection can serve its next request;
    a rest that does not come within ``_UNREAD_BODY_WAIT`` seconds, is over the
    size limit or is malformed closes the connection instead.
    """
    stream = request.stream
    if not isinstance(stream, Http) or not stream.request_body:
        return
    deadlines = loop_deadlines()
    try:
        with TaskDeadline(deadlines, deadlines.loop.time() + _UNREAD_BODY_WAIT):
            async for _ in stream:
                pass
    except (TimeoutError, sanic_exc.SanicException):
        _drop_unread_body(request)


def _drop_unread_body(request: Request) -> None:
    """Leave the request body unread and end the connection after the response."""
    stream = request.stream
    if isinstance(stream, Http):
        stream.keep_alive = False
        stream.request_body = None


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
