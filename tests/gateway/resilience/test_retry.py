"""Which calls are retried, after which failures, and how long the pauses are."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from gateway.errors import (
    BadGateway,
    GatewayError,
    GatewayTimeout,
    Overloaded,
    ServiceUnavailable,
    UpstreamFault,
)
from gateway.plugin import Operation, Reply
from gateway.resilience.guard import CircuitOpen
from gateway.resilience.retry import RETRYABLE, asked_pause, is_idempotent, pause, retryable
from gateway.resilience.settings import RetrySettings
from gateway.testing import make_call

READ = Operation(name="GetDrug", method="POST", idempotent=True)
WRITE = Operation(name="Refill", method="POST")


def test_idempotent_methods_and_operations_may_be_retried():
    for method in ("GET", "HEAD", "PUT", "DELETE"):
        assert is_idempotent(make_call(WRITE, method=method))
    assert is_idempotent(make_call(READ, method="POST"))


def test_post_and_patch_are_never_idempotent_unless_the_operation_says_so():
    assert not is_idempotent(make_call(WRITE, method="POST"))
    assert not is_idempotent(make_call(WRITE, method="PATCH"))


def test_operations_the_upstream_names_are_idempotent_though_called_with_post():
    assert is_idempotent(make_call(WRITE, method="POST"), ["Refill"])
    assert not is_idempotent(make_call(WRITE, method="POST"), ["GetDrug"])


@pytest.mark.parametrize("kind", ["client", "bidi"])
def test_a_streamed_request_body_is_never_idempotent(kind):
    streamed = Operation(name="Upload", method="POST", idempotent=True, streaming=kind)
    assert not is_idempotent(make_call(streamed, method="PUT"), ["Upload"])
    assert is_idempotent(make_call(Operation(name="List", idempotent=True, streaming="server"), method="POST"))


def test_only_unreachable_and_503_are_retryable():
    assert retryable(ServiceUnavailable("connect refused"))
    assert retryable(Reply(status=503))
    for final in (GatewayTimeout("slow"), BadGateway("bad"), UpstreamFault("fault"), Overloaded("full"),
                  CircuitOpen("open"), GatewayError("bug")):
        assert not retryable(final), final
    for status in (200, 500, 502, 504, 429):
        assert not retryable(Reply(status=status))


def test_the_retry_table_ends_with_a_catch_all_that_does_not_retry():
    assert RETRYABLE[-1][0] is GatewayError and RETRYABLE[-1][1] is False


def test_pauses_grow_exponentially_up_to_the_cap_with_full_jitter():
    settings = RetrySettings(backoff=0.1, multiplier=2, max_backoff=0.5)
    assert [pause(settings, n, rand=lambda: 1.0) for n in (1, 2, 3, 4)] == [0.1, 0.2, 0.4, 0.5]
    assert pause(settings, 3, rand=lambda: 0.5) == 0.2
    assert pause(settings, 1, rand=lambda: 0.0) == 0.0


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ([("Retry-After", "3")], 3.0),
        ([("retry-after", " 0 ")], 0.0),
        ([("Retry-After", "soon")], None),
        ([("Retry-After", "-1")], None),
        ([], None),
    ],
)
def test_the_pause_an_upstream_asks_for_is_read_from_retry_after(headers, seconds):
    assert asked_pause(Reply(status=503, headers=headers)) == seconds


def test_a_retry_after_date_asks_for_the_time_until_then():
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    asked = asked_pause(Reply(status=503, headers=[("Retry-After", soon)]))
    assert asked is not None and 28 <= asked <= 30
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    assert asked_pause(Reply(status=503, headers=[("Retry-After", past)])) == 0
