"""Rosetta's HTTP/1.1 client: pooled keep-alive connections on asyncio + httptools.

Shared by the REST and SOAP translators. :class:`HttpPool` speaks to one
origin; :func:`httpx_transport` puts pools under httpx's API (for zeep and any
httpx user)::

    pool = HttpPool("http://127.0.0.1:9101")
    response = await pool.request("GET", "/health", [])
    assert response.status == 200 and await response.read() == b"ok"

    client = httpx.AsyncClient(transport=httpx_transport())
"""

from translators._http.errors import (
    ConnectError,
    ConnectTimeout,
    HttpError,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    ResponseTooLarge,
)
from translators._http.httpx_transport import ERROR_MAP, HttpxTransport, httpx_transport
from translators._http.pool import HttpPool
from translators._http.response import HttpResponse

__all__ = [
    "ERROR_MAP",
    "ConnectError",
    "ConnectTimeout",
    "HttpError",
    "HttpPool",
    "HttpResponse",
    "HttpxTransport",
    "PoolTimeout",
    "ReadTimeout",
    "RemoteProtocolError",
    "ResponseTooLarge",
    "httpx_transport",
]
