"""Coarse deadlines: one loop timer for every wait, and asyncio.timeout_at semantics for tasks."""

import asyncio

import pytest

from gateway.deadlines import Deadlines, TaskDeadline


async def test_a_task_past_its_deadline_gets_timeout_error_within_a_tick():
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(loop, resolution=0.01)
    started = loop.time()
    with pytest.raises(TimeoutError), TaskDeadline(deadlines, started + 0.05):
        await asyncio.sleep(5)
    assert 0.05 <= loop.time() - started < 0.5
    assert asyncio.current_task().cancelling() == 0  # the task is not left half-cancelled


async def test_a_block_that_finishes_in_time_is_left_alone_afterwards():
    deadlines = Deadlines(asyncio.get_running_loop(), resolution=0.01)
    with TaskDeadline(deadlines, asyncio.get_running_loop().time() + 0.05) as bound:
        await asyncio.sleep(0)
    await asyncio.sleep(0.15)  # well past the deadline: nothing may cancel us now
    assert not bound.expired


async def test_a_cancel_from_elsewhere_stays_a_cancel():
    deadlines = Deadlines(asyncio.get_running_loop(), resolution=0.01)

    async def guarded():
        with TaskDeadline(deadlines, asyncio.get_running_loop().time() + 5):
            await asyncio.sleep(5)

    task = asyncio.create_task(guarded())
    await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_many_waits_share_one_timer_and_each_expires():
    loop = asyncio.get_running_loop()
    deadlines = Deadlines(loop, resolution=0.01)

    async def guarded(delay: float) -> str:
        try:
            with TaskDeadline(deadlines, loop.time() + delay):
                await asyncio.sleep(1)
        except TimeoutError:
            return "timeout"
        return "done"

    results = await asyncio.gather(*(guarded(0.02 + i / 1000) for i in range(200)))
    assert results == ["timeout"] * 200


async def test_the_running_loop_has_one_shared_ticker():
    from gateway.deadlines import loop_deadlines

    first = loop_deadlines()
    assert loop_deadlines() is first and first.loop is asyncio.get_running_loop()
