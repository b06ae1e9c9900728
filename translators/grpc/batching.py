"""Read a stream ahead in a task and hand it over in batches, so writes can be coalesced.

A streaming response costs a socket write per chunk; when messages arrive
faster than the caller's connection takes them, :func:`batches` gives the
consumer everything that arrived since it last asked, in one list. When they
arrive slowly, each batch holds one item, sent at once. At most ``limit``
items wait: the reader pauses until the consumer catches up::

    async for batch in batches(messages(), limit=256):
        await send(b"".join(frame(m) for m in batch))

An error from the source is raised after the items read before it.
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


async def batches(source: AsyncIterator[T], limit: int = 256, linger: float = 0.0) -> AsyncIterator[list[T]]:
    """Lists of the items of ``source`` (never empty), as they have arrived.

    With ``linger`` (seconds), batches are handed over at most once per
    ``linger`` while items keep coming faster than that (fewer, larger
    writes); after a quiet spell the next item goes at once.
    """
    pump = _Pump(source, limit)
    loop = asyncio.get_running_loop()
    last = -linger
    try:
        while True:
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
