"""Rate strings to :class:`~gateway.limits.window.Rule` s, and the headers that announce them.

Headers follow the IETF httpapi draft "RateLimit header fields for HTTP"
(draft-ietf-httpapi-ratelimit-headers-09, structured-field form)::

    RateLimit-Policy: "route-60s";q=20;w=60, "quota-86400s";q=1000;w=86400
    RateLimit: "route-60s";r=19;t=120, "quota-86400s";r=998;t=172800

Each rule is named ``<scope>-<window>s``; scopes are ``route``, ``global``,
``plan`` and ``quota``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from limits import parse_many

from gateway.limits.window import Counts, Rule, remaining, reset_after

__all__ = ["parse_rules", "policy_header", "state_header"]


@lru_cache(maxsize=1024)
def parse_rules(scope: str, rate: str) -> tuple[Rule, ...]:
    """The rules of ``rate`` (e.g. ``"5/second;1000/day"``) for ``scope``; ``ValueError`` if malformed."""
    rules: list[Rule] = []
    for item in parse_many(rate):
        name = f"{scope}-{item.get_expiry()}s"
        while any(rule.name == name for rule in rules):
            name += "'"
        rules.append(Rule(name, int(item.amount), int(item.get_expiry())))
    if not rules:
        raise ValueError(f"no rate limit in {rate!r}")
    return tuple(rules)


def policy_header(rules: Sequence[Rule]) -> str:
    """The ``RateLimit-Policy`` value for ``rules``."""
    return ", ".join(f'"{r.name}";q={r.amount};w={r.window}' for r in rules)


def state_header(rules: Sequence[Rule], counts: Sequence[Counts]) -> str:
    """The ``RateLimit`` value: what is left of each rule and when it resets."""
    if len(rules) == 1:  # the common case, with remaining() and reset_after() inlined
        r, (previous, current, elapsed) = rules[0], counts[0]
        window = r.window
        left = window - elapsed
        used = previous * (left / window) + current  # exactly weighted()
        rest = int(r.amount - used + 1e-9)  # truncates; negatives become 0 below, as in remaining()
        reset = math.ceil(left + window) if current else math.ceil(left) if previous else 0
        return f'"{r.name}";r={rest if rest > 0 else 0};t={reset}'
    return ", ".join(
        f'"{r.name}";r={remaining(r, c)};t={reset_after(r, c)}' for r, c in zip(rules, counts, strict=True)
    )
