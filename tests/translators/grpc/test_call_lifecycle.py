"""Replies that do not parse, calls cancelled by the caller, calls ended by closing the channel."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.errors import BadGateway, ServiceUnavailable
from gateway.testing import make_call
from tests.translators.grpc.conftest import op
from tests.translators.grpc.servers import start_test_server


async def test_a_cancelled_request_cancels_the_call_at_the_server(translator, server):
    before = server.handlers.cancelled
    task = asyncio.create_task(translator.handle(make_call(op(translator, "Sleep"), body=b'{"seconds": 5}')))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if server.handlers.cancelled > before:
            break
        await asyncio.sleep(0.02)
    assert server.handlers.cancelled == before + 1


async def test_closing_the_translator_ends_calls_in_flight_with_a_503(make_translator):
    translator = await make_translator()
    task = asyncio.create_task(translator.handle(make_call(op(translator, "Sleep"), body=b'{"seconds": 5}')))
    await asyncio.sleep(0.3)
    await translator.close()
    with pytest.raises(ServiceUnavailable) as caught:
        await asyncio.wait_for(task, 2)
    assert caught.value.http_status == 503


@pytest.fixture
async def liar():
    server = await start_test_server(lying=True)
    yield server
    await server.stop()


async def test_a_unary_reply_that_does_not_parse_is_a_502(make_translator, liar):
    translator = await make_translator(target=liar.target)
    with pytest.raises(BadGateway) as caught:
        await translator.handle(make_call(op(translator, "Echo"), body=b'{"name": "x"}'))
    assert caught.value.http_status == 502 and caught.value.slug == "upstream-protocol"
    assert caught.value.detail == "upstream 'testing' sent a message that does not parse"


async def test_a_streamed_reply_that_does_not_parse_ends_the_stream_with_a_502_line(make_translator, liar):
    translator = await make_translator(target=liar.target)
    reply = await translator.handle(make_call(op(translator, "Count"), body=b'{"n": 2}', request_id="r-1"))
    received = [json.loads(line) for line in b"".join([c async for c in reply.stream]).splitlines()]
    assert received[0] == {"n": "0", "text": "tick 0"}
    assert received[1]["status"] == 502 and received[1]["request_id"] == "r-1"
    assert received[1]["type"] == "urn:rosetta:problem:upstream-protocol"
    assert "does not parse" in received[1]["detail"] and len(received) == 2
