"""Replies that do not parse, calls cancelled by the caller, calls ended by closing the channel,
and unary calls below grpc.aio's wrapper (:mod:`translators.grpc.direct`).

The ``make_translator`` fixture runs each of its tests twice: through
:class:`DirectUnary` and through grpc.aio's public multicallables.
"""

from __future__ import annotations

import asyncio
import json

import grpc.aio
import pytest

from gateway.errors import BadGateway, ServiceUnavailable
from gateway.testing import context, make_call
from tests.translators.grpc.conftest import SERVICE, op, settings
from tests.translators.grpc.servers import start_test_server
from translators.grpc import GrpcTranslator
from translators.grpc.direct import DirectUnary


async def test_unary_methods_have_a_direct_caller_on_the_direct_path_only(translator):
    direct = translator.settings.direct_calls
    echo, count = translator._stubs[f"{SERVICE}/Echo"].method, translator._stubs[f"{SERVICE}/Count"].method
    assert (echo.direct is not None) is direct
    assert count.direct is None  # streams always take grpc.aio's calls
    reply = await translator.handle(make_call(op(translator, "Echo"), body=b'{"name": "x"}'))
    assert reply.json["name"] == "x"
    assert echo.direct is None or echo.direct.fallback is False


async def test_a_cancelled_request_cancels_the_call_at_the_server(translator, server):
    # A length no other test sleeps: their cancelled calls may be counted while this one runs.
    seconds = 5.125 if translator.settings.direct_calls else 5.375
    call = make_call(op(translator, "Sleep"), body=f'{{"seconds": {seconds}}}'.encode())
    task = asyncio.create_task(translator.handle(call))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if seconds in server.handlers.cancelled:
            break
        await asyncio.sleep(0.02)
    assert server.handlers.cancelled.count(seconds) == 1


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


@pytest.mark.parametrize("method", ["Sleep", "Sum"])
async def test_a_call_ending_ok_without_its_reply_is_a_502(make_translator, liar, method):
    translator = await make_translator(target=liar.target)
    with pytest.raises(BadGateway) as caught:
        await translator.handle(make_call(op(translator, method), body=b'{"n": 1}' if method == "Sum" else b"{}"))
    assert caught.value.http_status == 502 and caught.value.slug == "upstream-protocol"
    assert "without" in caught.value.detail


async def test_changed_grpc_internals_switch_the_method_to_the_public_path(server, caplog):
    translator = GrpcTranslator("testing", settings(server.target), context("testing"))
    await translator.start()
    try:
        method = translator._stubs[f"{SERVICE}/Echo"].method
        assert method.direct is not None
        method.direct._channel = _RefusingChannel()  # what a grpc release with another call() does
        reply = await translator.handle(make_call(op(translator, "Echo"), body=b'{"name": "y"}'))
        assert reply.json["name"] == "y"  # answered through the multicallable
        assert method.direct.fallback is True
        assert "public path" in caplog.text
        reply = await translator.handle(make_call(op(translator, "Echo"), body=b'{"name": "z"}'))
        assert reply.json["name"] == "z"
    finally:
        await translator.close()


class _RefusingChannel:
    def call(self, *args: object) -> None:
        raise TypeError("call() takes exactly 6 positional arguments (5 given)")


def test_a_multicallable_with_interceptors_gets_no_direct_caller():
    class Interceptor(grpc.aio.UnaryUnaryClientInterceptor):
        async def intercept_unary_unary(self, continuation, details, request):  # pragma: no cover
            return await continuation(details, request)

    async def build() -> tuple[DirectUnary | None, DirectUnary | None]:
        plain = grpc.aio.insecure_channel("127.0.0.1:1")
        intercepted = grpc.aio.insecure_channel("127.0.0.1:1", interceptors=[Interceptor()])
        try:
            return (
                DirectUnary.of(plain.unary_unary("/a.B/C", request_serializer=bytes)),
                DirectUnary.of(intercepted.unary_unary("/a.B/C", request_serializer=bytes)),
            )
        finally:
            await plain.close()
            await intercepted.close()

    plain, intercepted = asyncio.run(build())
    assert plain is not None and intercepted is None
