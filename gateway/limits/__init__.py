"""How often: the rate-limit step of the pipeline.

:class:`Limiter` finds the limits a call is subject to (route, global, the
consumer's plan and quota — see :mod:`gateway.limits.policy`), asks the
storage for one atomic decision over all of them, and either lets the call
on with ``RateLimit-Policy`` / ``RateLimit`` response headers or refuses it
with a 429 problem and ``Retry-After``::

    limiter = Limiter(config.limits)
    await limiter.start()
    waiting = limiter.acquire(exchange)  # raises TooManyRequests past a limit
    if waiting is not None:              # a shared storage: await its decision
        await waiting

When the storage fails, ``limits.on_storage_error`` decides: ``allow`` lets
calls through without counting them, ``deny`` refuses them with a 503
(``limits-unavailable``). Either way one log line marks the outage and one
its end, :attr:`Limiter.metrics` counts, and the storage is left alone for
``storage_recheck`` seconds so no call waits on a dead server.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from gateway.errors import ServiceUnavailable, TooManyRequests
from gateway.limits.metrics import LimitsMetrics
from gateway.limits.policy import Policy, PolicyBook
from gateway.limits.rules import state_header
from gateway.limits.settings import LimitsSettings
from gateway.limits.storage import Decision, Storage, StorageError, open_storage
from gateway.limits.storage.memory import MemoryStorage
from gateway.limits.window import Counts, Rule, admits, retry_after

if TYPE_CHECKING:
    from gateway.pipeline import Exchange

__all__ = ["Limiter", "LimitsMetrics", "LimitsUnavailable"]

log = logging.getLogger("rosetta")


class LimitsUnavailable(ServiceUnavailable):
    """503: the counter storage failed and ``on_storage_error`` is ``deny``."""

    slug = "limits-unavailable"
    title = "Rate limits unavailable"


class Limiter:
    """Applies the rate limits and quotas of a route and its consumer."""

    def __init__(self, settings: LimitsSettings) -> None:
        self.settings = settings
        self.metrics = LimitsMetrics()
        self.book = PolicyBook(settings)
        self.storage: Storage = open_storage(settings.storage, settings.storage_timeout)
        self._down_until = 0.0
        self._down = False
        self._local = self.storage if isinstance(self.storage, MemoryStorage) else None

    async def start(self) -> None:
        """Connect to the counter storage."""
        await self.storage.start()

    async def close(self) -> None:
        """Release the counter storage."""
        await self.storage.close()

    def acquire(self, exchange: Exchange) -> Coroutine[Any, Any, None] | None:
        """Count the call; raise ``TooManyRequests`` past a limit, add headers otherwise.

        Decided at once (``None``) when no limit applies or the storage is
        ``memory://``; otherwise the coroutine that asks the shared storage,
        for the caller to await.
        """
        request = exchange.request
        policy = self.book.policy(exchange.endpoint.route, exchange.consumer, request.ip, request.headers)
        if policy is None:
            return None
        local = self._local
        if local is None:
            return self._shared(exchange, policy)
        if policy.state_prefix:
            # One rule, the hot path: no Counts unless refused.
            rest, reset, refused = local.decide_one(policy.keys[0], policy.rules[0], policy.cost)
            self.metrics.decisions += 1
            exchange.encoded_headers += (policy.field, (b"RateLimit", b"%b%d;t=%d" % (policy.state_prefix, rest, reset)))
            if refused is not None:
                raise self._refused(policy, [refused])
            return None
        self._decided(exchange, policy, *local.decide(policy.keys, policy.rules, policy.cost))
        return None

    async def _shared(self, exchange: Exchange, policy: Policy) -> None:
        decision = await self._shared_hit(policy)
        if decision is not None:
            self._decided(exchange, policy, *decision)

    def _decided(self, exchange: Exchange, policy: Policy, admitted: bool, counts: Sequence[Counts]) -> None:
        self.metrics.decisions += 1
        exchange.encoded_headers += (policy.field, (b"RateLimit", state_header(policy.rules, counts).encode()))
        if not admitted:
            raise self._refused(policy, counts)

    def _refused(self, policy: Policy, counts: Sequence[Counts]) -> TooManyRequests:
        self.metrics.rejected += 1
        return _too_many(policy, counts)

    async def _shared_hit(self, policy: Policy) -> Decision | None:
        """The storage's decision; ``None`` when it failed and ``on_storage_error`` lets the call on."""
        if self._down and not self._may_retry():
            self._without_storage()
            return None
        try:
            decision = await self.storage.hit(policy.keys, policy.rules, policy.cost)
        except StorageError as exc:
            self._storage_failed(exc)
            self._without_storage()
            return None
        if self._down:
            self._storage_back()
        return decision

    def _may_retry(self) -> bool:
        return time.monotonic() >= self._down_until

    def _storage_back(self) -> None:
        self._down = False
        log.warning("rate-limit storage %s answers again; counting calls", _safe(self.settings.storage))

    def _storage_failed(self, exc: StorageError) -> None:
        self.metrics.storage_errors += 1
        self._down_until = time.monotonic() + self.settings.storage_recheck
        if not self._down:
            self._down = True
            mode = self.settings.on_storage_error
            what = "letting calls through uncounted" if mode == "allow" else "refusing calls with 503"
            log.error(
                "rate-limit storage %s failed: %s; %s (limits.on_storage_error: %s)",
                _safe(self.settings.storage), exc, what, mode,
            )

    def _without_storage(self) -> None:
        """Apply ``on_storage_error``: return to let the call through, or raise."""
        if self.settings.on_storage_error == "allow":
            self.metrics.allowed_without_storage += 1
            return
        self.metrics.denied_without_storage += 1
        wait = max(1, math.ceil(self.settings.storage_recheck))
        raise LimitsUnavailable(
            "the rate-limit storage is unavailable, so calls are refused for now",
            headers={"Retry-After": str(wait)},
        )


def _too_many(policy: Policy, counts: Sequence[Counts]) -> TooManyRequests:
    pairs = list(zip(policy.rules, counts, strict=True))
    refused = [(r, c) for r, c in pairs if not admits(r, c, policy.cost)] or pairs
    wait = max(retry_after(r, c, policy.cost) for r, c in refused)
    seconds = max(1, math.ceil(wait))
    rule: Rule = refused[0][0]
    return TooManyRequests(
        f"rate limit '{rule.name}' ({rule.amount} per {rule.window} s) is used up; "
        f"retry in {seconds} s",
        headers={"Retry-After": str(seconds)},
        policy=rule.name,
    )


def _safe(uri: str) -> str:
    """``uri`` without its credentials (in the authority, or a ``password`` query parameter), for log lines."""
    parts = urlsplit(uri)
    if "@" in parts.netloc:
        parts = parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2])
    if "password" in parts.query:
        query = [(k, "***" if "password" in k else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        parts = parts._replace(query="&".join(f"{k}={v}" for k, v in query))
    return urlunsplit(parts)
