"""A translator answering with the id of the process serving the call.

End-to-end tests use it to see which gateway worker or instance answered.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from gateway.plugin import Call, Operation, Reply, Translator

__all__ = ["PidTranslator"]


class PidTranslator(Translator):
    """``GET /pid`` → ``{"pid": <serving process id>}``."""

    type_name = "pid"

    def operations(self) -> Sequence[Operation]:
        return [Operation(name="Pid", method="GET", path="/pid", idempotent=True)]

    async def handle(self, call: Call) -> Reply:
        return Reply(json={"pid": os.getpid()})
