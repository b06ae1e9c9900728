"""The Sanic app factory: a thin shell around the pipeline.

Every method and path goes to one handler (:func:`gateway.pipeline.build_pipeline`);
Rosetta's own route table decides the rest, so a reload swaps it without
touching Sanic's router. The runtime is built in each worker before it serves
and closed after it stops.
"""

from __future__ import annotations

import gc
import itertools
import logging
import socket
import time
from pathlib import Path
from ssl import SSLContext
from typing import Any

from sanic import Request, Sanic
from sanic import exceptions as sanic_exc
from sanic.http import Http
from sanic.response import HTTPResponse

from gateway.auth.tls import TlsCertLoader
from gateway.config import Config, load_config
from gateway.errors import (
    BadRequest,
    ClientError,
    ExpectationFailed,
    GatewayError,
    HeadersTooLarge,
    MethodNotAllowed,
    MethodNotImplemented,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UriTooLong,
)
from gateway.observability.logging import configure as configure_logging
from gateway.observability.logging import log_access, logger
from gateway.pipeline import build_pipeline, problem_response, request_id_of
from gateway.runtime import Runtime, build_runtime

__all__ = ["RunningServer", "create_app", "create_app_from_file", "start_server"]

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# RFC 9110 §9 methods Rosetta refuses everywhere (405): TRACE would echo credentials back,
# CONNECT asks for a tunnel. Any other method is one Rosetta does not implement (501).
_REFUSED_METHODS = frozenset({"TRACE", "CONNECT"})
_names = itertools.count()

# Sanic's own refusals (raised before our handler runs) → Rosetta errors.
_SANIC_ERRORS: tuple[tuple[type[Exception], type[GatewayError], str], ...] = (
    (sanic_exc.PayloadTooLarge, PayloadTooLarge, "the request body is larger than the limit of {limit} bytes"),
    (sanic_exc.NotFound, NotFound, "no route matches this path"),
    # Every path takes every method Rosetta serves: Sanic refuses only the others
    # (those it does not know are a 501 first, in _translate_sanic_error).
    (sanic_exc.MethodNotAllowed, MethodNotAllowed, "Rosetta refuses this method on every path"),
    (sanic_exc.ExpectationFailed, ExpectationFailed, "the only expectation Rosetta meets is 100-continue"),
    (sanic_exc.RequestTimeout, ClientError, "the request was not received in time"),
    (sanic_exc.BadRequest, BadRequest, "the HTTP request is malformed"),
    (sanic_exc.ServiceUnavailable, ServiceUnavailable, "the gateway could not answer in time"),
)


def _answer_unparsable_urls() -> None:
    """Answer a request line whose URL does not parse with a 400, not a dropped connection.

    To answer an error before a request exists, Sanic builds a stand-in request
    from the URL it received (``Http.create_empty_request``); when that URL is
    the thing that failed to parse (``GET r/x``, a control character), building
    it fails again, Sanic logs "connection_task uncaught" and closes the
    connection without a word. This retries with ``*`` as the stand-in's URL,
    so the 400 goes out as problem+json. It wraps one method, once, and leaves
    it alone if Sanic's internals have changed.
    """
    from sanic.http.http1 import Http

    original = getattr(Http, "create_empty_request", None)
    if original is None or getattr(original, "rosetta_wrapped", False) or not hasattr(Http, "url"):
        return

    def create_empty_request(self: Any) -> None:
        try:
            original(self)
        except sanic_exc.BadURL:
            self.url = None  # Sanic then uses "*"
            original(self)

    create_empty_request.rosetta_wrapped = True  # type: ignore[attr-defined]
    Http.create_empty_request = create_empty_request  # type: ignore[method-assign]


_answer_unparsable_urls()


