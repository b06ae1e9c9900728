"""A translator that plays a script of outcomes and records what it was sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from gateway.plugin import Call, Operation, Reply, Translator, UpstreamSettings
from gateway.testing import context

__all__ = ["Scripted", "stream_of"]


class Scripted(Translator):
    """Each call takes the next outcome: a Reply, an exception to raise, or a float to sleep then 200."""

    type_name = "scripted"

    def __init__(self, outcomes: Sequence[Any] = (), name: str = "up", **settings: Any) -> None:
        super().__init__(name, UpstreamSettings(type="scripted", **settings), context(name))
        self.outcomes = list(outcomes)
        self.bodies: list[bytes] = []

    @property
    def calls(self) -> int:
        return len(self.bodies)

    def operations(self) -> Sequence[Operation]:
        return [Operation(name="Op", method="*", path="/{p=**}")]

    async def handle(self, call: Call) -> Reply:
        self.bodies.append(await call.read_body())
        outcome = self.outcomes.pop(0) if self.outcomes else Reply(json={"ok": True})
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, float):
            await asyncio.sleep(outcome)
            return Reply(json={"slept": outcome})
        return outcome


async def stream_of(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
