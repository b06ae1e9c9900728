"""The circuit breaker's states, driven by a fake clock."""

import pytest

from gateway.resilience.breaker import BreakerState, CircuitBreaker
from gateway.resilience.settings import BreakerSettings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(**settings):
    clock = Clock()
    return CircuitBreaker(BreakerSettings(**settings), clock), clock


def fail(b, times=1):
    for _ in range(times):
        assert b.allow()
        b.record(success=False)


def test_it_opens_after_the_configured_failures_in_a_row():
    b, _ = breaker(failures=3)
    fail(b, 2)
    assert b.state is BreakerState.CLOSED
    fail(b)
    assert b.state is BreakerState.OPEN
    assert not b.allow()


def test_a_success_resets_the_streak():
    b, _ = breaker(failures=3)
    fail(b, 2)
    assert b.allow()
    b.record(success=True)
    fail(b, 2)
    assert b.state is BreakerState.CLOSED


def test_it_opens_on_an_error_rate_once_enough_calls_were_seen():
    b, _ = breaker(failures=None, error_rate=0.5, window=10, min_calls=6)
    for success in (True, False, True, False, True):
        assert b.allow()
        b.record(success)
    assert b.state is BreakerState.CLOSED  # 5 calls: below min_calls
    fail(b)
    assert b.state is BreakerState.OPEN  # 3 failures of 6


def test_an_error_rate_below_the_threshold_keeps_it_closed():
    b, _ = breaker(failures=None, error_rate=0.5, window=10, min_calls=4)
    for success in (True, True, False, True, True, False, True, True):
        b.allow()
        b.record(success)
    assert b.state is BreakerState.CLOSED


def test_after_open_for_it_lets_one_probe_through():
    b, clock = breaker(failures=1, open_for=5)
    fail(b)
    assert b.retry_after() == 5
    clock.now += 5
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow()
    assert not b.allow()  # one probe at a time


def test_a_successful_probe_closes_it():
    b, clock = breaker(failures=1, open_for=5)
    fail(b)
    clock.now += 5
    assert b.allow()
    b.record(success=True)
    assert b.state is BreakerState.CLOSED and b.allow()


def test_a_failed_probe_opens_it_again_for_a_full_period():
    b, clock = breaker(failures=1, open_for=5)
    fail(b)
    clock.now += 5
    fail(b)
    assert b.state is BreakerState.OPEN
    clock.now += 4.9
    assert not b.allow()


def test_several_probes_must_all_succeed():
    b, clock = breaker(failures=1, open_for=1, half_open_probes=2)
    fail(b)
    clock.now += 1
    assert b.allow() and b.allow() and not b.allow()
    b.record(success=True)
    assert b.state is BreakerState.HALF_OPEN
    b.record(success=True)
    assert b.state is BreakerState.CLOSED


def test_an_abandoned_probe_frees_its_place():
    b, clock = breaker(failures=1, open_for=1)
    fail(b)
    clock.now += 1
    assert b.allow()
    b.abandon()
    assert b.allow()


def test_closing_forgets_old_failures():
    b, clock = breaker(failures=2, open_for=1)
    fail(b, 2)
    clock.now += 1
    b.allow()
    b.record(success=True)
    fail(b)
    assert b.state is BreakerState.CLOSED


def test_a_breaker_needs_some_trigger():
    with pytest.raises(ValueError, match="needs 'failures', 'error_rate' or both"):
        BreakerSettings(failures=None)


def test_a_slow_call_from_before_the_breaker_opened_is_not_taken_for_a_probe():
    b, clock = breaker(failures=1, open_for=5)
    assert b.allow()
    slow = b.period  # a call admitted while closed, still out
    fail(b)
    clock.now += 5
    assert b.allow()  # the real probe, still out too
    b.record(success=True, period=slow)
    assert b.state is BreakerState.HALF_OPEN
    b.abandon(period=slow)
    assert not b.allow()  # the probe's place stays taken
    b.record(success=True, period=b.period)
    assert b.state is BreakerState.CLOSED


def test_a_late_failure_from_an_earlier_closed_period_does_not_count_in_the_next():
    b, clock = breaker(failures=2, open_for=1)
    assert b.allow()
    slow = b.period
    fail(b, 2)
    clock.now += 1
    assert b.allow()
    b.record(success=True, period=b.period)  # closed again
    b.record(success=False, period=slow)
    fail(b)
    assert b.state is BreakerState.CLOSED  # one failure of this period, not two
