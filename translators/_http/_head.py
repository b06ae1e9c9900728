"""Request head encoding, with no I/O: ``method target HTTP/1.1`` plus headers.

The caller's framing headers are replaced by the ones that match the body:
``Content-Length`` for bytes, ``Transfer-Encoding: chunked`` for a stream of
unknown length (a stream whose caller gives ``Content-Length`` is sent raw).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["encode_head"]

_FRAMING = frozenset({"content-length", "transfer-encoding"})
# Only names of these lengths can be "host", "content-length" or "transfer-encoding".
_SPECIAL_LENGTHS = frozenset({4, 14, 17})
# Methods whose request normally has a body: an empty one says "Content-Length: 0".
_BODY_EXPECTED = frozenset({"POST", "PUT", "PATCH"})


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
    stream). Raises ``ValueError`` when a name, value or the target holds CR/LF.
    """
    lines = [f"{method} {target} HTTP/1.1\r\n"]
    has_host = False
    given_length = False
    for name, value in headers:
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
    if text.count("\n") != len(lines) or text.count("\r") != len(lines) or " " in target:
        raise ValueError("request target or header holds a space, CR or LF where it may not")
    return _encode(text), chunked


def _framing(method: str, body_length: int | None, chunked: bool) -> str:
    if chunked:
        return "Transfer-Encoding: chunked\r\n"
    if body_length is not None:
        return f"Content-Length: {body_length}\r\n"
    if method in _BODY_EXPECTED:
        return "Content-Length: 0\r\n"
    return ""


def _encode(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        # Header octets are opaque to HTTP; pass non-Latin-1 text on as UTF-8.
        return text.encode("utf-8")
