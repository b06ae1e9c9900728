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
    """Sliding-window counters in a dict: key → [window index, current, previous]."""

    def __init__(self, uri: str = "memory://", timeout: float = 0.0, clock: Callable[[], float] = time.time) -> None:
        self._counters: dict[str, list[int]] = {}
        self._expires: dict[str, float] = {}
        self._clock = clock
        self._until_sweep = _SWEEP_EVERY

    async def start(self) -> None:
        """Nothing to connect."""

    async def close(self) -> None:
        self._counters.clear()
        self._expires.clear()

    async def hit(self, keys: Sequence[str], rules: Sequence[Rule], cost: int) -> Decision:
        now = self._clock()
        counts = [self._counts(key, rule, now) for key, rule in zip(keys, rules, strict=True)]
        admitted = all(admits(rule, c, cost) for rule, c in zip(rules, counts, strict=True))
        if admitted and cost:
            counts = [self._add(k, r, c, cost, now) for k, r, c in zip(keys, rules, counts, strict=True)]
        self._maybe_sweep(now)
        return admitted, counts

    def _counts(self, key: str, rule: Rule, now: float) -> Counts:
        index, elapsed = divmod(now, rule.window)
        stored = self._counters.get(key)
        if stored is None:
            return Counts(0, 0, elapsed)
        previous, current = roll(stored[0], stored[1], stored[2], int(index))
        return Counts(previous, current, elapsed)

    def _add(self, key: str, rule: Rule, counts: Counts, cost: int, now: float) -> Counts:
        index = int(now // rule.window)
        self._counters[key] = [index, counts.current + cost, counts.previous]
        self._expires[key] = (index + 2) * rule.window
        return Counts(counts.previous, counts.current + cost, counts.elapsed)

    def _maybe_sweep(self, now: float) -> None:
        self._until_sweep -= 1
        if self._until_sweep > 0:
            return
        self._until_sweep = _SWEEP_EVERY
        for key in [k for k, until in self._expires.items() if until <= now]:
            del self._expires[key]
            del self._counters[key]

    def __len__(self) -> int:
        return len(self._counters)
