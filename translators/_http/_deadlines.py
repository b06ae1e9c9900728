"""Coarse timeouts for many concurrent waits, on one loop timer.

A timer per request (``loop.call_at`` + ``cancel``) costs a few microseconds;
at thousands of requests a second that is a measurable share of a proxy's CPU.
Waits register here instead, and one timer ticks every ``resolution`` seconds
while any wait is registered: a wait times out between its deadline and one
tick later.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

__all__ = ["Deadlines", "Timed"]


class Timed(Protocol):
    """Something waiting until ``deadline`` (a ``loop.time()``); ``expire`` ends the wait."""

    deadline: float

    def expire(self) -> None: ...


class Deadlines:
    """The registered waits of one event loop's pool, checked once per tick."""

    __slots__ = ("_loop", "_resolution", "_timer", "_waits")

    def __init__(self, loop: asyncio.AbstractEventLoop, resolution: float = 0.01) -> None:
        self._loop = loop
        self._resolution = resolution
        self._waits: set[Timed] = set()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, wait: Timed) -> None:
        self._waits.add(wait)
        if self._timer is None:
            self._timer = self._loop.call_later(self._resolution, self._tick)

    def discard(self, wait: Timed) -> None:
        self._waits.discard(wait)

    def _tick(self) -> None:
        now = self._loop.time()
        expired = [wait for wait in self._waits if wait.deadline <= now]
        for wait in expired:
            self._waits.discard(wait)
            wait.expire()
        self._timer = self._loop.call_later(self._resolution, self._tick) if self._waits else None
