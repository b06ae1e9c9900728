"""Server, client and bidi streaming through GrpcTranslator against a real grpc.aio server."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from gateway.errors import InvalidArguments, MalformedBody, UpstreamRejected
from gateway.testing import make_call
from tests.translators.grpc.conftest import eventually, op


async def collect(reply) -> bytes:
    return b"".join([chunk async for chunk in reply.stream])


def lines(raw: bytes) -> list[dict]:
    return [json.loads(line) for line in raw.decode().splitlines() if line]


async def test_server_streaming_is_ndjson_by_default_without_an_envelope(translator):
    reply = await translator.handle(make_call(op(translator, "Count"), body=b'{"n": 3}'))
    assert reply.content_type == "application/x-ndjson"
    assert lines(await collect(reply)) == [{"n": str(i), "text": f"tick {i}"} for i in range(3)]


async def test_server_streaming_is_sse_when_asked(translator):
    call = make_call(op(translator, "Count"), body=b'{"n": 2}', headers=[("Accept", "text/event-stream")])
    reply = await translator.handle(call)
    assert reply.content_type == "text/event-stream"
    events = (await collect(reply)).decode().split("\n\n")
    assert events[0].startswith("data: ") and json.loads(events[0][6:])["text"] == "tick 0"
    assert json.loads(events[1][6:])["n"] == "1"
    assert events[2:] == [""]


async def test_server_streaming_is_one_json_array_for_application_json(translator):
    call = make_call(op(translator, "Count"), body=b'{"n": 3}', headers=[("Accept", "application/json")])
    reply = await translator.handle(call)
    assert reply.content_type == "application/json"
    assert [m["n"] for m in json.loads(await collect(reply))] == ["0", "1", "2"]


async def test_an_empty_stream_is_an_empty_body_or_array(translator):
    reply = await translator.handle(make_call(op(translator, "Count"), body=b'{"n": 0}'))
    assert reply.body == b"" and reply.stream is None
    call = make_call(op(translator, "Count"), body=b'{"n": 0}', headers=[("Accept", "application/json")])
    assert (await translator.handle(call)).body == b"[]"


async def test_several_accept_headers_are_read_as_one_list(translator):
    headers = [("Accept", "application/json;q=0.1"), ("Accept", "text/event-stream")]
    reply = await translator.handle(make_call(op(translator, "Count"), body=b'{"n": 1}', headers=headers))
    assert reply.content_type == "text/event-stream"
    assert (await collect(reply)).startswith(b"data: ")


@pytest.mark.parametrize("n", [0, 2])
async def test_a_streamed_reply_varies_by_accept(translator, n):
    reply = await translator.handle(make_call(op(translator, "Count"), body=b'{"n": %d}' % n))
    assert ("Vary", "Accept") in reply.headers
    if reply.stream is not None:
        await collect(reply)


def _chat_with_a_pause(translator, accept: str):
    """A Chat call whose second request line comes 0.35 s after the first."""

    async def body():
        yield b'{"n": 1, "text": "a"}\n'
        await asyncio.sleep(0.35)
        yield b'{"n": 2, "text": "b"}\n'

    call = make_call(op(translator, "Chat"), body=b"unused", headers=[("Accept", accept)])
    return replace(call, _stream=body)


async def test_a_quiet_sse_stream_gets_keep_alive_comments(translator, monkeypatch):
    monkeypatch.setattr("translators.grpc.translator._KEEPALIVE", 0.1)
    reply = await translator.handle(_chat_with_a_pause(translator, "text/event-stream"))
    chunks = [chunk async for chunk in reply.stream]
    assert chunks[0].startswith(b"data: ") and chunks[-1].startswith(b"data: ")
    assert chunks.count(b": keep-alive\n\n") >= 1 and len(chunks) == chunks.count(b": keep-alive\n\n") + 2


async def test_a_quiet_ndjson_stream_gets_no_keep_alive(translator, monkeypatch):
    monkeypatch.setattr("translators.grpc.translator._KEEPALIVE", 0.1)
    reply = await translator.handle(_chat_with_a_pause(translator, "application/x-ndjson"))
    assert lines(await collect(reply)) == [{"n": "2", "text": "A"}, {"n": "4", "text": "B"}]


async def test_a_streaming_binding_reads_the_path(translator):
    operation = op(translator, "Count", "GET", "/v1/count/{n}")
    reply = await translator.handle(make_call(operation, path_params={"n": "2"}))
    assert len(lines(await collect(reply))) == 2


async def test_a_failure_before_the_first_message_is_a_real_http_status(translator):
    call = make_call(op(translator, "Count"), body=b'{"n": 3, "failAfter": 0, "code": "NOT_FOUND"}')
    with pytest.raises(UpstreamRejected) as caught:
        await translator.handle(call)
    assert caught.value.http_status == 404 and caught.value.extra["grpc_status"] == "NOT_FOUND"


async def test_a_failure_mid_stream_ends_ndjson_with_a_problem_line(translator):
    call = make_call(op(translator, "Count"), body=b'{"n": 5, "failAfter": 2, "code": "RESOURCE_EXHAUSTED"}', request_id="r-9")
    received = lines(await collect(await translator.handle(call)))
    assert [m["n"] for m in received[:2]] == ["0", "1"]
    problem = received[2]
    assert problem["status"] == 429 and problem["grpc_status"] == "RESOURCE_EXHAUSTED"
    assert problem["type"] == "urn:rosetta:problem:upstream-rejected"
    assert problem["request_id"] == "r-9" and len(received) == 3


async def test_a_failure_mid_stream_ends_sse_with_an_error_event(translator):
    call = make_call(
        op(translator, "Count"), body=b'{"n": 5, "failAfter": 1, "code": "INTERNAL"}', headers=[("Accept", "text/event-stream")]
    )
    events = (await collect(await translator.handle(call))).decode().strip().split("\n\n")
    assert events[-1].startswith("event: error\ndata: ")
    assert json.loads(events[-1].split("data: ", 1)[1])["grpc_status"] == "INTERNAL"


async def test_a_failure_mid_stream_breaks_a_json_array_instead_of_ending_it(translator):
    call = make_call(
        op(translator, "Count"), body=b'{"n": 5, "failAfter": 1, "code": "INTERNAL"}', headers=[("Accept", "application/json")]
    )
    reply = await translator.handle(call)
    received = []
    with pytest.raises(Exception) as caught:
        async for chunk in reply.stream:
            received.append(chunk)
    assert getattr(caught.value, "http_status", None) == 500
    assert not b"".join(received).endswith(b"]")


async def test_a_failure_after_the_last_message_still_reports_the_status(translator):
    call = make_call(op(translator, "Count"), body=b'{"n": 2, "failAfter": 2, "code": "DATA_LOSS"}')
    received = lines(await collect(await translator.handle(call)))
    assert len(received) == 3 and received[-1]["grpc_status"] == "DATA_LOSS"


async def test_client_streaming_takes_an_ndjson_body(translator):
    call = make_call(op(translator, "Sum"), body=b'{"n": 1}\n\n{"n": "2"}\n{"n": 3}')
    reply = await translator.handle(call)
    assert reply.json == {"sum": "6", "count": 3}


async def test_a_client_streaming_failure_keeps_the_servers_status(translator):
    call = make_call(op(translator, "Sum"), body=b'{"n": 1}\n{"n": 2, "text": "fail"}\n')
    with pytest.raises(UpstreamRejected) as caught:
        await translator.handle(call)
    assert caught.value.extra["grpc_status"] == "FAILED_PRECONDITION" and caught.value.http_status == 400


async def test_client_streaming_with_an_empty_body_sends_no_messages(translator):
    reply = await translator.handle(make_call(op(translator, "Sum")))
    assert reply.json == {"sum": "0", "count": 0}


async def test_client_streaming_reads_the_body_as_it_arrives(translator):
    chunks = [b'{"n": 1}\n{"n"', b': 2}\n', b'{"n": 4}']

    async def stream():
        for chunk in chunks:
            yield chunk

    call = replace(make_call(op(translator, "Sum"), body=b"unused"), _stream=stream)
    assert (await translator.handle(call)).json == {"sum": "7", "count": 3}


async def test_malformed_ndjson_is_a_400_naming_the_line(translator):
    with pytest.raises(MalformedBody) as caught:
        await translator.handle(make_call(op(translator, "Sum"), body=b'{"n": 1}\n{"n": \n'))
    assert caught.value.http_status == 400 and "line 2" in caught.value.detail


async def test_a_bad_message_in_ndjson_is_a_400_naming_line_and_field(translator):
    with pytest.raises(InvalidArguments) as caught:
        await translator.handle(make_call(op(translator, "Sum"), body=b'{"n": 1}\n{"m": 2}\n'))
    assert caught.value.extra["errors"] == [{"field": "m", "message": "unknown field", "line": 2}]


async def test_bidi_streams_replies_as_requests_are_answered(translator):
    call = make_call(op(translator, "Chat"), body=b'{"n": 1, "text": "a"}\n{"n": 2, "text": "b"}\n')
    reply = await translator.handle(call)
    assert lines(await collect(reply)) == [{"n": "2", "text": "A"}, {"n": "4", "text": "B"}]


async def test_bidi_with_a_malformed_line_after_answers_ends_with_a_400_problem(translator):
    call = make_call(op(translator, "Chat"), body=b'{"n": 1, "text": "a"}\n{oops\n')
    try:
        reply = await translator.handle(call)
    except MalformedBody:
        return  # the bad line was read before the first answer: a real 400
    received = lines(await collect(reply))
    assert received[-1]["status"] == 400 and received[-1]["type"] == "urn:rosetta:problem:malformed-body"


async def test_bidi_server_failure_mid_stream_ends_with_its_status(translator):
    call = make_call(op(translator, "Chat"), body=b'{"n": 1, "text": "a"}\n{"n": 2, "text": "fail"}\n')
    received = lines(await collect(await translator.handle(call)))
    assert received[0] == {"n": "2", "text": "A"}
    assert received[-1]["grpc_status"] == "ABORTED" and received[-1]["status"] == 409


async def test_closing_a_stream_early_cancels_the_call(translator):
    reply = await translator.handle(make_call(op(translator, "Count"), body=b'{"n": 1000}'))
    first = await reply.stream.__anext__()
    assert json.loads(first)["n"] == "0"
    await reply.stream.aclose()


async def test_a_server_dying_mid_stream_ends_it_with_a_problem_line(make_translator):
    from tests.translators.grpc.servers import start_test_server

    doomed = await start_test_server()
    translator = await make_translator(target=doomed.target)
    reply = await translator.handle(make_call(op(translator, "Count"), body=b'{"n": 1000000}'))
    received = [await reply.stream.__anext__()]
    await doomed.server.stop(grace=None)
    received += [chunk async for chunk in reply.stream]
    last = json.loads(b"".join(received).splitlines()[-1])
    assert (last["status"], last["grpc_status"]) == (503, "UNAVAILABLE")
    assert last["type"] == "urn:rosetta:problem:upstream-unreachable"


async def test_a_caller_leaving_mid_body_cancels_the_client_streaming_call(translator, server):
    text = f"left-{translator.settings.direct_calls}"  # each run of the test finds its own call
    sent = asyncio.Event()

    async def stream():
        yield f'{{"n": 1, "text": "{text}"}}\n'.encode()
        sent.set()
        await asyncio.Event().wait()  # the rest of the body never comes

    call = replace(make_call(op(translator, "Sum"), body=b"unused"), _stream=stream)
    task = asyncio.create_task(translator.handle(call))
    await sent.wait()
    await asyncio.sleep(0.1)
    task.cancel()  # what the front door does when the caller's connection drops
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await eventually(lambda: text in server.handlers.ended_sums)  # not left open until its 5 s deadline


async def test_a_null_line_in_ndjson_is_a_400_not_an_empty_message(translator):
    with pytest.raises(InvalidArguments) as caught:
        await translator.handle(make_call(op(translator, "Sum"), body=b'{"n": 1}\nnull\n'))
    assert caught.value.extra["errors"][0]["line"] == 2
