"""How often: the rate-limit step of the pipeline.

:class:`Limiter` decides whether a call may go on and which ``RateLimit``
headers its response carries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.limits.settings import LimitsSettings

if TYPE_CHECKING:
    from gateway.pipeline import Exchange

__all__ = ["Limiter"]


class Limiter:
    """Applies the rate limits and quotas of a route and its consumer."""

    def __init__(self, settings: LimitsSettings) -> None:
        self.settings = settings

    async def start(self) -> None:
        """Connect to the counter storage."""

    async def close(self) -> None:
        """Release the counter storage."""

    async def acquire(self, exchange: Exchange) -> None:
        """Count the call; raise ``TooManyRequests`` past a limit, add headers otherwise."""
