"""One upstream's guard: retries only where safe, per-try timeouts, breaker and bulkhead together."""

import asyncio

import pytest

from gateway.errors import GatewayTimeout, Overloaded, ServiceUnavailable, UpstreamFault
from gateway.plugin import Operation, Reply
from gateway.resilience.guard import CircuitOpen, UpstreamGuard
from gateway.resilience.settings import ResilienceSettings
from gateway.testing import make_call
from tests.gateway.resilience.scripted import Scripted, stream_of

OP = Operation(name="Op", method="*", path="/{p=**}")
READ = Operation(name="Read", method="POST", idempotent=True)
FAST_RETRY = {"attempts": 3, "backoff": 0.001, "max_backoff": 0.002}


def guard(**settings):
    return UpstreamGuard("up", ResilienceSettings(**settings))


def unreachable():
    return ServiceUnavailable("upstream 'up' is unreachable")


async def test_a_get_is_retried_after_a_connect_error_until_it_succeeds():
    upstream = Scripted([unreachable(), unreachable()])
    reply = await guard(retry=FAST_RETRY).call(upstream, make_call(OP, method="GET"))
    assert reply.json == {"ok": True} and upstream.calls == 3


async def test_a_503_reply_is_retried_and_its_body_discarded():
    body = stream_of(b"busy")
    upstream = Scripted([Reply(status=503, stream=body)])
    reply = await guard(retry=FAST_RETRY).call(upstream, make_call(OP, method="PUT", body=b"x"))
    assert reply.status == 200 and upstream.calls == 2
    assert upstream.bodies == [b"x", b"x"]
    with pytest.raises(StopAsyncIteration):
        await body.__anext__()  # closed, not left hanging


async def test_a_post_is_never_retried():
    upstream = Scripted([unreachable(), Reply(json={"ok": True})])
    with pytest.raises(ServiceUnavailable):
        await guard(retry=FAST_RETRY).call(upstream, make_call(OP, method="POST", body=b"{}"))
    assert upstream.calls == 1


async def test_a_post_to_an_idempotent_operation_is_retried_with_the_same_body():
    upstream = Scripted([unreachable()])
    reply = await guard(retry=FAST_RETRY).call(upstream, make_call(READ, method="POST", body=b'{"id":1}'))
    assert reply.status == 200 and upstream.bodies == [b'{"id":1}', b'{"id":1}']


async def test_timeouts_and_faults_are_not_retried():
    for failure in (GatewayTimeout("slow"), UpstreamFault("fault")):
        upstream = Scripted([failure])
        with pytest.raises(type(failure)):
            await guard(retry=FAST_RETRY).call(upstream, make_call(OP, method="GET"))
        assert upstream.calls == 1


async def test_the_last_failure_is_raised_when_tries_run_out():
    upstream = Scripted([unreachable()] * 5)
    with pytest.raises(ServiceUnavailable):
        await guard(retry=FAST_RETRY).call(upstream, make_call(OP, method="GET"))
    assert upstream.calls == 3


async def test_no_retry_starts_that_would_end_past_the_deadline():
    upstream = Scripted([unreachable()] * 5)
    deadline = asyncio.get_running_loop().time() + 0.05
    slow_retry = {"attempts": 5, "backoff": 10, "max_backoff": 10}
    with pytest.raises(ServiceUnavailable):
        await guard(retry=slow_retry).call(upstream, make_call(OP, method="GET", deadline=deadline))
    assert upstream.calls <= 2


async def test_one_try_is_cut_at_the_attempt_timeout_as_a_504():
    upstream = Scripted([5.0])
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(GatewayTimeout, match="one try within 0.05 s"):
        await guard(attempt_timeout=0.05, retry=FAST_RETRY).call(upstream, make_call(OP, method="GET"))
    assert loop.time() - started < 1 and upstream.calls == 1


async def test_an_open_breaker_fails_fast_with_retry_after_and_calls_nothing():
    g = guard(breaker={"failures": 2, "open_for": 30})
    upstream = Scripted([unreachable(), unreachable()])
    for _ in range(2):
        with pytest.raises(ServiceUnavailable):
            await g.call(upstream, make_call(OP, method="POST"))
    with pytest.raises(CircuitOpen) as caught:
        await g.call(upstream, make_call(OP, method="POST"))
    assert upstream.calls == 2
    assert caught.value.http_status == 503 and caught.value.type == "urn:rosetta:problem:overloaded"
    assert 29 <= int(caught.value.headers["Retry-After"]) <= 30


async def test_5xx_replies_count_as_breaker_failures_and_4xx_do_not():
    g = guard(breaker={"failures": 2, "open_for": 30})
    upstream = Scripted([Reply(status=404), Reply(status=400), Reply(status=500), Reply(status=502)])
    for _ in range(4):
        await g.call(upstream, make_call(OP, method="GET"))
    assert g.breaker is not None and g.breaker.state == "open"


async def test_the_bulkhead_holds_its_slot_until_a_streamed_reply_is_closed():
    g = guard(bulkhead={"max_concurrent": 1})
    upstream = Scripted([Reply(stream=stream_of(b"a", b"b")), Reply(json={})])
    reply = await g.call(upstream, make_call(OP, method="GET"))
    with pytest.raises(Overloaded):
        await g.call(upstream, make_call(OP, method="GET"))
    assert [chunk async for chunk in reply.stream] == [b"a", b"b"]
    await reply.stream.aclose()
    assert (await g.call(upstream, make_call(OP, method="GET"))).status == 200


