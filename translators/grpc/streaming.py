"""Streams of JSON values to and from HTTP bodies: NDJSON, SSE and one JSON array. No I/O.

Responses carry no envelope: each message is one NDJSON line, one SSE
``data:`` event, or one element of a JSON array, chosen by ``Accept``::

    Accept: application/x-ndjson (or none, or */*)  {"n":"1"}\\n{"n":"2"}\\n
    Accept: text/event-stream                        data: {"n":"1"}\\n\\n
    Accept: application/json                         [{"n":"1"},{"n":"2"}]

A failure after the first message ends an NDJSON stream with a final
problem object line and an SSE stream with an ``event: error``. A JSON array
cannot carry it without looking like data, so :func:`render` lets the error
propagate and the front door cuts the connection: the caller sees a broken
response, never a short array that looks complete.

Request streams (client-streaming and bidi calls) are NDJSON:
:func:`ndjson_values` parses one JSON value per non-blank line as the chunks arrive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.errors import GatewayError, MalformedBody, problem_body

__all__ = ["JSON_ARRAY", "NDJSON", "SSE", "StreamFormat", "choose_format", "empty", "ndjson_values", "render"]


@dataclass(frozen=True, slots=True)
class StreamFormat:
    """How messages and a final error are framed in one response body."""

    content_type: str
    before: bytes  # item prefix
    after: bytes  # item suffix
    opening: bytes = b""
    closing: bytes = b""
    separator: bytes = b""
    error_before: bytes | None = None  # None: the format cannot carry an error
    error_after: bytes = b""


NDJSON = StreamFormat("application/x-ndjson", b"", b"\n", error_before=b"", error_after=b"\n")
SSE = StreamFormat("text/event-stream", b"data: ", b"\n\n", error_before=b"event: error\ndata: ", error_after=b"\n\n")
JSON_ARRAY = StreamFormat("application/json", b"", b"", opening=b"[", closing=b"]", separator=b",")

_BY_TYPE = {
    "application/x-ndjson": NDJSON,
    "application/jsonl": NDJSON,
    "application/json-seq": NDJSON,
    "text/event-stream": SSE,
    "application/json": JSON_ARRAY,
}


def choose_format(accept: str | None) -> StreamFormat:
    """The format ``Accept`` prefers (highest q, then first listed); NDJSON by default."""
    best, best_q = NDJSON, -1.0
    for part in (accept or "").split(","):
        media, _, params = part.strip().partition(";")
        found = _BY_TYPE.get(media.strip().lower())
        q = _quality(params)
        if found is not None and q > best_q and q > 0:
            best, best_q = found, q
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


async def render(
    batches: AsyncIterator[list[Any]],
    fmt: StreamFormat,
    request_id: str,
    first: Any,
) -> AsyncIterator[bytes]:
    """Frame ``first``, then each batch of values as one chunk, as they come.

    ``batches`` raises :class:`GatewayError` for a failure mid-stream; it
    becomes the final frame when ``fmt`` can carry one.
    """
    yield fmt.opening + fmt.before + orjson.dumps(first) + fmt.after
    lead, after, dumps = fmt.separator + fmt.before, fmt.after, orjson.dumps
    try:
        async for batch in batches:
            yield b"".join([lead + dumps(value) + after for value in batch])
    except GatewayError as exc:
        if fmt.error_before is None:
            raise
        yield fmt.error_before + orjson.dumps(problem_body(exc, request_id)) + fmt.error_after
        return
    if fmt.closing:
        yield fmt.closing


def empty(fmt: StreamFormat) -> bytes:
    """The whole body of a stream without messages."""
    return fmt.opening + fmt.closing


async def ndjson_values(
    chunks: AsyncIterator[bytes], parse: Callable[[bytes], Any] = orjson.loads
) -> AsyncIterator[tuple[int, Any]]:
    """``(line number, value)`` for each non-blank line of an NDJSON body, as it arrives.

    A line that is not JSON is a :class:`MalformedBody` naming its number.
    Each byte is looked at once however the body is cut into chunks: a long
    line sent in many small pieces costs no more than in one.
    """
    pending = bytearray()
    number = 0
    async for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            pending += chunk[start:end]
            number += 1
            if pending.strip():
                yield number, _parse_line(bytes(pending), number, parse)
            pending.clear()
            start = end + 1
        pending += chunk[start:]
    if pending.strip():
        yield number + 1, _parse_line(bytes(pending), number + 1, parse)


def _parse_line(line: bytes, number: int, parse: Callable[[bytes], Any]) -> Any:
    try:
        return parse(line)
    except (ValueError, TypeError) as exc:
        raise MalformedBody(
            f"line {number} of the NDJSON request body is not valid JSON: {exc}",
            errors=[{"line": number, "message": "not valid JSON"}],
        ) from None
