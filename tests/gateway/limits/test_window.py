"""The sliding-window arithmetic, pure."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.limits.window import (
    Counts,
    Rule,
    admits,
    remaining,
    reset_after,
    retry_after,
    roll,
    weighted,
)

RULE = Rule("route-60s", amount=20, window=60)


def test_an_empty_window_admits_up_to_the_amount():
    assert admits(RULE, Counts(0, 19, 5.0), 1)
    assert not admits(RULE, Counts(0, 20, 5.0), 1)


def test_the_previous_window_weighs_by_the_share_still_inside_the_sliding_window():
    assert weighted(RULE, Counts(previous=20, current=0, elapsed=0.0)) == 20
    assert weighted(RULE, Counts(previous=20, current=0, elapsed=45.0)) == 5
    assert weighted(RULE, Counts(previous=20, current=3, elapsed=30.0)) == 13


def test_a_burst_at_the_end_of_a_window_is_not_repeated_at_the_start_of_the_next():
    assert not admits(RULE, Counts(previous=20, current=0, elapsed=0.5), 1)


def test_a_cost_counts_as_that_many_calls():
    assert admits(RULE, Counts(0, 15, 1.0), 5)
    assert not admits(RULE, Counts(0, 15, 1.0), 6)


def test_a_zero_cost_always_fits():
    assert admits(RULE, Counts(0, 99, 1.0), 0)


def test_counters_roll_into_the_previous_window_and_then_out():
    assert roll(100, current=7, previous=3, now_index=100) == (3, 7)
    assert roll(100, current=7, previous=3, now_index=101) == (7, 0)
    assert roll(100, current=7, previous=3, now_index=102) == (0, 0)


def test_remaining_and_reset_describe_what_is_left():
    counts = Counts(previous=0, current=5, elapsed=10.0)
    assert remaining(RULE, counts) == 15
    assert reset_after(RULE, counts) == 110
    assert reset_after(RULE, Counts(previous=4, current=0, elapsed=10.0)) == 50
    assert reset_after(RULE, Counts(0, 0, 10.0)) == 0


def test_retry_after_waits_for_the_previous_window_to_fade():
    counts = Counts(previous=20, current=0, elapsed=0.0)
    wait = retry_after(RULE, counts, 1)
    assert math.isclose(wait, 3.0)
    assert admits(RULE, Counts(20, 0, 0.0 + wait), 1)


def test_retry_after_waits_for_the_next_window_when_this_one_is_full():
    wait = retry_after(RULE, Counts(previous=0, current=20, elapsed=50.0), 1)
    # 10 s to the window end, then 20 × (60 − t)/60 ≤ 19 → t ≥ 3 s.
    assert math.isclose(wait, 13.0)


def test_a_cost_above_the_amount_never_fits_and_waits_a_window():
    assert retry_after(RULE, Counts(0, 0, 0.0), 21) == 60


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=299.999), min_size=1, max_size=200), st.integers(1, 3))
def test_no_aligned_window_ever_admits_more_than_the_amount(times, cost):
    rule = Rule("r", amount=10, window=60)
    stored = (0, 0, 0)  # index, current, previous
    admitted: dict[int, int] = {}
    for now in sorted(times):
        index, elapsed = divmod(now, rule.window)
        previous, current = roll(stored[0], stored[1], stored[2], int(index))
        if admits(rule, Counts(previous, current, elapsed), cost):
            stored = (int(index), current + cost, previous)
            admitted[int(index)] = admitted.get(int(index), 0) + cost
        else:
            wait = retry_after(rule, Counts(previous, current, elapsed), cost)
            assert wait > 0
    assert all(total <= rule.amount for total in admitted.values())
