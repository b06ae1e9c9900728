"""Everything between Rosetta and one upstream: breaker, bulkhead, per-try timeout, retries.

One try goes through, in order::

    breaker (open: 503 at once) → bulkhead (bounded wait) → attempt_timeout → translator.handle

and :meth:`UpstreamGuard.call` repeats tries for idempotent calls while
:func:`~gateway.resilience.retry.retryable` says so, the pipeline's deadline
permitting. With no ``resilience`` configured it calls the translator directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from gateway.errors import GatewayError, GatewayTimeout, Overloaded, UpstreamError
from gateway.plugin import Call, Reply, Translator
from gateway.resilience.breaker import BreakerState, CircuitBreaker
from gateway.resilience.bulkhead import Bulkhead
from gateway.resilience.retry import asked_pause, is_idempotent, pause, retryable
from gateway.resilience.settings import ResilienceSettings

__all__ = ["CircuitOpen", "UpstreamGuard", "discard"]

log = logging.getLogger("rosetta")


class CircuitOpen(Overloaded):
    """503: the upstream's circuit breaker is open, so the call was not sent."""

    title = "Upstream circuit open"


class UpstreamGuard:
    """The resilience of one upstream, shared by every call to it in this process."""

    def __init__(self, upstream: str, settings: ResilienceSettings) -> None:
        self.upstream = upstream
        self.settings = settings
        self.breaker = CircuitBreaker(settings.breaker) if settings.breaker else None
        self.bulkhead = Bulkhead(upstream, settings.bulkhead) if settings.bulkhead else None
        # Naming idempotent operations alone changes nothing a try does.
        self.passive = settings.model_copy(update={"idempotent_operations": ()}) == ResilienceSettings()

    async def call(self, translator: Translator, call: Call) -> Reply:
        """The reply to ``call``, tried as often as the retry settings allow."""
        if self.passive:
            return await translator.handle(call)
        retry = self.settings.retry
        attempts = retry.attempts if retry is not None and self.idempotent(call) else 1
        if attempts > 1:
            await call.read_body()  # so every try can send it
        for attempt in range(1, attempts + 1):
            outcome = await self._try(translator, call)
            if attempt == attempts or not retryable(outcome) or not await self._pause(call, attempt, outcome):
                break
            await discard(outcome)
        if isinstance(outcome, GatewayError):
            raise outcome
        return outcome

    def idempotent(self, call: Call) -> bool:
        """Whether ``call`` may be sent to this upstream twice (see :func:`~gateway.resilience.retry.is_idempotent`)."""
        return is_idempotent(call, self.settings.idempotent_operations)

    async def _pause(self, call: Call, retry: int, outcome: Reply | GatewayError) -> bool:
        """Sleep before retry ``retry``, at least as long as the upstream asked (``Retry-After``);
        ``False`` when it asked for more than ``max_backoff`` or the deadline leaves no time."""
        settings = self.settings.retry
        assert settings is not None
        delay = pause(settings, retry)
        asked = asked_pause(outcome)
        if asked is not None:
            if asked > settings.max_backoff:
                return False
            delay = max(delay, asked)
        loop = asyncio.get_running_loop()
        if call.deadline is not None and loop.time() + delay >= call.deadline:
            return False
        await asyncio.sleep(delay)
        return True

    async def _try(self, translator: Translator, call: Call) -> Reply | GatewayError:
        breaker = self.breaker
        if breaker is not None and not breaker.allow():
            return self._open_error(breaker)
        period = breaker.period if breaker is not None else 0
        try:
            await self._enter()
        except BaseException as exc:
            # Refused, or cancelled while waiting for a slot: a probe must not stay taken.
            if breaker is not None:
                breaker.abandon(period)
            if isinstance(exc, Overloaded):
                return exc
            raise
        release = self.bulkhead.release if self.bulkhead is not None else _nothing
        try:
            outcome = await self._attempt(translator, call)
        except BaseException:
            release()
            if breaker is not None:
                self._interrupted(breaker, call, period)
            raise
        if breaker is not None:
            self._record(breaker, outcome, period)
        return _release_when_done(outcome, release)

    async def _enter(self) -> None:
        if self.bulkhead is not None:
            await self.bulkhead.acquire()

    async def _attempt(self, translator: Translator, call: Call) -> Reply | GatewayError:
        limit = self.settings.attempt_timeout
        try:
            if limit is None:
                return await translator.handle(call)
            async with asyncio.timeout(limit) as scope:
                return await translator.handle(call)
        except GatewayError as exc:
            return exc
        except TimeoutError:
            if limit is None or not scope.expired():
                raise  # the pipeline's own deadline: not ours to handle
            return GatewayTimeout(f"upstream '{self.upstream}' did not answer one try within {limit:g} s")

    def _record(self, breaker: CircuitBreaker, outcome: Reply | GatewayError, period: int) -> None:
        before = breaker.state
        if isinstance(outcome, Reply):
            failed = outcome.status in breaker.settings.failure_statuses
        else:
            failed = isinstance(outcome, UpstreamError)
        breaker.record(success=not failed, period=period)
        after = breaker.state
        if after is not before and after is BreakerState.OPEN:
            log.warning("circuit breaker of upstream '%s' opened: calls fail fast for %g s",
                        self.upstream, breaker.settings.open_for)
        elif after is not before and after is BreakerState.CLOSED:
            log.info("circuit breaker of upstream '%s' closed: the upstream answers again", self.upstream)

    def _interrupted(self, breaker: CircuitBreaker, call: Call, period: int) -> None:
        """A try cut short: by the pipeline's deadline (a failure) or anything else (no verdict)."""
        if call.deadline is not None and asyncio.get_running_loop().time() >= call.deadline:
            self._record(breaker, GatewayTimeout("deadline passed"), period)
        else:
            breaker.abandon(period)

    def _open_error(self, breaker: CircuitBreaker) -> CircuitOpen:
        wait = max(1, int(breaker.retry_after() + 0.999))
        return CircuitOpen(
            f"upstream '{self.upstream}' is failing; calls to it are paused for {wait} s",
            headers={"Retry-After": str(wait)},
        )


def _nothing() -> None:
    return None


def _release_when_done(outcome: Reply | GatewayError, release: Callable[[], None]) -> Reply | GatewayError:
    """Free the bulkhead slot now, or when a streamed reply has been sent or dropped."""
    if isinstance(outcome, Reply) and outcome.stream is not None and release is not _nothing:
        outcome.stream = _ReleasingStream(outcome.stream, release)
    else:
        release()
    return outcome


async def discard(outcome: Reply | GatewayError) -> None:
    """Close a reply that will not be sent (before a retry)."""
    if isinstance(outcome, Reply) and outcome.stream is not None:
        closer = getattr(outcome.stream, "aclose", None)
        if closer is not None:
            await closer()


class _ReleasingStream:
    """A reply body that frees its bulkhead slot once, when exhausted or closed."""

    def __init__(self, stream: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    def __aiter__(self) -> _ReleasingStream:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._stream.__anext__()
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        release, self._release = self._release, None
        if release is None:
            return
        release()
        closer = getattr(self._stream, "aclose", None)
        if closer is not None:
            await closer()
