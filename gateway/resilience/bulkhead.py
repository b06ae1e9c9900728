"""A bulkhead: at most ``max_concurrent`` calls in flight, a bounded wait for a slot.

Beyond the wait (or the waiting room) a call is refused with a 503
``overloaded`` problem and ``Retry-After``, never queued without end::

    bulkhead = Bulkhead("pharmacy", BulkheadSettings(max_concurrent=10, max_wait=0.1))
    await bulkhead.acquire()          # raises Overloaded
    try: ...
    finally: bulkhead.release()
"""

from __future__ import annotations

import asyncio

from gateway.errors import Overloaded
from gateway.resilience.settings import BulkheadSettings

__all__ = ["Bulkhead"]


class Bulkhead:
    """The concurrency cap of one upstream (per worker process)."""

    def __init__(self, upstream: str, settings: BulkheadSettings) -> None:
        self.upstream = upstream
        self.settings = settings
        self._slots = asyncio.Semaphore(settings.max_concurrent)
        self._waiting = 0

    @property
    def in_flight(self) -> int:
        return self.settings.max_concurrent - self._slots._value

    async def acquire(self) -> None:
        """Take a slot, waiting at most ``max_wait`` seconds; else raise :class:`Overloaded`."""
        if not self._slots.locked():
            await self._slots.acquire()
            return
        limit = self.settings.max_waiting
        if self.settings.max_wait <= 0 or (limit is not None and self._waiting >= limit):
            raise self._full()
        self._waiting += 1
        try:
            async with asyncio.timeout(self.settings.max_wait):
                await self._slots.acquire()
        except TimeoutError:
            raise self._full() from None
        finally:
            self._waiting -= 1

    def release(self) -> None:
        """Give the slot back."""
        self._slots.release()

    def _full(self) -> Overloaded:
        return Overloaded(
            f"upstream '{self.upstream}' already has {self.settings.max_concurrent} calls in flight",
            headers={"Retry-After": str(self.settings.retry_after)},
        )
