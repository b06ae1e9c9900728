"""When a call may be tried again, and how long to pause first.

Only idempotent calls are retried — by HTTP method (RFC 9110 §9.2.2: GET,
HEAD, PUT, DELETE, also OPTIONS and TRACE), because the operation says so
(``Operation.idempotent``: a gRPC method's ``idempotency_level``) or because
the upstream's ``resilience.idempotent_operations`` names it (e.g. a SOAP
read) — and only when the try plainly did not happen or the upstream asked
for another (:data:`RETRYABLE`). A timeout is never retried: the upstream may
still be working on the call. A call whose request body is a stream (gRPC
client streaming and bidi, :func:`streams_body`) is never sent twice: it goes
out as it arrives, so there is nothing whole to send again.

Pauses use exponential backoff with full jitter: try ``n`` waits a random
time in ``[0, min(max_backoff, backoff × multiplier^(n-1))]``. A 503 whose
``Retry-After`` (RFC 9110 §10.2.3) asks for a pause is paused at least that
long, and not retried at all when it asks for more than ``max_backoff``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection
from email.utils import parsedate_to_datetime

from gateway.errors import GatewayError, Overloaded, ServiceUnavailable
from gateway.plugin import Call, Reply
from gateway.resilience.settings import RetrySettings

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRYABLE",
    "RETRYABLE_STATUSES",
    "STREAMED_BODIES",
    "asked_pause",
    "is_idempotent",
    "pause",
    "retryable",
    "streams_body",
]

#: RFC 9110 §9.2.2 idempotent methods.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})

#: Failures worth another try, and why. Everything else is final.
RETRYABLE: tuple[tuple[type[GatewayError], bool, str], ...] = (
    # (error class, retry?, reason) — first match wins.
    (Overloaded, False, "our own bulkhead or breaker refused: trying again makes it worse"),
    (ServiceUnavailable, True, "connect error, or gRPC UNAVAILABLE: the call did not reach the service"),
    (GatewayError, False, "timeouts, protocol errors and faults may have had effects"),
)

#: Reply statuses worth another try: 503 Service Unavailable (RFC 9110 §15.6.4).
RETRYABLE_STATUSES = frozenset({503})


#: ``Operation.streaming`` kinds whose request body is a stream of messages.
STREAMED_BODIES = frozenset({"client", "bidi"})


def streams_body(call: Call) -> bool:
    """Whether ``call``'s body is sent as it arrives (gRPC client streaming or bidi), so it cannot
    be read whole first: such a call is never retried, cached or handed to a fallback once sent."""
    return call.operation.streaming in STREAMED_BODIES


def is_idempotent(call: Call, operations: Collection[str] = ()) -> bool:
    """Whether ``call`` may be sent twice without a different effect: an idempotent method, an
    operation marked idempotent, or one named in ``operations`` (``POST /GetPrice`` with
    ``operations=["GetPrice"]``); never a streamed body.
    """
    if streams_body(call):
        return False
    return call.method in IDEMPOTENT_METHODS or call.operation.idempotent or call.operation.name in operations


def retryable(outcome: Reply | GatewayError) -> bool:
    """Whether this outcome of a try deserves another (see :data:`RETRYABLE`)."""
    if isinstance(outcome, Reply):
        return outcome.status in RETRYABLE_STATUSES
    for kind, retry, _ in RETRYABLE:
        if isinstance(outcome, kind):
            return retry
    return False


def pause(settings: RetrySettings, retry: int, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
    bound = min(settings.max_backoff, settings.backoff * settings.multiplier ** (retry - 1))
    return bound * rand()


def asked_pause(outcome: Reply | GatewayError) -> float | None:
    """Seconds the reply's ``Retry-After`` asks to wait (delay-seconds or an HTTP-date, RFC 9110
    §10.2.3); ``None`` when it asks nothing readable. A date in the past asks for no pause."""
    if not isinstance(outcome, Reply):
        return None
    value = next((v.strip() for k, v in outcome.headers if k.lower() == "retry-after"), None)
    if value is None:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())
