"""``memory://``: counters in this process's memory.

A decision runs without awaiting anything, so it is atomic within the event
loop. Counters are not shared with other processes: Rosetta refuses to start
with ``server.workers > 1`` and this storage (see ``limits.settings``).

Each key's counter is one small mutable object, rolled forward and updated in
place: on the hot path a decision allocates only the :class:`Counts` it returns.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from gateway.limits.storage import Decision
from gateway.limits.window import Counts, Rule, admits, remaining, reset_after

__all__ = ["MemoryStorage"]

_SWEEP_EVERY = 10_000  # counters started between sweeps of expired ones


class _Counter:
    """One key's two windows: the index of the current one, its count, the previous one's count."""

    __slots__ = ("current", "expiry", "index", "previous")

    def __init__(self, index: float, previous: int, window: int) -> None:
        self.index, self.current, self.previous = index, 0, previous
        self.expiry = (index + 2) * window  # when both windows have passed


class MemoryStorage:
    """Sliding-window counters in a dict: key → :class:`_Counter`."""

    def __init__(self, uri: str = "memory://", timeout: float = 0.0, clock: Callable[[], float] = time.time) -> None:
        self._counters: dict[str, _Counter] = {}
        self._clock = clock
        self._until_sweep = _SWEEP_EVERY

    async def start(self) -> None:
        """Nothing to connect."""

    async def close(self) -> None:
        self._counters.clear()

    async def hit(self, keys: Sequence[str], rules: Sequence[Rule], cost: int) -> Decision:
        return self.decide(keys, rules, cost)

    def decide_one(self, key: str, rule: Rule, cost: int) -> tuple[int, int, Counts | None]:
        """One rule's decision, with its header figures: ``(remaining, reset, None)`` when the call
        is admitted (and counted), ``(remaining, reset, counts)`` when it is refused.

        The same arithmetic as :meth:`decide` followed by
        :func:`~gateway.limits.window.remaining` and :func:`~gateway.limits.window.reset_after`,
        without building the :class:`Counts` of an admitted call.
        """
        now = self._clock()
        window = rule.window
        index = now // window
        counter = self._counters.get(key)
        if counter is None or counter.index != index:
            counter = self._roll(key, counter, index, window, now)
        previous, current = counter.previous, counter.current
        elapsed = now - index * window
        left = window - elapsed
        share = left / window
        if cost:
            if previous * share + current + cost > rule.amount:  # as admits()
                counts = Counts(previous, current, elapsed)
                return remaining(rule, counts), reset_after(rule, counts), counts
            counter.current = current = current + cost
        rest = int(rule.amount - (previous * share + current) + 1e-9)  # remaining(), for a fitted call
        reset = math.ceil(left + window) if current else math.ceil(left) if previous else 0
        return rest if rest > 0 else 0, reset, None

    def decide(self, keys: Sequence[str], rules: Sequence[Rule], cost: int) -> Decision:
        """:meth:`hit` without the coroutine: every rule admits the call and every counter takes
        its cost, or none does. (The limiter decides single-rule policies with :meth:`decide_one`.)"""
        now = self._clock()
        counters: list[_Counter] = []
        counts: list[Counts] = []
        for key, rule in zip(keys, rules, strict=True):
            index = now // rule.window
            counter = self._counters.get(key)
            if counter is None or counter.index != index:
                counter = self._roll(key, counter, index, rule.window, now)
            counters.append(counter)
            counts.append(Counts(counter.previous, counter.current, now - index * rule.window))
        if not cost:
            return True, counts
        if not all(admits(rule, c, cost) for rule, c in zip(rules, counts, strict=True)):
            return False, counts
        for counter in counters:
            counter.current += cost
        return True, [c._replace(current=c.current + cost) for c in counts]

    def _roll(self, key: str, counter: _Counter | None, index: float, window: int, now: float) -> _Counter:
        """A counter for window ``index``: the previous window's count is the old current one if adjacent."""
        previous = counter.current if counter is not None and counter.index == index - 1 else 0
        self._until_sweep -= 1  # only here can the dict grow: count sweeps in new windows
        if self._until_sweep <= 0:
            self._sweep(now)
        counter = self._counters[key] = _Counter(index, previous, window)
        return counter

    def _sweep(self, now: float) -> None:
        self._until_sweep = _SWEEP_EVERY
        for key in [k for k, counter in self._counters.items() if counter.expiry <= now]:
            del self._counters[key]

    def __len__(self) -> int:
        return len(self._counters)
