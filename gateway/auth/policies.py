"""Policy plug-ins: extra checks a route runs after the caller is known.

A route lists policies by import path or by a name defined under ``auth.policies``::

    auth:
      policies:
        small_uploads: {use: "gateway.auth.policies:MaxBodySize", options: {max_bytes: 5242880}}
        office:        {use: "gateway.auth.policies:SourceNetwork", options: {allow: ["10.0.0.0/8"]}}
    routes:
      - {prefix: /v1/claims, upstream: claims, policies: [small_uploads, office, "acme.rules:NoFridays"]}

**The interface.** A policy is a class built once at start-up with its
``options`` as keyword arguments (a bad path or bad options is a start-up error
naming it). Per call, Rosetta awaits ``check(request, consumer)``: returning
allows the call; raising a :class:`~gateway.errors.GatewayError` refuses it
with that error's status and detail (``Forbidden`` for 403, ``PayloadTooLarge``
for 413, or ``GatewayError(detail, status=...)``). Any other exception is a
bug in the policy: the call is refused with a 500 and the error is logged::

    class NoFridays:
        def __init__(self, timezone: str = "UTC") -> None:
            self.zone = zoneinfo.ZoneInfo(timezone)

        async def check(self, request: PolicyRequest, consumer: Consumer) -> None:
            if datetime.now(self.zone).weekday() == 4:
                raise Forbidden("this route is closed on Fridays")

Policies never see credentials: ``headers`` lacks ``Authorization``, the
API-key header and the other credential headers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.errors import ClientError, Forbidden, PayloadTooLarge
from gateway.plugin import Consumer

__all__ = ["MaxBodySize", "Policy", "PolicyRequest", "SourceNetwork", "TimeOfDay"]


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """What a policy sees of a request (credentials removed)."""

    method: str
    path: str
    route: str  # the route's prefix or path template
    query_string: str
    headers: Sequence[tuple[str, str]]
    client_ip: str
    scheme: str
    content_length: int | None
    request_id: str
    extra: Mapping[str, object] = field(default_factory=dict)

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (case-insensitive)."""
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), default)


@runtime_checkable
class Policy(Protocol):
    """A route policy: return to allow, raise a ``GatewayError`` to refuse."""

    async def check(self, request: PolicyRequest, consumer: Consumer) -> None: ...


class MaxBodySize:
    """Refuse bodies over ``max_bytes`` (413); bodies of unknown length get 411 unless allowed."""

    def __init__(self, max_bytes: int, allow_unknown_length: bool = False) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be 0 or more")
        self.max_bytes = max_bytes
        self.allow_unknown_length = allow_unknown_length

    async def check(self, request: PolicyRequest, consumer: Consumer) -> None:
        if request.content_length is not None:
            if request.content_length > self.max_bytes:
                raise PayloadTooLarge(f"this route accepts bodies up to {self.max_bytes} bytes")
        elif request.header("transfer-encoding") and not self.allow_unknown_length:
            raise ClientError("this route needs a Content-Length on request bodies", status=411)


class SourceNetwork:
    """Allow callers only from the networks in ``allow`` (CIDR notation)."""

    def __init__(self, allow: Sequence[str]) -> None:
        if isinstance(allow, str) or not allow:
            raise ValueError("allow must be a non-empty list of networks, e.g. ['10.0.0.0/8']")
        self.networks = [ipaddress.ip_network(net, strict=False) for net in allow]

    async def check(self, request: PolicyRequest, consumer: Consumer) -> None:
        try:
            address = ipaddress.ip_address(request.client_ip)
        except ValueError:
            raise Forbidden("calls to this route are not allowed from this address") from None
        if not any(address in net for net in self.networks):
            raise Forbidden("calls to this route are not allowed from this address")


class TimeOfDay:
    """Allow calls only between ``start`` and ``end`` (``HH:MM``, local to ``timezone``).

    A window whose end is before its start spans midnight (``22:00``–``06:00``).
    ``weekdays`` (0 = Monday) restricts the days the window is open.
    """

    def __init__(
        self, start: str, end: str, timezone: str = "UTC", weekdays: Sequence[int] = tuple(range(7))
    ) -> None:
        self.start, self.end = time.fromisoformat(start), time.fromisoformat(end)
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {timezone!r}") from None
        self.weekdays = frozenset(weekdays)

    def is_open(self, moment: datetime) -> bool:
        """Whether the window is open at ``moment`` (an aware datetime)."""
        local = moment.astimezone(self.zone)
        now = local.time().replace(tzinfo=None)
        if self.start <= self.end:
            inside = self.start <= now < self.end
        else:
            inside = now >= self.start or now < self.end
        return inside and local.weekday() in self.weekdays

    async def check(self, request: PolicyRequest, consumer: Consumer) -> None:
        if not self.is_open(datetime.now(self.zone)):
            raise Forbidden(
                f"this route is open from {self.start:%H:%M} to {self.end:%H:%M} ({self.zone.key})"
            )
