"""The bulkhead: a cap on calls in flight, a bounded wait, then a 503 with Retry-After."""

import asyncio

import pytest

from gateway.errors import Overloaded
from gateway.resilience.bulkhead import Bulkhead
from gateway.resilience.settings import BulkheadSettings


async def test_calls_up_to_the_cap_go_at_once():
    bulkhead = Bulkhead("up", BulkheadSettings(max_concurrent=2))
    await bulkhead.acquire()
    await bulkhead.acquire()
    assert bulkhead.in_flight == 2


async def test_without_a_wait_a_call_beyond_the_cap_is_refused_at_once():
    bulkhead = Bulkhead("up", BulkheadSettings(max_concurrent=1, retry_after=7))
    await bulkhead.acquire()
    with pytest.raises(Overloaded) as caught:
        await bulkhead.acquire()
    assert caught.value.http_status == 503 and caught.value.headers == {"Retry-After": "7"}
    assert "1 calls in flight" in caught.value.detail


async def test_a_call_waits_for_a_slot_freed_within_max_wait():
    bulkhead = Bulkhead("up", BulkheadSettings(max_concurrent=1, max_wait=1.0))
    await bulkhead.acquire()
    asyncio.get_running_loop().call_later(0.05, bulkhead.release)
    await bulkhead.acquire()
    assert bulkhead.in_flight == 1


async def test_a_call_gives_up_after_max_wait():
    bulkhead = Bulkhead("up", BulkheadSettings(max_concurrent=1, max_wait=0.05))
    await bulkhead.acquire()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(Overloaded):
        await bulkhead.acquire()
    assert 0.04 <= loop.time() - started < 0.5
    bulkhead.release()
    await bulkhead.acquire()  # a given-up waiter left no slot taken


async def test_the_waiting_room_is_bounded():
    bulkhead = Bulkhead("up", BulkheadSettings(max_concurrent=1, max_wait=1.0, max_waiting=1))
    await bulkhead.acquire()
    waiter = asyncio.ensure_future(bulkhead.acquire())
    await asyncio.sleep(0)
    with pytest.raises(Overloaded):
        await bulkhead.acquire()
    bulkhead.release()
    await waiter
