"""The XML↔JSON codec's own errors, and their one mapping to gateway errors.

The codec is pure and knows nothing of HTTP, so it raises its own small tree::

    XmlError                    any conversion failure (a ValueError)
    ├── XmlSyntaxError          not well-formed: malformed, truncated, bad encoding
    ├── XmlForbidden            a DTD, entity declaration or external reference
    ├── XmlLimitExceeded        a configured safety limit; ``limit`` names it
    └── JsonNotXml              a JSON value that has no XML form

Which side sent the document decides the HTTP answer: XML from the client is
the client's fault (400), XML from the upstream is the upstream's (502).
:func:`to_gateway_error` is the one place that decides, from :data:`GATEWAY_ERRORS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from gateway.errors import (
    BadGateway,
    BadRequest,
    GatewayError,
    InvalidArguments,
    MalformedBody,
)

__all__ = [
    "GATEWAY_ERRORS",
    "JsonNotXml",
    "Side",
    "XmlError",
    "XmlForbidden",
    "XmlLimitExceeded",
    "XmlSyntaxError",
    "to_gateway_error",
]

Side = Literal["client", "upstream"]


class XmlError(ValueError):
    """Base of every codec error; ``str(error)`` is a sentence safe to show a caller."""


class XmlSyntaxError(XmlError):
    """The bytes are not well-formed XML (``line``/``column`` are 1-based when known)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


class XmlForbidden(XmlError):
    """The document uses a feature refused for safety: DTDs, entities, external references."""


class XmlLimitExceeded(XmlError):
    """A safety limit was exceeded; ``limit`` is the option's name, ``maximum`` its value."""

    def __init__(self, limit: str, maximum: int, what: str) -> None:
        super().__init__(f"{what} exceeds the limit {limit}={maximum}")
        self.limit = limit
        self.maximum = maximum


class JsonNotXml(XmlError):
    """A JSON value cannot be written as XML; ``path`` is where (element names from the root)."""

    def __init__(self, reason: str, path: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = path or []

    def __str__(self) -> str:
        if not self.path:
            return self.reason
        return f"{self.reason} (at {'/'.join(self.path)})"


# (codec error, side) -> gateway error. Source: Rosetta's contract for XML
# bodies: client XML that fails is a 400 problem, upstream XML that fails a 502.
GATEWAY_ERRORS: Mapping[tuple[type[XmlError], Side], type[GatewayError]] = {
    (XmlSyntaxError, "client"): MalformedBody,  # 400 malformed-body
    (XmlForbidden, "client"): MalformedBody,  # 400 malformed-body: refused, never parsed
    (XmlLimitExceeded, "client"): BadRequest,  # 400 bad-request, with the limit named
    (JsonNotXml, "client"): InvalidArguments,  # 400 invalid-arguments: JSON with no XML form
    (XmlError, "client"): MalformedBody,  # 400: any other codec failure
    (XmlSyntaxError, "upstream"): BadGateway,  # 502 upstream-protocol
    (XmlForbidden, "upstream"): BadGateway,  # 502 upstream-protocol
    (XmlLimitExceeded, "upstream"): BadGateway,  # 502 upstream-protocol, limit named
    (JsonNotXml, "upstream"): BadGateway,  # 502: the upstream's data cannot be written
    (XmlError, "upstream"): BadGateway,  # 502: any other codec failure
}

_SIDE_WORDS: Mapping[Side, str] = {
    "client": "the request body",
    "upstream": "the upstream's XML reply",
}


def to_gateway_error(exc: XmlError, side: Side) -> GatewayError:
    """The gateway error for a codec error raised on XML from ``side``.

    Example::

        try:
            body = xml_to_dict(reply_bytes, options)
        except XmlError as exc:
            raise to_gateway_error(exc, "upstream") from None
    """
    kind = next(k for k in type(exc).__mro__ if (k, side) in GATEWAY_ERRORS)
    error_class = GATEWAY_ERRORS[(kind, side)]
    extra: dict[str, Any] = {}
    if isinstance(exc, XmlLimitExceeded):
        extra["limit"] = exc.limit
    if isinstance(exc, XmlSyntaxError) and exc.line is not None:
        extra.update(line=exc.line, column=exc.column)
    return error_class(f"{_SIDE_WORDS[side]}: {exc}", **extra)
