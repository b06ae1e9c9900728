"""``memory://``: counters in this process's memory.

A decision runs without awaiting anything, so it is atomic within the event
loop. Counters are not shared with other processes: Rosetta refuses to start
with ``server.workers > 1`` and this storage (see ``limits.settings``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from gateway.limits.storage import Decision
from gateway.limits.window import Counts, Rule, admits, roll

__all__ = ["MemoryStorage"]

_SWEEP_EVERY = 10_000  # decisions between sweeps of expired counters


class MemoryStorage:
    """Sliding-window counters in a dict: key → (window index, current, previous, expiry)."""

    def __init__(self, uri: str = "memory://", timeout: float = 0.0, clock: Callable[[], float] = time.time) -> None:
        self._counters: dict[str, tuple[int, int, int, int]] = {}
        self._clock = clock
        self._until_sweep = _SWEEP_EVERY

    async def start(self) -> None:
        """Nothing to connect."""

    async def close(self) -> None:
        self._counters.clear()

    async def hit(self, keys: Sequence[str], rules: Sequence[Rule], cost: int) -> Decision:
        now = self._clock()
        counts = [self._counts(key, rule, now) for key, rule in zip(keys, rules, strict=False)]
        for rule, c in zip(rules, counts, strict=False):
            if not admits(rule, c, cost):
                return False, counts
        if cost:
            counts = [self._add(key, rule, c, cost, now) for key, rule, c in zip(keys, rules, counts, strict=False)]
            if self._until_sweep <= 0:
                self._sweep(now)
        return True, counts

    def _counts(self, key: str, rule: Rule, now: float) -> Counts:
        index, elapsed = divmod(now, rule.window)
        stored = self._counters.get(key)
        if stored is None:
            return Counts(0, 0, elapsed)
        return Counts(*roll(stored[0], stored[1], stored[2], int(index)), elapsed)

    def _add(self, key: str, rule: Rule, counts: Counts, cost: int, now: float) -> Counts:
        index = int(now // rule.window)
        current = counts.current + cost
        self._counters[key] = (index, current, counts.previous, (index + 2) * rule.window)
        self._until_sweep -= 1
        return Counts(counts.previous, current, counts.elapsed)

    def _sweep(self, now: float) -> None:
        self._until_sweep = _SWEEP_EVERY
        for key in [k for k, stored in self._counters.items() if stored[3] <= now]:
            del self._counters[key]

    def __len__(self) -> int:
        return len(self._counters)
