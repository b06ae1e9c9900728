"""Errors of Rosetta's HTTP client, one class per way a call can fail::

    HttpError                     base: anything the client reports
    ├── ConnectError              refused, unreachable, DNS failure, TLS handshake failed
    ├── ConnectTimeout            no connection within the connect timeout
    │   └── PoolTimeout           every pooled connection stayed busy past the timeout
    ├── ReadTimeout               the response (head or a body read) took longer than the timeout
    ├── RemoteProtocolError       garbage, a reset or EOF in the middle of a response
    └── ResponseTooLarge          the body passed the limit given to ``HttpResponse.read``

Callers map these to their own errors at one boundary (see ``translators.rest``).
"""

from __future__ import annotations

__all__ = [
    "ConnectError",
    "ConnectTimeout",
    "HttpError",
    "PoolTimeout",
    "ReadTimeout",
    "RemoteProtocolError",
    "ResponseTooLarge",
]


class HttpError(Exception):
    """Base of every error the HTTP client raises."""


class ConnectError(HttpError):
    """The connection could not be opened (refused, unreachable, DNS, TLS)."""


class ConnectTimeout(HttpError):
    """The connection was not open within the connect timeout."""


class PoolTimeout(ConnectTimeout):
    """All ``max_connections`` stayed busy until the timeout."""


class ReadTimeout(HttpError):
    """Sending the request or receiving the response took longer than the timeout."""


class RemoteProtocolError(HttpError):
    """The server broke HTTP/1.1: unparsable bytes, a reset or EOF mid-response."""


class ResponseTooLarge(HttpError):
    """The response body is larger than the caller's limit."""
