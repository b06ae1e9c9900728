"""Config models of ``auth:``: the credentials Rosetta accepts from callers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["AuthSettings"]


class AuthSettings(BaseModel):
    """``auth:`` — no method is configured by default, so only ``auth: none`` routes answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def methods(self) -> frozenset[str]:
        """The credential methods configured (``jwt``, ``api_key``)."""
        return frozenset()