def _bound_slow_connections() -> None:
    """Make Sanic's connection timeouts bound whole phases, not the gaps between bytes.

    Sanic measures every timeout from the connection's last byte in or out, so a
    client sending its head a byte every minute holds a connection for days, and
    one trickling a body nobody reads (after a 401, say) too. This wraps
    ``HttpProtocol.check_timeouts``, which runs once per connection every half of
    the shortest timeout, never per request:

    - a head must arrive within ``REQUEST_TIMEOUT`` of when a check first saw it
      coming (so a slow head gets its 408 within about twice that), and an unread
      body is skipped within ``KEEP_ALIVE_TIMEOUT`` of the same, then the
      connection closes;
    - while the handler works and before its response starts, Sanic's
      ``RESPONSE_TIMEOUT`` gives way to ``app.ctx.handler_timeout``: routes wait up
      to their own deadline (up to an hour), which the pipeline enforces itself.
      A streamed response still ends after ``RESPONSE_TIMEOUT`` without progress.

    A head's first sighting is kept in ``Http.perft0``, which Sanic resets for each
    request and sets only once the head has been read.
    """
    from sanic.http.constants import Stage
    from sanic.server.protocols.http_protocol import HttpProtocol

    original = getattr(HttpProtocol, "check_timeouts", None)
    if original is None or getattr(original, "rosetta_wrapped", False) or "perft0" not in Http.__slots__:
        return

    def check_timeouts(self: Any) -> None:
        http: Any = getattr(self, "_http", None)
        stage = http.stage if http is not None else None
        if stage is Stage.REQUEST:
            self._time = _first_seen(http, "perft0", self._time)
        elif stage is Stage.IDLE and getattr(http, "request_body", None) and http.request is not None:
            # (Before its first request, a connection's Http has no request slots set.)
            self._time = _first_seen(http.request.ctx, "rosetta_unread_since", self._time)
        elif stage is Stage.HANDLER and (longest := getattr(self.app.ctx, "handler_timeout", None)):
            usual, self.response_timeout = self.response_timeout, max(self.response_timeout, longest)
            try:
                return original(self)
            finally:
                self.response_timeout = usual
        return original(self)

    check_timeouts.rosetta_wrapped = True  # type: ignore[attr-defined]
    HttpProtocol.check_timeouts = check_timeouts  # type: ignore[method-assign]


def _first_seen(holder: Any, name: str, last_byte: float) -> float:
    """The connection's last activity when a timeout check first saw this phase, kept on
    ``holder`` (which lives as long as the phase): the phase began no later than that."""
    seen = getattr(holder, name, None)
    if seen is None:
        setattr(holder, name, last_byte)
        return last_byte
    return float(seen)


_bound_slow_connections()


def _unread_body_is_no_error(record: logging.LogRecord) -> bool:
    """Drop Sanic's ERROR "<Request …> body not consumed." (a ``sanic.error`` filter).

    Sanic logs it for every 2xx answer given before the request body was read,
    then skips the body itself. At Rosetta's front door that is the caller's
    choice (a GET with a body its operation takes nothing from) or the
    upstream's (a reply made before the body was needed), never a fault an
    operator can act on. Streamed replies skip the body themselves
    (``gateway.pipeline``).
    """
    return not (record.levelno == logging.ERROR and str(record.msg).endswith("body not consumed."))


logging.getLogger("sanic.error").addFilter(_unread_body_is_no_error)


def create_app(config: Config, name: str | None = None) -> Sanic:
    """A Sanic app serving ``config``; the runtime starts with the server."""
    app = Sanic(name or f"rosetta_{next(_names)}", configure_logging=False)
    app.certloader_class = TlsCertLoader  # HTTPS: each worker builds its context from server.tls
    _configure(app, config)
    app.ctx.config = config
    handler = build_pipeline(lambda: app.ctx.runtime)
    app.add_route(handler, "/", methods=_METHODS, stream=True, name="root")
    app.add_route(handler, "/<path:path>", methods=_METHODS, stream=True, name="all")
    app.error_handler.add(Exception, _sanic_error)
    app.register_listener(_start_runtime, "before_server_start")
    app.register_listener(_stop_runtime, "after_server_stop")
    return app


class RunningServer:
    """A Sanic app served in the current event loop (tests, demo backends)."""

    def __init__(self, server: Any, sock: socket.socket) -> None:
        self._server = server
        self._sock = sock
        self.port: int = sock.getsockname()[1]

    async def stop(self) -> None:
        await self._server.before_stop()
        await self._server.close()
        await self._server.after_stop()
        self._sock.close()


