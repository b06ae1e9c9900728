"""Config models of resilience: per upstream (``upstreams.<name>.resilience``) and per route.

::

    upstreams:
      pharmacy:
        type: rest
        url: http://127.0.0.1:9101
        timeout: 5                       # the whole call, retries included
        resilience:
          attempt_timeout: 2             # one try
          bulkhead: {max_concurrent: 50, max_wait: 0.1}
          retry: {attempts: 3, backoff: 0.05, max_backoff: 1}
          breaker: {failures: 5, open_for: 30}
          idempotent_operations: [GetPrice]   # POST operations safe to send twice
    routes:
      - prefix: /v2/rx
        upstream: pharmacy
        fallback: {route: /v1/rx}        # or {upstream: pharmacy_v1}
        cache: {ttl: 30}                 # GET replies; memory:// or redis://
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from gateway.config import Config

__all__ = [
    "BreakerSettings",
    "BulkheadSettings",
    "CacheSettings",
    "FallbackSettings",
    "ResilienceSettings",
    "RetrySettings",
    "config_errors",
]

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class RetrySettings(BaseModel):
    """Retries of idempotent calls after a connect error, a 503 or UNAVAILABLE."""

    model_config = _FROZEN

    attempts: int = Field(3, ge=1, le=10, description="Tries in all, the first included.")
    backoff: float = Field(0.05, ge=0, le=60, description="Upper bound of the first pause, seconds.")
    multiplier: float = Field(2.0, ge=1, le=10, description="Growth of the bound per retry.")
    max_backoff: float = Field(1.0, ge=0, le=300, description="Largest pause bound, seconds.")


class BreakerSettings(BaseModel):
    """A circuit breaker: opens on consecutive failures or an error rate, probes half-open."""

    model_config = _FROZEN

    failures: int | None = Field(5, ge=1, description="Consecutive failures that open it (null: off).")
    error_rate: float | None = Field(None, gt=0, le=1, description="Failure share that opens it (null: off).")
    window: int = Field(20, ge=1, le=10_000, description="Latest calls the error rate is taken over.")
    min_calls: int = Field(10, ge=1, description="Calls in the window before the rate counts.")
    open_for: float = Field(30.0, gt=0, le=3600, description="Seconds it stays open before probing.")
    half_open_probes: int = Field(1, ge=1, le=100, description="Trial calls; all must succeed to close.")
    failure_statuses: tuple[int, ...] = Field(
        (500, 502, 503, 504), description="Reply statuses that count as failures."
    )

    @model_validator(mode="after")
    def _some_trigger(self) -> BreakerSettings:
        if self.failures is None and self.error_rate is None:
            raise ValueError("a breaker needs 'failures', 'error_rate' or both")
        if self.error_rate is not None and self.min_calls > self.window:
            # The window keeps only `window` outcomes: the rate would never count.
            raise ValueError(f"min_calls ({self.min_calls}) must not exceed window ({self.window})")
        return self


class BulkheadSettings(BaseModel):
    """A cap on concurrent calls to the upstream, with a bounded wait for a slot."""

    model_config = _FROZEN

    max_concurrent: int = Field(ge=1, le=100_000, description="Calls in flight at once (per worker).")
    max_wait: float = Field(0.0, ge=0, le=60, description="Seconds a call may wait for a slot.")
    max_waiting: int | None = Field(None, ge=0, description="Calls that may wait at once (null: any).")
    retry_after: int = Field(1, ge=1, le=3600, description="Retry-After of the 503 beyond the cap.")


class ResilienceSettings(BaseModel):
    """``upstreams.<name>.resilience``: every part is off until configured."""

    model_config = _FROZEN

    attempt_timeout: float | None = Field(
        None, gt=0, le=3600, description="Seconds one try may take (the upstream 'timeout' bounds all)."
    )
    retry: RetrySettings | None = Field(None, description="Retries of idempotent calls.")
    breaker: BreakerSettings | None = Field(None, description="Circuit breaker.")
    bulkhead: BulkheadSettings | None = Field(None, description="Concurrency cap.")
    idempotent_operations: tuple[str, ...] = Field(
        (),
        description="Operations safe to send twice although called with POST (e.g. SOAP reads): "
        "retried, and handed to a fallback after a 503.",
    )


class FallbackSettings(BaseModel):
    """Where a route's calls go while its upstream's breaker is open or it is unreachable."""

    model_config = _FROZEN

    route: str | None = Field(None, description="Prefix or path of another route, e.g. /v1/rx.")
    upstream: str | None = Field(None, description="Another upstream offering the same operations.")

    @model_validator(mode="after")
    def _one_target(self) -> FallbackSettings:
        if (self.route is None) == (self.upstream is None):
            raise ValueError("a fallback needs exactly one of 'route' or 'upstream'")
        return self


class CacheSettings(BaseModel):
    """A response cache for safe reads on a route."""

    model_config = _FROZEN

    ttl: float = Field(gt=0, le=86_400 * 30, description="Seconds a reply is served from the cache.")
    storage: str = Field("memory://", description="memory:// (per process) or redis://…")
    operations: tuple[str, ...] = Field(
        (), description="Operations (e.g. SOAP/gRPC reads) cached although called with POST."
    )
    max_entries: int = Field(10_000, ge=1, description="Entries kept in memory:// (oldest dropped).")
    max_bytes: int = Field(
        64 * 1024 * 1024, ge=1,
        description="Bytes of replies (bodies, headers, keys) kept in memory:// per route and worker "
        "(least recently used dropped first).",
    )
    max_body_bytes: int = Field(1_048_576, ge=0, description="Larger replies are not cached.")

    @field_validator("storage")
    @classmethod
    def _known_storage(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("memory", "redis", "rediss"):
            raise ValueError(f"unknown cache storage {value!r} (expected memory://, redis:// or rediss://)")
        return value


def config_errors(config: Config) -> list[str]:
    """Fallback references that point nowhere, as ``path: message`` lines."""
    templates = {route.template: route for route in config.routes}
    errors = []
    for i, route in enumerate(config.routes):
        fallback = route.fallback
        if fallback is None:
            continue
        if fallback.upstream is not None and fallback.upstream not in config.upstreams:
            errors.append(f"routes[{i}].fallback.upstream: no upstream named '{fallback.upstream}'")
        if fallback.route is not None and fallback.route not in templates:
            errors.append(f"routes[{i}].fallback.route: no route with prefix or path '{fallback.route}'")
        if fallback.route == route.template or fallback.upstream == route.upstream:
            errors.append(f"routes[{i}].fallback: a route cannot fall back to itself")
        target = templates.get(fallback.route or "")
        if target is not None and route.path is not None and target.prefix is not None:
            errors.append(f"routes[{i}].fallback.route: a path route falls back to a path route or an upstream")
    return errors
