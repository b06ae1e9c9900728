"""Config models of ``limits:``: rate limits, quotas and their storage."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LimitsSettings"]


class LimitsSettings(BaseModel):
    """``limits:`` — where counters live and what happens when that storage fails."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    storage: str = Field("memory://", description="memory:// or redis://host:port/db")
