"""Stream framing (pure): format by Accept, NDJSON/SSE/array frames, NDJSON request parsing."""

from __future__ import annotations

import pytest

from gateway.errors import MalformedBody, UpstreamFault
from translators.grpc.streaming import (
    JSON_ARRAY,
    NDJSON,
    SSE,
    choose_format,
    empty,
    ndjson_values,
    render,
)


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        (None, NDJSON),
        ("*/*", NDJSON),
        ("application/x-ndjson", NDJSON),
        ("text/event-stream", SSE),
        ("application/json", JSON_ARRAY),
        ("text/html, application/json;q=0.5, text/event-stream;q=0.9", SSE),
        ("text/event-stream;q=0, application/json", JSON_ARRAY),
        ("application/json;q=bogus", NDJSON),
    ],
)
def test_the_format_follows_accept(accept, fmt):
    assert choose_format(accept) is fmt


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("application/json;q=0.5, */*", NDJSON),  # */* at q=1 outranks the array at 0.5
        ("application/json;q=0.5, application/*", NDJSON),
        ("application/*;q=0.2, application/json", JSON_ARRAY),  # the exact type's own q counts
        ("text/*", SSE),
        ("text/*;q=0.8, application/json;q=0.5", SSE),
        ("text/event-stream;q=0, text/*", NDJSON),  # refused by name: the wildcard does not bring it back
        ("application/x-ndjson;q=0, */*", JSON_ARRAY),
        ("application/x-ndjson;q=0, application/jsonl;q=0, application/json-seq;q=0, */*;q=0.1", JSON_ARRAY),
        ("application/x-ndjson;q=0, text/event-stream", SSE),
        ("*/*;q=0.1, text/event-stream;q=0.2", SSE),
        ("TEXT/Event-Stream; Q=0.7, application/json; q=0.6", SSE),
        ("text/event-stream;charset=utf-8;q=0.9, application/json;q=0.8", SSE),
        ("application/json;q=0.9, text/event-stream;q=0.9", JSON_ARRAY),  # a tie: first listed
        ("text/html", NDJSON),  # nothing Rosetta serves: Accept is disregarded
        ("", NDJSON),
    ],
)
def test_accept_is_read_by_q_value_and_specificity(accept, fmt):
    assert choose_format(accept) is fmt


async def _values(items, error=None):
    for item in items:
        yield [item]
    if error is not None:
        raise error


async def _render(fmt, items, error=None):
    return b"".join([c async for c in render(_values(items[1:], error), fmt, "rid", items[0])])


async def test_ndjson_is_one_line_per_message():
    assert await _render(NDJSON, [{"a": 1}, {"a": 2}]) == b'{"a":1}\n{"a":2}\n'


async def test_a_batch_of_messages_is_one_chunk():
    chunks = [c async for c in render(_one_batch([2, 3]), JSON_ARRAY, "rid", 1)]
    assert chunks == [b"[1", b",2,3", b"]"]


async def _one_batch(items):
    yield items


async def test_sse_is_one_data_event_per_message():
    assert await _render(SSE, [{"a": 1}, 2]) == b'data: {"a":1}\n\ndata: 2\n\n'


async def test_a_json_array_holds_every_message():
    assert await _render(JSON_ARRAY, [1, 2, 3]) == b"[1,2,3]"
    assert empty(JSON_ARRAY) == b"[]" and empty(NDJSON) == b""


async def test_a_failure_ends_ndjson_with_a_problem_line():
    raw = await _render(NDJSON, [1], UpstreamFault("broke", status=500, grpc_status="INTERNAL"))
    first, problem = raw.splitlines()
    assert first == b"1" and b'"grpc_status":"INTERNAL"' in problem and b'"request_id":"rid"' in problem


async def test_a_failure_ends_sse_with_an_error_event():
    raw = await _render(SSE, [1], UpstreamFault("broke"))
    assert raw.split(b"\n\n")[1].startswith(b"event: error\ndata: {")


async def test_a_failure_propagates_out_of_a_json_array():
    with pytest.raises(UpstreamFault):
        await _render(JSON_ARRAY, [1], UpstreamFault("broke"))


async def _chunks(*parts):
    for part in parts:
        yield part


async def test_ndjson_lines_are_parsed_across_chunk_boundaries():
    got = [v async for v in ndjson_values(_chunks(b'{"a":', b'1}\n\n{"b"', b":2}\r\n", b"3"))]
    assert got == [(1, {"a": 1}), (3, {"b": 2}), (4, 3)]


async def test_a_bad_ndjson_line_is_a_400_naming_it():
    with pytest.raises(MalformedBody) as caught:
        [v async for v in ndjson_values(_chunks(b"1\n2\n{x\n"))]
    assert caught.value.extra["errors"][0]["line"] == 3


async def test_ndjson_cut_into_single_bytes_reads_the_same_as_in_one_chunk():
    body = b'{"a": [1, 2]}\r\n\n  \n{"b": "x\\ny"}\n"last"'
    whole = [v async for v in ndjson_values(_chunks(body))]
    bytewise = [v async for v in ndjson_values(_chunks(*(body[i : i + 1] for i in range(len(body)))))]
    assert whole == bytewise == [(1, {"a": [1, 2]}), (4, {"b": "x\ny"}), (5, "last")]


async def test_ndjson_parses_each_line_once_from_its_own_bytes():
    seen: list[bytes] = []

    def parse(line: bytes) -> object:
        seen.append(line)
        return len(line)

    chunks = [b"x" * 1000] * 50 + [b"\nyy\n"]  # one long line in many pieces
    got = [v async for v in ndjson_values(_chunks(*chunks), parse)]
    assert got == [(1, 50_000), (2, 2)] and seen == [b"x" * 50_000, b"yy"]


async def test_an_empty_batch_is_a_keep_alive_comment_in_sse():
    async def quiet():
        yield []
        yield [{"n": 2}]

    body = b"".join([c async for c in render(quiet(), SSE, "rid", {"n": 1})])
    assert body == b'data: {"n":1}\n\n: keep-alive\n\ndata: {"n":2}\n\n'
