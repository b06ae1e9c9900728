"""httpx's API over :class:`HttpPool`: an ``httpx.AsyncBaseTransport``.

One pool per scheme, host and port, made on first use with the options given.
zeep's ``AsyncTransport(client=httpx.AsyncClient(transport=httpx_transport()))``
and any other httpx user work unchanged, and see httpx's own exceptions::

    async with httpx.AsyncClient(transport=httpx_transport(max_connections=64)) as client:
        reply = await client.get("http://127.0.0.1:9101/health", timeout=5)

The request's ``read`` timeout becomes the pool's per-request ``timeout``
(connect, send and response head, then each body read).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx

from translators._http.errors import (
    ConnectError,
    ConnectTimeout,
    HttpError,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    ResponseTooLarge,
)
from translators._http.pool import Body, HttpPool
from translators._http.response import HttpResponse

__all__ = ["ERROR_MAP", "HttpxTransport", "httpx_transport"]

# Client errors → httpx exceptions, most specific first; a test proves every
# client error class finds its row.
ERROR_MAP: Sequence[tuple[type[HttpError], type[httpx.TransportError]]] = (
    (PoolTimeout, httpx.PoolTimeout),
    (ConnectTimeout, httpx.ConnectTimeout),
    (ConnectError, httpx.ConnectError),
    (ReadTimeout, httpx.ReadTimeout),
    (RemoteProtocolError, httpx.RemoteProtocolError),
    (ResponseTooLarge, httpx.ReadError),
    (HttpError, httpx.TransportError),
)


def httpx_transport(pool: HttpPool | None = None, **pool_options: Any) -> HttpxTransport:
    """A transport over ``pool`` (for its origin) and pools made with ``pool_options``."""
    return HttpxTransport(pool, **pool_options)


class HttpxTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests through pooled :class:`HttpPool` connections.

    ``aclose`` closes the pools the transport made; a pool passed in stays its
    owner's to close.
    """

    def __init__(self, pool: HttpPool | None = None, **pool_options: Any) -> None:
        self._pools: dict[tuple[str, str, int], HttpPool] = {}
        self._owned: list[HttpPool] = []
        self._options = pool_options
        if pool is not None:
            self._pools[pool.origin_key] = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        pool = self._pool_for(request.url)
        headers = [(k.decode("latin-1"), v.decode("utf-8", "surrogateescape")) for k, v in request.headers.raw]
        try:
            response = await pool.send(
                request.method, request.url.raw_path.decode("ascii"), headers,
                _body(request), _read_timeout(request),
            )
        except HttpError as exc:
            raise map_error(exc, request) from exc
        except ValueError as exc:  # CR/LF in a header or the target
            raise httpx.LocalProtocolError(str(exc), request=request) from exc
        return httpx.Response(
            response.status,
            headers=[(k.encode("latin-1"), v.encode("utf-8", "surrogateescape")) for k, v in response.headers],
            stream=_ResponseStream(response, request),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason.encode()},
        )

    async def aclose(self) -> None:
        for pool in self._owned:
            await pool.aclose()
        self._owned.clear()
        self._pools.clear()

    def _pool_for(self, url: httpx.URL) -> HttpPool:
        port = url.port or (443 if url.scheme == "https" else 80)
        key = (url.scheme, url.host, port)
        pool = self._pools.get(key)
        if pool is None:
            host = f"[{url.host}]" if ":" in url.host else url.host
            pool = HttpPool(f"{url.scheme}://{host}:{port}", **self._options)
            self._pools[key] = pool
            self._owned.append(pool)
        return pool


def map_error(exc: HttpError, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception for a client error, from :data:`ERROR_MAP`."""
    for ours, theirs in ERROR_MAP:
        if isinstance(exc, ours):
            return theirs(str(exc), request=request)
    raise AssertionError("ERROR_MAP ends with HttpError")  # pragma: no cover


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: HttpResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.iter_chunks():
                yield chunk
        except HttpError as exc:
            raise map_error(exc, self._request) from exc

    async def aclose(self) -> None:
        await self._response.aclose()


def _body(request: httpx.Request) -> Body:
    try:
        content = request.content
    except httpx.RequestNotRead:
        return request.stream  # type: ignore[return-value]
    if not content and "content-length" not in request.headers:
        return None
    return content


def _read_timeout(request: httpx.Request) -> float | None:
    timeouts = request.extensions.get("timeout") or {}
    value = timeouts.get("read")
    return float(value) if value is not None else None
