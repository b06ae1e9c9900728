"""Coarse timeouts for many concurrent waits, on one loop timer.

A timer per request (``loop.call_at`` + ``cancel``, or ``asyncio.timeout_at``)
costs 2.5–5 µs on uvloop; at thousands of requests a second that is a
measurable share of a gateway's CPU. Waits register here instead, and one
timer ticks every ``resolution`` seconds while any wait is registered: a wait
times out between its deadline and one tick later.

:class:`TaskDeadline` is ``asyncio.timeout_at`` on this clock: the pipeline
bounds each upstream call with it (translators also pass the exact deadline
to their protocol, e.g. as the gRPC deadline)::

    with TaskDeadline(deadlines, loop.time() + 30):  # inside a task
        reply = await translator.handle(call)
    # raises TimeoutError once the deadline has passed (up to one tick late)
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Protocol

__all__ = ["Deadlines", "TaskDeadline", "Timed", "loop_deadlines"]


class Timed(Protocol):
    """Something waiting until ``deadline`` (a ``loop.time()``); ``expire`` ends the wait."""

    deadline: float

    def expire(self) -> None: ...


class Deadlines:
    """The registered waits of one event loop's pool, checked once per tick."""

    __slots__ = ("_resolution", "_timer", "_waits", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, resolution: float = 0.01) -> None:
        self.loop = loop
        self._resolution = resolution
        self._waits: set[Timed] = set()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, wait: Timed) -> None:
        self._waits.add(wait)
        if self._timer is None:
            self._timer = self.loop.call_later(self._resolution, self._tick)

    def discard(self, wait: Timed) -> None:
        self._waits.discard(wait)

    def _tick(self) -> None:
        now = self.loop.time()
        expired = [wait for wait in self._waits if wait.deadline <= now]
        for wait in expired:
            self._waits.discard(wait)
            wait.expire()
        self._timer = self.loop.call_later(self._resolution, self._tick) if self._waits else None


_shared: Deadlines | None = None  # the last loop's; a process serves from one loop at a time


def loop_deadlines() -> Deadlines:
    """The running loop's shared :class:`Deadlines` (one ticker for the pipeline, pools, storages)."""
    global _shared
    loop = asyncio.get_running_loop()
    if _shared is None or _shared.loop is not loop:
        _shared = Deadlines(loop)
    return _shared


class TaskDeadline:
    """``asyncio.timeout_at(deadline)`` for the current task, checked by ``deadlines``' ticks.

    On expiry the task is cancelled; the cancellation surfaces inside the
    ``with`` block and leaves it as :class:`TimeoutError`. A cancellation from
    elsewhere (the client went away) stays a ``CancelledError``. A plain
    ``with``: entering and leaving await nothing, so no coroutines are made.
    """

    __slots__ = ("_cancelling", "_deadlines", "_task", "deadline", "expired")

    def __init__(self, deadlines: Deadlines, deadline: float) -> None:
        self._deadlines = deadlines
        self._task: asyncio.Task[object] | None = None
        self._cancelling = 0
        self.deadline = deadline
        self.expired = False

    def __enter__(self) -> TaskDeadline:
        task = self._task = asyncio.current_task()
        if task is not None:
            self._cancelling = task.cancelling()
        self._deadlines.add(self)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._deadlines.discard(self)  # before anything else can await: no expiry past this line
        # After our own cancel, take it back; only it (none from elsewhere) becomes a timeout.
        task = self._task
        if self.expired and task is not None and task.uncancel() <= self._cancelling and kind is asyncio.CancelledError:
            raise TimeoutError from exc

    def expire(self) -> None:
        if self._task is not None and not self._task.done():
            self.expired = True
            self._task.cancel()
