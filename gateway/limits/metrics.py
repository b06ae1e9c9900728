"""Counters of the rate-limit step, read by whoever exports metrics.

Example::

    runtime.limiter.metrics.storage_errors     # failed storage operations so far
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["LimitsMetrics"]


@dataclass(slots=True)
class LimitsMetrics:
    """Monotonic counters; one instance per :class:`~gateway.limits.Limiter`."""

    decisions: int = 0  #: calls decided by the storage
    rejected: int = 0  #: calls refused with 429
    storage_errors: int = 0  #: storage operations that failed or timed out
    allowed_without_storage: int = 0  #: calls let through because the storage failed (allow)
    denied_without_storage: int = 0  #: calls refused because the storage failed (deny)

    def snapshot(self) -> dict[str, int]:
        """The counters as a plain mapping."""
        return asdict(self)
