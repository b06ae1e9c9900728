"""POST envelopes to one SOAP endpoint over Rosetta's pooled keep-alive HTTP client.

One :class:`~translators._http.HttpPool` per upstream serves every call. The
same pool is offered to zeep as an ``httpx.AsyncClient`` (:meth:`SoapTransport.httpx_client`),
so a zeep ``AsyncClient`` built on this upstream shares its connections. Every
foreign exception raised here or while parsing a reply is turned into a gateway
error by :func:`to_gateway_error`, from :data:`ERROR_TABLE`::

    transport = SoapTransport("http://127.0.0.1:9102/soap", PoolSettings(), max_bytes=1 << 20)
    raw = await transport.post(envelope, [("Content-Type", "text/xml")], timeout=5)
"""

from __future__ import annotations

from collections.abc import Sequence
from ssl import SSLContext
from urllib.parse import urlsplit

import httpx
from lxml import etree

from gateway.errors import BadGateway, GatewayError, GatewayTimeout, ServiceUnavailable
from translators._http import HttpPool, httpx_transport
from translators._http import errors as http_errors
from translators.soap.envelope import Raw
from translators.soap.settings import PoolSettings

__all__ = ["ERROR_TABLE", "MAPPED", "SoapTransport", "to_gateway_error"]

# Foreign failures of a call → gateway errors, most specific first. A test
# proves every exception class the HTTP client and lxml raise finds its row.
ERROR_TABLE: Sequence[tuple[type[BaseException], type[GatewayError], str]] = (
    (http_errors.ConnectTimeout, ServiceUnavailable, "could not connect to the SOAP backend of '{name}' in time"),
    (http_errors.ConnectError, ServiceUnavailable, "the SOAP backend of '{name}' is unreachable"),
    (http_errors.ReadTimeout, GatewayTimeout, "the SOAP backend of '{name}' did not answer in time"),
    (TimeoutError, GatewayTimeout, "the SOAP backend of '{name}' did not answer in time"),
    (http_errors.ResponseTooLarge, BadGateway, "the SOAP backend of '{name}' sent a response over the size limit"),
    (http_errors.RemoteProtocolError, BadGateway, "the SOAP backend of '{name}' broke the HTTP protocol"),
    (http_errors.HttpError, BadGateway, "the call to the SOAP backend of '{name}' failed"),
    (etree.XMLSyntaxError, BadGateway, "the SOAP backend of '{name}' sent malformed XML: {error}"),
)  # fmt: skip
MAPPED: tuple[type[BaseException], ...] = tuple(row[0] for row in ERROR_TABLE)


def to_gateway_error(exc: BaseException, upstream: str) -> GatewayError:
    """The gateway error for a foreign exception listed in :data:`ERROR_TABLE`."""
    for cls, error, template in ERROR_TABLE:
        if isinstance(exc, cls):
            return error(template.format(name=upstream, error=_first_line(exc)))
    raise TypeError(f"{type(exc).__name__} is not in the SOAP error table") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


class SoapTransport:
    """Sends envelopes to ``address`` and reads the answer whole, up to ``max_bytes``."""

    def __init__(
        self, address: str, pool: PoolSettings, max_bytes: int, ssl: SSLContext | None = None
    ) -> None:
        url = urlsplit(address)
        self._target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        self._pool = HttpPool(
            f"{url.scheme}://{url.netloc}",
            max_connections=pool.max_connections,
            connect_timeout=pool.connect_timeout,
            keepalive_expiry=pool.keepalive_expiry,
            ssl=ssl,
        )
        self._max_bytes = max_bytes
        self._httpx: httpx.AsyncClient | None = None

    async def post(self, body: bytes, headers: Sequence[tuple[str, str]], timeout: float) -> Raw:
        """POST ``body``; the raw answer. Raises the HTTP client's errors (see ERROR_TABLE)."""
        response = await self._pool.send("POST", self._target, headers, body, timeout)
        try:
            content = await response.read(self._max_bytes)
        except BaseException:
            await response.aclose()
            raise
        content_type = next((v for k, v in response.headers if k.lower() == "content-type"), "")
        retry_after = next((v for k, v in response.headers if k.lower() == "retry-after"), None)
        return Raw(response.status, content_type, content, retry_after)

    def httpx_client(self) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` on this upstream's pool (e.g. for zeep's ``AsyncTransport``)."""
        if self._httpx is None:
            self._httpx = httpx.AsyncClient(transport=httpx_transport(self._pool))
        return self._httpx

    async def aclose(self) -> None:
        if self._httpx is not None:
            await self._httpx.aclose()
            self._httpx = None
        await self._pool.aclose()
