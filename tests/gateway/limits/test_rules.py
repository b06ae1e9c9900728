"""Rate strings to rules, and the RateLimit header fields (IETF httpapi draft, structured fields)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.limits.rules import parse_rules, policy_header, state_header
from gateway.limits.window import Counts, Rule, remaining, reset_after


def test_each_window_of_a_rate_is_one_named_rule():
    assert parse_rules("route", "5/second;1000/day") == (
        Rule("route-1s", 5, 1),
        Rule("route-86400s", 1000, 86400),
    )


def test_two_rules_with_the_same_window_keep_distinct_names():
    names = [r.name for r in parse_rules("plan", "5/minute;7/minute")]
    assert len(set(names)) == 2


def test_a_malformed_rate_raises():
    with pytest.raises(ValueError):
        parse_rules("route", "often")


def test_the_policy_field_lists_quota_and_window_of_every_rule():
    rules = parse_rules("route", "20/minute;1000/day")
    assert policy_header(rules) == '"route-60s";q=20;w=60, "route-86400s";q=1000;w=86400'


def test_the_state_field_gives_remaining_and_reset_of_every_rule():
    rules = parse_rules("route", "20/minute")
    assert state_header(rules, [Counts(0, 1, 10.0)]) == '"route-60s";r=19;t=110'


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(1, 10**9),
    window=st.integers(1, 10**6),
    previous=st.integers(0, 2 * 10**9),
    current=st.integers(0, 2 * 10**9),
    share=st.floats(0, 0.999999),
)
def test_the_single_rule_state_field_matches_the_window_formulas(
    amount: int, window: int, previous: int, current: int, share: float
) -> None:
    rule, counts = Rule("route-60s", amount, window), Counts(previous, current, share * window)
    expected = f'"route-60s";r={remaining(rule, counts)};t={reset_after(rule, counts)}'
    assert state_header([rule], [counts]) == expected
    assert state_header([rule, rule], [counts, counts]) == f"{expected}, {expected}"
