"""Read-ahead batching: every item once, in order, errors after the items before them, bounded."""

from __future__ import annotations

import asyncio

import pytest

from translators.grpc.batching import batches


async def _source(count, *, delay=0.0, error=None, log=None):
    for i in range(count):
        await asyncio.sleep(delay)
        if log is not None:
            log.append(i)
        yield i
    if error is not None:
        raise error


async def test_every_item_arrives_once_in_order():
    got = [b async for b in batches(_source(1000), limit=64)]
    assert [i for b in got for i in b] == list(range(1000))
    assert all(b for b in got) and max(map(len, got)) <= 64


async def test_items_that_arrived_while_the_consumer_was_busy_come_as_one_batch():
    it = batches(_source(50), limit=1000)
    first = await it.__anext__()
    await asyncio.sleep(0.01)
    second = await it.__anext__()
    assert len(first) < 50 and len(second) > 1


async def test_slow_items_come_one_by_one():
    got = [b async for b in batches(_source(3, delay=0.01))]
    assert got == [[0], [1], [2]]


async def test_an_error_is_raised_after_the_items_before_it():
    it = batches(_source(3, error=ValueError("boom")))
    received = []
    with pytest.raises(ValueError, match="boom"):
        async for batch in it:
            received += batch
    assert received == [0, 1, 2]


async def test_the_reader_waits_when_the_consumer_falls_behind():
    log: list[int] = []
    it = batches(_source(100, log=log), limit=10)
    await it.__anext__()
    await asyncio.sleep(0.01)
    assert len(log) <= 21
    await it.aclose()


async def test_closing_early_stops_the_reader_and_closes_the_source():
    closed = asyncio.Event()

    async def source():
        try:
            i = 0
            while True:
                yield i
                i += 1
                await asyncio.sleep(0)
        finally:
            closed.set()

    it = batches(source(), limit=5)
    await it.__anext__()
    await it.aclose()
    assert closed.is_set()


async def test_with_linger_fast_items_are_grouped_and_a_quiet_stream_is_not_delayed():
    fast = [b async for b in batches(_source(200, delay=0.0005), linger=0.02)]
    assert len(fast) < 50 and sum(map(len, fast)) == 200
    loop = asyncio.get_running_loop()
    started = loop.time()
    slow = batches(_source(2, delay=0.05), linger=0.01)
    assert await slow.__anext__() == [0]
    assert await slow.__anext__() == [1]
    assert loop.time() - started < 0.15


async def test_a_quiet_spell_gives_empty_batches_only_when_idle_is_set():
    got = [b async for b in batches(_source(2, delay=0.12), idle=0.05)]
    assert [i for b in got for i in b] == [0, 1] and [] in got
    assert [b async for b in batches(_source(2, delay=0.06))] == [[0], [1]]


async def test_items_arriving_within_idle_give_no_empty_batch():
    got = [b async for b in batches(_source(20, delay=0.001), idle=0.5)]
    assert [] not in got and [i for b in got for i in b] == list(range(20))