async def test_a_stream_closed_unread_frees_the_slot_too():
    g = guard(bulkhead={"max_concurrent": 1})
    upstream = Scripted([Reply(stream=stream_of(b"a"))])
    reply = await g.call(upstream, make_call(OP, method="GET"))
    await reply.stream.aclose()
    await reply.stream.aclose()
    assert g.bulkhead is not None and g.bulkhead.in_flight == 0


async def test_a_full_bulkhead_is_not_a_breaker_failure():
    g = guard(bulkhead={"max_concurrent": 1}, breaker={"failures": 1, "open_for": 30})
    upstream = Scripted([0.2])
    first = asyncio.ensure_future(g.call(upstream, make_call(OP, method="GET")))
    await asyncio.sleep(0.01)
    with pytest.raises(Overloaded) as caught:
        await g.call(upstream, make_call(OP, method="GET"))
    assert not isinstance(caught.value, CircuitOpen)
    await first
    assert g.breaker is not None and g.breaker.state == "closed"


async def test_a_call_cut_by_the_pipeline_deadline_counts_against_the_breaker():
    g = guard(breaker={"failures": 1, "open_for": 30})
    upstream = Scripted([5.0])
    deadline = asyncio.get_running_loop().time() + 0.05
    with pytest.raises(TimeoutError):
        async with asyncio.timeout_at(deadline):
            await g.call(upstream, make_call(OP, method="GET", deadline=deadline))
    assert g.breaker is not None and g.breaker.state == "open"


async def test_without_settings_the_guard_calls_the_translator_directly():
    g = guard()
    assert g.passive
    upstream = Scripted([unreachable()])
    with pytest.raises(ServiceUnavailable):
        await g.call(upstream, make_call(OP, method="GET"))


async def test_a_post_operation_the_upstream_names_idempotent_is_retried_and_others_are_not():
    g = guard(retry=FAST_RETRY, idempotent_operations=["GetDrug"])
    named = Scripted([unreachable()])
    assert (await g.call(named, make_call(Operation(name="GetDrug"), method="POST"))).json == {"ok": True}
    other = Scripted([unreachable()])
    with pytest.raises(ServiceUnavailable):
        await g.call(other, make_call(Operation(name="Refill"), method="POST"))
    assert named.calls == 2 and other.calls == 1


def test_naming_idempotent_operations_alone_leaves_the_guard_passive():
    assert guard(idempotent_operations=["GetDrug"]).passive


async def test_a_probe_cancelled_while_it_waits_for_a_bulkhead_slot_does_not_wedge_the_breaker():
    g = guard(attempt_timeout=0.05, bulkhead={"max_concurrent": 2, "max_wait": 5},
              breaker={"failures": 1, "open_for": 0.05})
    upstream = Scripted([Reply(stream=stream_of(b"a")), 5.0, Reply(stream=stream_of(b"d"))])
    first = await g.call(upstream, make_call(OP, method="GET"))  # a download holds one slot
    failing = asyncio.ensure_future(g.call(upstream, make_call(OP, method="GET")))
    await asyncio.sleep(0.01)
    queued = asyncio.ensure_future(g.call(upstream, make_call(OP, method="GET")))  # waits for a slot
    with pytest.raises(GatewayTimeout):
        await failing  # the breaker opens; the queued download takes the freed slot
    second = await queued
    assert g.breaker is not None and g.breaker.state == "open"
    await asyncio.sleep(0.06)
    probe = asyncio.ensure_future(g.call(upstream, make_call(OP, method="GET")))
    await asyncio.sleep(0.01)
    probe.cancel()  # its caller went away while it waited for a slot
    with pytest.raises(asyncio.CancelledError):
        await probe
    await first.stream.aclose()
    await second.stream.aclose()
    assert (await g.call(upstream, make_call(OP, method="GET"))).status == 200
    assert g.breaker.state == "closed"


async def test_a_503_asking_for_a_longer_pause_than_max_backoff_is_passed_on_without_a_retry():
    upstream = Scripted([Reply(status=503, headers=[("Retry-After", "120")])])
    reply = await guard(retry=FAST_RETRY).call(upstream, make_call(OP, method="GET"))
    assert reply.status == 503 and reply.headers == [("Retry-After", "120")] and upstream.calls == 1


async def test_a_retry_pauses_at_least_as_long_as_the_upstream_asked():
    upstream = Scripted([Reply(status=503, headers=[("Retry-After", "1")])])
    loop = asyncio.get_running_loop()
    started = loop.time()
    reply = await guard(retry={**FAST_RETRY, "max_backoff": 2}).call(upstream, make_call(OP, method="GET"))
    assert reply.status == 200 and upstream.calls == 2 and loop.time() - started >= 1


async def test_a_retry_after_that_would_end_past_the_deadline_is_not_waited_for():
    upstream = Scripted([Reply(status=503, headers=[("Retry-After", "1")])])
    deadline = asyncio.get_running_loop().time() + 0.2
    call = make_call(OP, method="GET", deadline=deadline)
    reply = await guard(retry={**FAST_RETRY, "max_backoff": 2}).call(upstream, call)
    assert reply.status == 503 and upstream.calls == 1
