"""The response the pipeline answers with: Sanic's ``HTTPResponse``, with cheaper header encoding.

Sanic strips CR, LF and NUL from every header name and value with
``str.translate``, which costs about 1.5 µs per header. A value with none of
those characters is printable in Python's sense far more often than not, and
``str.isprintable`` says so in a few nanoseconds; only the others go through
Sanic's own table. The bytes on the wire are exactly Sanic's.

Headers Rosetta makes itself on every response (the request id, the
``RateLimit`` pair) can skip even that: ``encoded`` pairs are sent after the
others as they are, without a multidict entry each. Their maker guarantees
they hold no CR, LF or NUL::

    response = GatewayResponse(b"{}", headers=Header([("Cache-Status", "rosetta; hit")]),
                               encoded=((b"RateLimit", b'"route-60s";r=19;t=110'),))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sanic.compat import Header
from sanic.helpers import has_message_body
from sanic.response import HTTPResponse
from sanic.response.types import HEADER_TRANSLATION_TABLE

__all__ = ["GatewayResponse", "encoded_name", "sanitized"]

EncodedHeaders = Sequence[tuple[bytes, bytes]]

_NAMES_KEPT = 512  # header names remembered encoded; later ones are encoded every time
_NAMES: dict[str, bytes] = {}


def sanitized(text: str) -> str:
    """``text`` without CR, LF and NUL (what Sanic removes), skipping the work when it has none."""
    return text if text.isprintable() else text.translate(HEADER_TRANSLATION_TABLE)


class GatewayResponse(HTTPResponse):
    """An ``HTTPResponse`` whose headers encode without a per-character table lookup."""

    __slots__ = ("encoded",)

    def __init__(
        self,
        body: bytes | str | None = None,
        status: int = 200,
        headers: Iterable[tuple[str, str]] | None = None,
        content_type: str | None = None,
        encoded: EncodedHeaders = (),
    ) -> None:
        # Sanic's two __init__s build three Header objects (an empty one, ``headers``
        # and a copy of it); this sets the same attributes with one. A test holds the
        # attribute set to Sanic's.
        self.asgi = False
        self.stream = None
        self.content_type = content_type
        self.body = self._encode_body(body)
        self.status = status
        self.headers = Header(headers or ())
        self._cookies = None
        self.encoded = encoded

    @property
    def processed_headers(self) -> Iterator[tuple[bytes, bytes]]:
        """The headers as Sanic sends them (content type defaulted, CR/LF/NUL removed, encoded),
        then the ``encoded`` ones."""
        if has_message_body(self.status) and self.content_type is not None:
            # Sanic would send the text "None": a body the upstream left untyped stays so.
            self.headers.setdefault("content-type", self.content_type)
        encoded = []
        for name, value in self.headers.items():
            text = value if value.__class__ is str else f"{value}"
            if text.isprintable():  # nothing to strip, and no lone surrogate: plain UTF-8
                raw = text.encode()
            else:  # sanitized(), inline: this loop runs for every header sent
                raw = text.translate(HEADER_TRANSLATION_TABLE).encode(errors="surrogateescape")
            encoded.append((_NAMES.get(name) or encoded_name(name), raw))
        encoded += self.encoded
        return iter(encoded)


def encoded_name(name: str) -> bytes:
    """``name`` as sent (CR/LF/NUL removed), remembered: the same few names head nearly every response."""
    encoded = sanitized(name).encode("ascii")
    if len(_NAMES) < _NAMES_KEPT:
        _NAMES[name] = encoded
    return encoded
