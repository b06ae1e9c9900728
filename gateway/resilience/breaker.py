"""A circuit breaker, as a state machine with an injected clock (no I/O).

::

    closed ──(failures in a row ≥ failures, or error rate ≥ error_rate)──▶ open
    open ──(open_for elapsed)──▶ half-open: up to half_open_probes trial calls
    half-open ──(every probe succeeded)──▶ closed
    half-open ──(a probe failed)──▶ open again

Every change of state starts a new *period*. An outcome counts only in the
period its call was let through in: a slow call admitted while closed that
ends during half-open is not taken for a probe, and cannot close the breaker
while the real probe is still out.

Usage::

    breaker = CircuitBreaker(BreakerSettings(failures=3, open_for=10))
    if not breaker.allow():          # open: fail fast
        ...
    period = breaker.period          # taken right after allow()
    breaker.record(success=True, period=period)  # after each allowed call
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

from gateway.resilience.settings import BreakerSettings

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Decides whether a call may go to the upstream, from the outcomes of earlier calls."""

    def __init__(self, settings: BreakerSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._streak = 0  # consecutive failures while closed
        self._outcomes: deque[bool] = deque(maxlen=settings.window)  # True = failure
        self._probes = 0  # probes let through in this half-open period
        self._probe_successes = 0
        self._period = 0  # bumped on every change of state

    @property
    def period(self) -> int:
        """The current period: read it right after :meth:`allow` and hand it back with the outcome."""
        return self._period

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose time is up reads as half-open)."""
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.settings.open_for:
            self._half_open()
        return self._state

    def retry_after(self) -> float:
        """Seconds until an open breaker lets a probe through."""
        return max(0.0, self._opened_at + self.settings.open_for - self._clock())

    def allow(self) -> bool:
        """Whether a call may go now; a half-open breaker admits its probes only."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and self._probes < self.settings.half_open_probes:
            self._probes += 1
            return True
        return False

    def record(self, success: bool, period: int | None = None) -> None:
        """The outcome of a call :meth:`allow` let through in ``period`` (default: the current one);
        an outcome from an earlier period is ignored."""
        if period is not None and period != self._period:
            return
        if self._state is BreakerState.HALF_OPEN:
            self._record_probe(success)
        elif self._state is BreakerState.CLOSED:
            self._record_closed(success)

    def abandon(self, period: int | None = None) -> None:
        """A call :meth:`allow` let through in ``period`` was not made or has no verdict: free its probe."""
        if period is not None and period != self._period:
            return
        if self._state is BreakerState.HALF_OPEN and self._probes > self._probe_successes:
            self._probes -= 1

    def _record_closed(self, success: bool) -> None:
        self._streak = 0 if success else self._streak + 1
        self._outcomes.append(not success)
        if self._tripped():
            self._open()

    def _record_probe(self, success: bool) -> None:
        if not success:
            self._open()
            return
        self._probe_successes += 1
        if self._probe_successes >= self.settings.half_open_probes:
            self._close()

    def _tripped(self) -> bool:
        s = self.settings
        if s.failures is not None and self._streak >= s.failures:
            return True
        if s.error_rate is None or len(self._outcomes) < s.min_calls:
            return False
        return sum(self._outcomes) / len(self._outcomes) >= s.error_rate

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._clock()
        self._period += 1

    def _half_open(self) -> None:
        self._state = BreakerState.HALF_OPEN
        self._probes = self._probe_successes = 0
        self._period += 1

    def _close(self) -> None:
        self._state = BreakerState.CLOSED
        self._period += 1
        self._streak = 0
        self._outcomes.clear()
