"""The ``rest`` translator: Rosetta in front of an HTTP service.

A ``prefix`` route forwards ``{prefix}/<rest>`` to ``{url}/<rest>`` with the
method, query, end-to-end headers and body; a ``path`` route maps its template
variables into the upstream path it names (``operation: /refill/{rx}``)::

    upstreams:
      pharmacy: {type: rest, url: "http://127.0.0.1:9101", timeout: 5}
    routes:
      - {prefix: /v1/rx, upstream: pharmacy, auth: none}
      - {path: "/v1/refill/{rx}", methods: [POST], upstream: pharmacy, operation: "/refill/{rx}"}

Bodies are streamed both ways past ``stream_threshold`` bytes; smaller ones are
sent whole, which is faster. One pooled keep-alive client serves each upstream.
With ``format: xml`` the backend speaks XML and callers JSON (:mod:`.xml`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from gateway.auth.upstream import upstream_ssl_context, with_upstream_auth
from gateway.errors import (
    BadGateway,
    BadRequest,
    GatewayError,
    GatewayTimeout,
    InvalidPath,
    Overloaded,
    ServiceUnavailable,
)
from gateway.plugin import Call, Operation, Reply, Translator
from translators._http import HttpPool, HttpResponse
from translators._http import errors as http_errors
from translators._http._head import InvalidHead
from translators.rest.settings import RestSettings
from translators.rest.xml import XmlBridge

__all__ = ["ERROR_TABLE", "RestSettings", "RestTranslator"]


# Client failures → gateway errors; a test proves every client error is listed.
ERROR_TABLE: Sequence[tuple[type[Exception], type[GatewayError], str]] = (
    (InvalidHead, BadRequest, "a header name or value is not valid HTTP; it is not forwarded to '{name}'"),
    (http_errors.PoolTimeout, Overloaded, "every connection to upstream '{name}' stayed busy"),
    (http_errors.ConnectTimeout, ServiceUnavailable, "could not connect to upstream '{name}' in time"),
    (http_errors.ConnectError, ServiceUnavailable, "upstream '{name}' is unreachable"),
    (http_errors.ReadTimeout, GatewayTimeout, "upstream '{name}' did not answer in time"),
    (http_errors.ResponseTooLarge, BadGateway, "upstream '{name}' sent a response over the size limit"),
    (http_errors.RemoteProtocolError, BadGateway, "upstream '{name}' broke the HTTP protocol"),
    (http_errors.HttpError, BadGateway, "the call to upstream '{name}' failed"),
)

# RFC 9110 §7.6.1 hop-by-hop fields, and framing the front door sets itself (the
# request id header is added per upstream: the caller gets Rosetta's, not the backend's).
_RESPONSE_DROP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
     "upgrade", "content-length", "proxy-authenticate"}
)
# ``Connection`` values that nominate no header beyond the dropped ones (the common case).
_PLAIN_CONNECTION = frozenset({"keep-alive", "close"})
_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)(?:=([^}]*))?\}")
_BODYLESS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


class RestTranslator(Translator):
    """Forwards calls to one HTTP backend over a shared keep-alive pool."""

    type_name = "rest"
    settings_model = RestSettings
    passthrough = True
    settings: RestSettings

    _passthrough_op = Operation(
        name="*", method="*", path="/{path=**}", summary="Forward any request to the backend."
    )

    _xml: XmlBridge | None = None

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._request_id = self.context.request_id_header.lower()
        self._reply_drop = _RESPONSE_DROP | {self._request_id}
        self._fixed = frozenset(name.lower() for name in self.settings.headers)
        if self.settings.format == "xml":
            self._xml = XmlBridge(self.settings.xml, self.context.config_dir)

    def prepare_route(self, options: Mapping[str, Any]) -> None:
        unknown = set(options) - {"xml"}
        if unknown:
            raise ValueError(f"options: unknown key(s) {sorted(unknown)} (rest takes: xml)")
        if "xml" in options:
            if self._xml is None:
                raise ValueError("options.xml: the upstream's format is not xml")
            self._xml.prepare_route(options)

    async def start(self) -> None:
        self._pool = HttpPool(
            self.settings.url,
            max_connections=self.settings.max_connections,
            connect_timeout=self.settings.connect_timeout,
            ssl=upstream_ssl_context(self.settings.auth),
        )

    async def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            await pool.aclose()

    def operations(self) -> Sequence[Operation]:
        return [self._passthrough_op]

    def operation(self, ref: str) -> Operation:
        return Operation(name=ref, method="*", path=ref, extra={"upstream_path": ref})

    async def handle(self, call: Call) -> Reply:
        if self._xml is not None:
            return await self._handle_xml(call, self._xml)
        body = await self._request_body(call)
        try:
            response = await self._send(call, self._headers(call), body)
            return await self._reply(response, head=call.method == "HEAD")
        except (http_errors.HttpError, InvalidHead) as exc:
            raise self._map_error(exc) from None

    async def _send(
        self, call: Call, headers: list[tuple[str, str]], body: Any
    ) -> HttpResponse:
        return await self._pool.request(
            call.method, self._target(call), headers, body, timeout=self.settings.timeout
        )

    async def _handle_xml(self, call: Call, bridge: XmlBridge) -> Reply:
        codec = bridge.codec(call)
        body = await bridge.request_body(call, codec)
        headers = bridge.request_headers(self._headers(call), body is not None)
        try:
            response = await self._send(call, headers, body)
            if not bridge.is_xml(response.headers):
                return await self._reply(response, head=call.method == "HEAD")
            try:
                raw = await response.read(limit=codec.options.max_bytes)
            finally:
                await response.aclose()
        except (http_errors.HttpError, InvalidHead) as exc:
            raise self._map_error(exc) from None
        return Reply(
            status=response.status,
            json=bridge.response(raw, codec),
            headers=bridge.response_headers(self._reply_headers(response)),
        )

    def _target(self, call: Call) -> str:
        template = call.operation.extra.get("upstream_path")
        path = call.path if template is None else _fill(template, call.path_params)
        return f"{path}?{call.query_string}" if call.query_string else path

    async def _request_body(self, call: Call) -> bytes | None:
        length = call.content_length
        if length is None and not call.chunked:
            return None if call.method in _BODYLESS else b""
        if length is not None and length <= self.settings.stream_threshold:
            return await call.read_body()
        stream = call.stream_body()
        return stream if stream is not None else await call.read_body()  # type: ignore[return-value]

    def _headers(self, call: Call) -> list[tuple[str, str]]:
        """The call's headers, less the caller's forwarding and request id headers (Rosetta
        sets those: a caller's unchecked id never reaches the backend) and those the upstream's
        ``headers`` setting replaces, plus Rosetta's own."""
        rid, fixed = self._request_id, self._fixed
        headers: list[tuple[str, str]] = []
        chain: list[str] = []  # every X-Forwarded-For the caller sent, in order (RFC 9110 §5.3)
        for k, v in call.headers:
            lower = k.lower()
            if lower.startswith("x-forwarded-") or lower == rid or lower in fixed:
                if lower == "x-forwarded-for":
                    chain.append(v)
            else:
                headers.append((k, v))
        previous = ", ".join(chain)
        headers += [
            (self.context.request_id_header, call.request_id),
            ("X-Forwarded-For", f"{previous}, {call.client_ip}" if previous else call.client_ip),
            ("X-Forwarded-Proto", call.scheme),
            ("X-Forwarded-Host", call.host),
            ("Forwarded", _forwarded(call)),
        ]
        headers += self.settings.headers.items()
        return with_upstream_auth(headers, self.settings.auth, call.consumer)

    def _reply_headers(self, response: HttpResponse) -> list[tuple[str, str]]:
        """The backend's end-to-end headers: hop-by-hop ones and those its ``Connection``
        nominates stay behind (RFC 9110 §7.6.1), and so does its request id."""
        drop = self._reply_drop
        kept = []
        nominated = ""
        for name, value in response.headers:
            lower = name.lower()
            if lower not in drop:
                kept.append((name, value))
            elif lower == "connection" and value.lower() not in _PLAIN_CONNECTION:
                nominated += f",{value}"
        return _without(kept, nominated) if nominated else kept

    async def _reply(self, response: HttpResponse, head: bool = False) -> Reply:
        """The backend's answer; to ``HEAD``, its headers with the ``Content-Length`` a GET
        would carry (RFC 9110 §9.3.2), which the front door sends on as it is."""
        headers = self._reply_headers(response)
        length = _content_length(response.headers)
        if head:
            await response.aclose()
            sized = [*headers, ("Content-Length", str(length))] if length is not None else headers
            return Reply(status=response.status, body=b"", headers=sized)
        if length is not None and length <= self.settings.stream_threshold:
            return Reply(status=response.status, body=await response.read(), headers=headers)
        return Reply(status=response.status, stream=self._stream(response), headers=headers)

    async def _stream(self, response: HttpResponse):  # type: ignore[no-untyped-def]
        try:
            async for chunk in response.iter_chunks():
                yield chunk
        except http_errors.HttpError as exc:
            # The status line is sent already: the front door cuts the connection.
            raise self._map_error(exc) from None
        finally:
            await response.aclose()

    def _map_error(self, exc: Exception) -> GatewayError:
        for client_error, gateway_error, detail in ERROR_TABLE:
            if isinstance(exc, client_error):
                return gateway_error(detail.format(name=self.name))
        raise AssertionError("ERROR_TABLE ends with HttpError")  # pragma: no cover


def _fill(template: str, params: dict[str, str] | object) -> str:
    values = params if isinstance(params, dict) else dict(params)  # type: ignore[call-overload]

    def substitute(match: re.Match[str]) -> str:
        value = values.get(match.group(1), "")
        multi = bool(match.group(2))
        # Dots are never percent-encoded: a '..' value (sent as %2e%2e, or %2F-separated
        # in a multi-segment variable) would climb out of the operation's path upstream.
        if any(part in (".", "..") for part in (value.split("/") if multi else (value,))):
            raise InvalidPath(f"path variable '{match.group(1)}' may not be or hold a '.' or '..' segment")
        return quote(value, safe="/" if multi else "")

    return _VAR.sub(substitute, template)


def _without(headers: list[tuple[str, str]], nominated: str) -> list[tuple[str, str]]:
    """``headers`` less those a ``Connection`` value (``"close, x-secret"``) names."""
    names = {token.strip().lower() for token in nominated.split(",")}
    return [(k, v) for k, v in headers if k.lower() not in names]


def _forwarded(call: Call) -> str:
    # Neither a quote nor a backslash (which would escape the closing quote) ends the string early.
    host = call.host.replace('"', "").replace("\\", "")
    node = call.client_ip if ":" not in call.client_ip else f'"[{call.client_ip}]"'
    return f'for={node};proto={call.scheme};host="{host}"'


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    for key, value in headers:
        if key.lower() == "content-length":
            return int(value) if value.isdigit() else None
    return None
