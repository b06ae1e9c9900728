"""Streams of JSON values to and from HTTP bodies: NDJSON, SSE and one JSON array. No I/O.

Responses carry no envelope: each message is one NDJSON line, one SSE
``data:`` event, or one element of a JSON array, chosen by ``Accept``::

    Accept: application/x-ndjson (or none, or */*)  {"n":"1"}\\n{"n":"2"}\\n
    Accept: text/event-stream                        data: {"n":"1"}\\n\\n
    Accept: application/json                         [{"n":"1"},{"n":"2"}]

A failure after the first message ends an NDJSON stream with a final
problem object line and an SSE stream with an ``event: error``. A quiet SSE
stream gets a ``: keep-alive`` comment for each empty batch, so proxies that
cut idle connections (nginx after 60 s by default) leave it open. A JSON array
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
    keepalive: bytes = b""  # sent for an empty batch; b"": the format has no such frame


NDJSON = StreamFormat("application/x-ndjson", b"", b"\n", error_before=b"", error_after=b"\n")
SSE = StreamFormat(
    "text/event-stream",
    b"data: ",
    b"\n\n",
    error_before=b"event: error\ndata: ",
    error_after=b"\n\n",
    keepalive=b": keep-alive\n\n",  # a comment: EventSource dispatches nothing for it
)
JSON_ARRAY = StreamFormat("application/json", b"", b"", opening=b"[", closing=b"]", separator=b",")

#: The media types Rosetta streams in, in its own order of preference when the caller's ranks tie;
#: an alias (served as NDJSON) counts only when named, so a wildcard cannot undo ``x-ndjson;q=0``.
_OFFERED: tuple[tuple[str, str, StreamFormat, bool], ...] = (
    ("application", "x-ndjson", NDJSON, False),
    ("application", "jsonl", NDJSON, True),
    ("application", "json-seq", NDJSON, True),
    ("application", "json", JSON_ARRAY, False),
    ("text", "event-stream", SSE, False),
)

#: A media range of ``Accept``: type, subtype, q, position in the header.
_Range = tuple[str, str, float, int]


def choose_format(accept: str | None) -> StreamFormat:
    """The format ``Accept`` ranks highest (RFC 9110 §12.5.1); NDJSON when it names none.

    Each offered type takes the ``q`` of the most specific range matching it
    (``text/event-stream`` over ``text/*`` over ``*/*``), so ``q=0`` refuses a
    type even when a wildcard would take it. The highest ``q`` wins; a tie goes
    to the range listed first, then to NDJSON, the JSON array and SSE in that
    order. An ``Accept`` that nothing offered matches is disregarded (NDJSON)::

        choose_format("application/json;q=0.5, */*")      # NDJSON
        choose_format("text/*")                           # SSE
        choose_format("application/x-ndjson;q=0, */*")    # JSON_ARRAY
    """
    if not accept:
        return NDJSON
    ranges = _ranges(accept)
    best, best_rank = NDJSON, (0.0, 0)
    for main, sub, fmt, alias in _OFFERED:
        rank = _rank(main, sub, ranges, alias)
        if rank > best_rank:
            best, best_rank = fmt, rank
    return best


def _ranges(accept: str) -> list[_Range]:
    found = []
    for position, part in enumerate(accept.split(",")):
        media, _, params = part.partition(";")
        main, _, sub = media.strip().lower().partition("/")
        if main and sub:
            found.append((main, sub.strip(), _quality(params), position))
    return found


def _rank(main: str, sub: str, ranges: list[_Range], exact: bool) -> tuple[float, int]:
    """``(q, -position)`` of the most specific range matching ``main/sub``; ``(0, 0)`` when none does."""
    best, specificity = (0.0, 0), -1
    for r_main, r_sub, q, position in ranges:
        level = 2 if (r_main, r_sub) == (main, sub) else 1 if (r_main, r_sub) == (main, "*") else 0
        matches = level == 2 or not exact and (level == 1 or (r_main, r_sub) == ("*", "*"))
        if matches and level > specificity:
            best, specificity = (q, -position), level
    return best if best[0] > 0 else (0.0, 0)


def _quality(params: str) -> float:
    """The ``q`` parameter (at most 1), 1 when absent; one that is not a number refuses the range."""
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                return 0.0
            return min(q, 1.0) if q > 0 else 0.0  # NaN too
    return 1.0


async def render(
    batches: AsyncIterator[list[Any]],
    fmt: StreamFormat,
    request_id: str,
    first: Any,
) -> AsyncIterator[bytes]:
    """Frame ``first``, then each batch of values as one chunk, as they come.

    ``batches`` raises :class:`GatewayError` for a failure mid-stream; it
    becomes the final frame when ``fmt`` can carry one. An empty batch is
    ``fmt.keepalive`` (give ``fmt`` one before handing it empty batches).
    """
    yield fmt.opening + fmt.before + orjson.dumps(first) + fmt.after
    lead, after, dumps = fmt.separator + fmt.before, fmt.after, orjson.dumps
    try:
        async for batch in batches:
            yield b"".join([lead + dumps(value) + after for value in batch]) if batch else fmt.keepalive
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
