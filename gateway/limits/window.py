"""The sliding-window counter, as pure arithmetic (no I/O, no clock).

Each limit keeps two counters per key: the calls of the current window and
of the previous one, windows being aligned on the epoch. At ``elapsed``
seconds into the current window the calls counted are estimated as::

    weighted = previous × (window − elapsed) / window + current

and a call of cost ``c`` is admitted when ``weighted + c ≤ amount``. The
estimate assumes the previous window's calls were spread evenly; it never
lets through more than ``amount`` calls in one aligned window, and a burst at
the end of one window cannot be repeated at the start of the next.

Both storages (memory and Redis) decide with these formulas, the Redis one
in a Lua script; :func:`admits` is the reference the script mirrors.

Example::

    rule = Rule("route-60s", amount=20, window=60)
    counts = Counts(previous=10, current=5, elapsed=30.0)
    weighted(rule, counts)      # 10.0
    admits(rule, counts, 1)     # True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Counts", "Rule", "admits", "remaining", "reset_after", "retry_after", "roll", "weighted"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One limit: ``amount`` cost units per ``window`` seconds, named for the headers."""

    name: str
    amount: int
    window: int


class Counts(NamedTuple):
    """A key's counters at one instant: ``elapsed`` seconds into the current window."""

    previous: int
    current: int
    elapsed: float


def roll(index: int, current: int, previous: int, now_index: int) -> tuple[int, int]:
    """Stored counters of window ``index`` seen from window ``now_index``: (previous, current)."""
    if index == now_index:
        return previous, current
    if index == now_index - 1:
        return current, 0
    return 0, 0


def weighted(rule: Rule, counts: Counts) -> float:
    """The estimated cost counted in the sliding window ending now."""
    share = (rule.window - counts.elapsed) / rule.window
    return counts.previous * share + counts.current


def admits(rule: Rule, counts: Counts, cost: int) -> bool:
    """Whether a call of ``cost`` fits under ``rule`` (a zero cost always fits)."""
    return cost == 0 or weighted(rule, counts) + cost <= rule.amount


def remaining(rule: Rule, counts: Counts) -> int:
    """Whole cost units still available now (the ``r`` of the ``RateLimit`` header)."""
    return max(0, math.floor(rule.amount - weighted(rule, counts) + 1e-9))


def reset_after(rule: Rule, counts: Counts) -> int:
    """Seconds until every unit counted now has aged out (the ``t`` of ``RateLimit``)."""
    left = rule.window - counts.elapsed
    if counts.current:
        return math.ceil(left + rule.window)
    if counts.previous:
        return math.ceil(left)
    return 0


def retry_after(rule: Rule, counts: Counts, cost: int) -> float:
    """Seconds until a call of ``cost`` fits under ``rule`` (0 if it fits now).

    A cost above ``amount`` never fits; the answer is then one whole window.
    """
    if admits(rule, counts, cost):
        return 0.0
    if cost > rule.amount:
        return float(rule.window)
    w, left = rule.window, rule.window - counts.elapsed
    room = rule.amount - counts.current - cost
    if room >= 0 and counts.previous:
        # Within this window the previous calls fade out linearly.
        return max(0.0, left - w * room / counts.previous)
    # Only once this window has become the previous one.
    later = w * (1 - (rule.amount - cost) / counts.current) if counts.current else 0.0
    return left + max(0.0, later)