async def start_server(
    app: Sanic, host: str = "127.0.0.1", port: int = 0, ssl: SSLContext | None = None
) -> RunningServer:
    """Serve ``app`` in this event loop on ``host:port`` (0: a free port), over TLS with ``ssl``."""
    # Touch-up rewrites Sanic's classes once per process: several in-process apps can't share it.
    app.config.TOUCHUP = False
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    server = await app.create_server(sock=sock, ssl=ssl, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    await server.start_serving()
    return RunningServer(server, sock)


def create_app_from_file(path: str | Path) -> Sanic:
    """A Sanic app for the config file at ``path`` (used by each worker process)."""
    return create_app(load_config(path), name="rosetta")


def _configure(app: Sanic, config: Config) -> None:
    app.config.REQUEST_MAX_SIZE = config.server.max_body_bytes
    app.config.ACCESS_LOG = False
    app.config.NOISY_EXCEPTIONS = False
    app.config.MOTD = False
    app.config.KEEP_ALIVE_TIMEOUT = 75
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = config.server.graceful_shutdown
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.handler_timeout = _longest_deadline(config) + app.config.RESPONSE_TIMEOUT


def _longest_deadline(config: Config) -> float:
    """The longest a route may wait for its upstream: the pipeline's own deadline bounds the handler."""
    timeouts = [upstream.timeout for upstream in config.upstreams.values()]
    timeouts += [route.timeout for route in config.routes if route.timeout is not None]
    return max(timeouts, default=0.0)


async def _start_runtime(app: Sanic) -> None:
    configure_logging()
    if getattr(app.ctx, "runtime", None) is None:
        app.ctx.runtime = await build_runtime(app.ctx.config)
        # Parsed WSDLs, descriptor pools and schemas live as long as the runtime:
        # keep them out of every future garbage-collection pass.
        gc.collect()
        gc.freeze()


async def _stop_runtime(app: Sanic) -> None:
    runtime: Runtime | None = getattr(app.ctx, "runtime", None)
    if runtime is not None:
        app.ctx.runtime = None
        await runtime.close()


def _sanic_error(request: Request, exc: Exception) -> HTTPResponse:
    config: Config = request.app.ctx.config
    error = _translate_sanic_error(exc, config, request)
    if not isinstance(exc, sanic_exc.SanicException):
        logger.error("unhandled error outside the pipeline", exc_info=exc)
    header = config.server.request_id_header
    request_id = request_id_of(request, header)
    if config.server.access_log and getattr(request, "route", None) is None:
        _log_refusal(request, error.status, request_id)
    return problem_response(error, request_id, header)


def _log_refusal(request: Request, status: int, request_id: str) -> None:
    """The access line of a request refused before it reached the pipeline (which logs its
    own): a malformed head, a method no route takes, a path that is not UTF-8."""
    try:
        path = request.path
    except Exception:  # noqa: BLE001 - the path is what could not be read
        path = "?"
    fields = {"method": request.method, "path": path, "status": status, "request_id": request_id,
              "consumer": "anonymous"}
    log_access(fields, time.perf_counter())


def _translate_sanic_error(exc: Exception, config: Config, request: Request) -> GatewayError:
    if isinstance(exc, sanic_exc.PayloadTooLarge) and "header" in str(exc).lower():
        return _head_too_large(request)
    if isinstance(exc, sanic_exc.MethodNotAllowed) and request.method not in _REFUSED_METHODS:
        return MethodNotImplemented(f"{request.method[:32]!r} is not a method Rosetta implements (RFC 9110 §9.1)")
    for sanic_type, ours, detail in _SANIC_ERRORS:
        if isinstance(exc, sanic_type):
            status = getattr(exc, "status_code", None)
            status = status if ours is ClientError else None  # a class's own status wins
            return ours(detail.format(limit=config.server.max_body_bytes), status=status)
    if isinstance(exc, sanic_exc.SanicException):
        status = exc.status_code
        if 400 <= status < 500:  # the caller's side, whatever Sanic refused: not an internal error
            return ClientError("the request could not be handled", status=status)
        return GatewayError("the request could not be handled", status=status)
    return GatewayError("Rosetta failed to handle this request; it has been logged")


def _head_too_large(request: Request) -> GatewayError:
    """431, or 414 when the request line alone is over the head limit (no line end within it)."""
    received = getattr(request.stream, "recv_buffer", None)
    if isinstance(received, bytearray) and received.find(b"\r\n", 0, Http.HEADER_MAX_SIZE) == -1:
        return UriTooLong(f"the request target is longer than the limit of {Http.HEADER_MAX_SIZE} bytes")
    return HeadersTooLarge("the request's header fields are larger than the limit")
