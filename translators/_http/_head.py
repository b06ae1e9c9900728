"""Request head encoding, with no I/O: ``method target HTTP/1.1`` plus headers.

The caller's framing headers are replaced by the ones that match the body:
``Content-Length`` for bytes, ``Transfer-Encoding: chunked`` for a stream of
unknown length (a stream whose caller gives ``Content-Length`` is sent raw).

A head another server could frame differently never goes out: a header name
must be a token (RFC 9110 §5.1), so ``Content-Length : 40`` or an obs-fold
line is refused, and no value may hold CR, LF or NUL (§5.5).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["InvalidHead", "encode_head"]

_FRAMING = frozenset({"content-length", "transfer-encoding"})
# Only names of these lengths can be "host", "content-length" or "transfer-encoding".
_SPECIAL_LENGTHS = frozenset({4, 14, 17})
# Methods whose request normally has a body: an empty one says "Content-Length: 0".
_BODY_EXPECTED = frozenset({"POST", "PUT", "PATCH"})
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Names seen to be tokens: requests repeat a few dozen, so most checks are one set lookup.
_TOKENS: set[str] = set()
_TOKENS_KEPT = 4096


class InvalidHead(ValueError):
    """The head cannot be sent as given: a name that is not a token, or CR, LF or NUL
    where they may not be (a space in the target, too)."""


def encode_head(
    method: str,
    target: str,
    host: str,
    headers: Sequence[tuple[str, str]],
    body_length: int | None,
    streamed: bool,
) -> tuple[bytes, bool]:
    """Encode the request head; return it and whether the body must be chunked.

    ``body_length`` is the length of a bytes body (``None`` for no body or a
    stream). Raises :class:`InvalidHead` (a ``ValueError``) when a name is not a
    token, a value holds CR, LF or NUL, or the target a space, CR or LF.
    """
    lines = [f"{method} {target} HTTP/1.1\r\n"]
    has_host = False
    given_length = False
    tokens = _TOKENS
    for name, value in headers:
        if name not in tokens:
            _check_name(name)
        if len(name) in _SPECIAL_LENGTHS:
            lower = name.lower()
            if lower in _FRAMING:
                given_length = given_length or lower == "content-length"
                if not streamed or lower != "content-length":
                    continue
            elif lower == "host":
                has_host = True
        lines.append(f"{name}: {value}\r\n")
    if not has_host:
        lines.append(f"Host: {host}\r\n")
    chunked = streamed and not given_length
    framing = "" if streamed and given_length else _framing(method, body_length, chunked)
    if framing:
        lines.append(framing)
    lines.append("\r\n")
    text = "".join(lines)
    if text.count("\n") != len(lines) or text.count("\r") != len(lines) or " " in target or "\0" in text:
        raise InvalidHead("request target or header holds a space, CR, LF or NUL where it may not")
    return _encode(text), chunked


def _check_name(name: str) -> None:
    if not _TOKEN.fullmatch(name):
        raise InvalidHead(f"header name {name!r} is not a token")
    if len(_TOKENS) < _TOKENS_KEPT:
        _TOKENS.add(name)


def _framing(method: str, body_length: int | None, chunked: bool) -> str:
    if chunked:
        return "Transfer-Encoding: chunked\r\n"
    if body_length is not None:
        return f"Content-Length: {body_length}\r\n"
    if method in _BODY_EXPECTED:
        return "Content-Length: 0\r\n"
    return ""


def _encode(text: str) -> bytes:
    # Header octets are opaque to HTTP. Rosetta decodes them as UTF-8 with
    # ``surrogateescape`` (the front door, this client and its httpx transport alike),
    # so encoding the same way sends every byte as it came in.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise InvalidHead("a header holds text that cannot be encoded") from None
