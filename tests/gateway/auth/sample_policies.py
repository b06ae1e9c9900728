"""Policy plug-ins used by the policy tests (loaded by import path, like any third-party policy)."""

from __future__ import annotations

from typing import ClassVar

from gateway.auth.policies import PolicyRequest
from gateway.errors import GatewayError
from gateway.plugin import Consumer


class Recorder:
    """Allows every call and remembers what it saw."""

    seen: ClassVar[list[tuple[PolicyRequest, Consumer]]] = []

    async def check(self, request: PolicyRequest, consumer: Consumer) -> None:
        self.seen.append((request, consumer))


class Unavailable451:
    """Refuses with a status of its own choosing."""

    def __init__(self, reason: str = "blocked for legal reasons") -> None:
        self.reason = reason

    async def check(self, request: PolicyRequest, consumer: Consumer) -> None:
        raise GatewayError(self.reason, status=451)


class Crashes:
    """A policy with a bug."""

    async def check(self, request: PolicyRequest, consumer: Consumer) -> None:
        raise RuntimeError("policy bug")


class NotAPolicy:
    """Has no async check method."""

    def check(self, request: PolicyRequest, consumer: Consumer) -> None:
        pass
