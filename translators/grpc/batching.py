"""Read a stream ahead in a task and hand it over in batches, so writes can be coalesced.

A streaming response costs a socket write per chunk; when messages arrive
faster than the caller's connection takes them, :func:`batches` gives the
consumer everything that arrived since it last asked, in one list. When they
arrive slowly, each batch holds one item, sent at once. At most ``limit``
items wait: the reader pauses until the consumer catches up::

    async for batch in batches(messages(), limit=256):
        await send(b"".join(frame(m) for m in batch))

An error from the source is raised after the items read before it. With
``idle``, an empty list marks each ``idle`` seconds without an item, so the
consumer can keep a quiet connection alive.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

__all__ = ["batches"]

T = TypeVar("T")


class _Pump(Generic[T]):
    def __init__(self, source: AsyncIterator[T], limit: int) -> None:
        self.items: list[T] = []
        self.error: BaseException | None = None
        self.done = False
        self.arrived = asyncio.Event()
        self.room = asyncio.Event()
        self.room.set()
        self._limit = limit
        self.task = asyncio.get_running_loop().create_task(self._run(source))

    async def _run(self, source: AsyncIterator[T]) -> None:
        try:
            async for item in source:
                self.items.append(item)
                self.arrived.set()
                if len(self.items) >= self._limit:
                    self.room.clear()
                    await self.room.wait()
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self.error = exc
        finally:
            self.done = True
            self.arrived.set()
            closer = getattr(source, "aclose", None)
            if closer is not None:
                await closer()

    def take(self) -> list[T]:
        taken, self.items = self.items, []
        self.arrived.clear()
        self.room.set()
        return taken


async def batches(
    source: AsyncIterator[T], limit: int = 256, linger: float = 0.0, idle: float | None = None
) -> AsyncIterator[list[T]]:
    """Lists of the items of ``source`` as they have arrived (never empty without ``idle``).

    With ``linger`` (seconds), batches are handed over at most once per
    ``linger`` while items keep coming faster than that (fewer, larger
    writes); after a quiet spell the next item goes at once. With ``idle``
    (seconds), an empty list is handed over after each ``idle`` seconds
    without an item.
    """
    pump = _Pump(source, limit)
    loop = asyncio.get_running_loop()
    last = -linger
    try:
        while True:
            if idle is not None and not await _arrival(pump, idle, loop):
                yield []
                continue
            await pump.arrived.wait()
            wait = last + linger - loop.time()
            if wait > 0 and not pump.done and len(pump.items) < limit:
                await asyncio.sleep(wait)
            taken = pump.take()
            if taken:
                yield taken
                last = loop.time()
            if pump.done and not pump.items:
                if pump.error is not None:
                    raise pump.error
                return
    finally:
        if not pump.task.done():
            pump.task.cancel()
            await asyncio.gather(pump.task, return_exceptions=True)


async def _arrival(pump: _Pump[T], idle: float, loop: asyncio.AbstractEventLoop) -> bool:
    """Whether an item (or the end) arrives within ``idle`` seconds.

    A timer rather than ``asyncio.wait_for``: no task per wait.
    """
    if pump.arrived.is_set():
        return True
    timer = loop.call_later(idle, pump.arrived.set)
    await pump.arrived.wait()
    timer.cancel()
    if pump.items or pump.done:
        return True
    pump.arrived.clear()
    return False
