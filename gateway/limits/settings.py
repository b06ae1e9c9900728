"""Config models of ``limits:``: rate limits, quotas and where their counters live.

::

    limits:
      storage: "redis://127.0.0.1:6379/0"     # default memory:// (one process only)
      on_storage_error: allow                 # or deny
      global: "100/second"                    # every caller, across all routes
      trusted_proxies: ["10.0.0.0/8"]         # may set the client IP by X-Forwarded-For
      client_ip_header: x-forwarded-for       # or forwarded (RFC 7239): the one the proxies write
      ipv6_prefix: 64                         # IPv6 callers are counted per /64 network
      default_plan: bronze                    # for authenticated consumers naming no plan
      plans:
        bronze: {rate_limit: "10/second", quota: "10000/day"}
        gold:   {rate_limit: "100/second;5000/minute", quota: "1000000/month"}

A rate string is one or more ``N/unit`` (or ``N per M units``) joined by ``;``,
where unit is second, minute, hour, day, month (30 days) or year (360 days).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlsplit

from limits import parse_many
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from gateway.config import Config

__all__ = [
    "STORAGE_SCHEMES",
    "LimitsSettings",
    "Network",
    "PlanSettings",
    "RateString",
    "check_rate",
    "config_errors",
]

#: Storage URI schemes Rosetta knows; each names one backend in ``gateway.limits.storage``.
STORAGE_SCHEMES = ("memory", "redis", "rediss", "redis+sentinel", "redis+cluster")


def check_rate(value: str) -> str:
    """``value`` if it is a rate string like ``30/minute`` or ``5/second;1000/day``."""
    try:
        items = parse_many(value)
    except ValueError:
        items = []
    if not items or any(item.amount < 1 for item in items):
        raise ValueError(
            f"{value!r} is not a rate limit: write 'N/unit' (second, minute, hour, day, "
            "month, year), several joined by ';', e.g. '30/minute' or '5/second;1000/day'"
        )
    return value


#: A validated rate string, e.g. ``"5/second;1000/day"``.
RateString = Annotated[str, AfterValidator(check_rate)]
#: An IPv4 or IPv6 network in CIDR form (a bare address is a /32 or /128).
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class PlanSettings(BaseModel):
    """One consumer plan: a rate limit and a quota, both counted per consumer across routes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_limit: RateString | None = Field(None, description="e.g. '100/second'.")
    quota: RateString | None = Field(None, description="e.g. '10000/day' or '1000000/month'.")


class LimitsSettings(BaseModel):
    """``limits:`` — where counters live and what happens when that storage fails."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    storage: str = Field(
        "memory://",
        description="memory://, redis://host:port/db, rediss://…, "
        "redis+sentinel://host:port[,host:port]/service[/db], redis+cluster://host:port[,host:port]",
    )
    on_storage_error: Literal["allow", "deny"] = Field(
        "allow", description="When the storage is unreachable: let calls through, or refuse them (503)."
    )
    storage_timeout: float = Field(
        0.25, gt=0, le=30, description="Seconds one storage operation may take before it counts as failed."
    )
    storage_recheck: float = Field(
        1.0, ge=0, le=300, description="After a storage failure, seconds before the storage is tried again."
    )
    key_prefix: str = Field("rosetta", min_length=1, description="Prefix of every counter key.")
    global_limit: RateString | None = Field(
        None, alias="global", description="Limit for every caller across all routes."
    )
    trusted_proxies: tuple[Network, ...] = Field(
        (), description="CIDRs of proxies whose client_ip_header names the client."
    )
    client_ip_header: Literal["x-forwarded-for", "forwarded"] = Field(
        "x-forwarded-for",
        description="The header trusted proxies write the client into: X-Forwarded-For (nginx, HAProxy, "
        "cloud load balancers) or Forwarded (RFC 7239). Only that one is read; the other is the caller's.",
    )
    ipv6_prefix: int = Field(
        64,
        ge=32,
        le=128,
        description="Anonymous IPv6 callers are counted per /N network (one host usually holds a whole /64 "
        "and may send from any address in it); 128 counts each address.",
    )
    plans: Mapping[str, PlanSettings] = Field(default_factory=dict, description="Consumer plans by name.")
    default_plan: str | None = Field(
        None, description="Plan of authenticated consumers whose settings name none."
    )

    @field_validator("storage")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in STORAGE_SCHEMES:
            known = ", ".join(f"{s}://" for s in STORAGE_SCHEMES)
            raise ValueError(f"unknown storage {value!r} (expected one of {known})")
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple(ipaddress.ip_network(str(v), strict=False) for v in value)
        return value

    @property
    def shared(self) -> bool:
        """Whether counters are shared between processes (anything but memory://)."""
        return not self.storage.startswith("memory:")

    def limits_anything(self, route_limits: bool) -> bool:
        """Whether any limit can apply, given whether some route or consumer has its own."""
        return route_limits or self.global_limit is not None or bool(self.plans)


def config_errors(config: Config) -> list[str]:
    """Cross-field problems of ``limits:`` in a whole config, as ``path: message`` lines."""
    limits = config.limits
    errors = []
    if limits.default_plan is not None and limits.default_plan not in limits.plans:
        errors.append(f"limits.default_plan: no plan named '{limits.default_plan}' under limits.plans")
    errors += _consumer_errors(config) + _cost_errors(config)
    # A consumer's own rate_limit or quota limits too: per worker, it would count N times over.
    route_limits = any(route.rate_limit for route in config.routes) or any(
        consumer.rate_limit or consumer.quota for consumer in config.auth.all_consumers()
    )
    if config.server.workers > 1 and not limits.shared and limits.limits_anything(route_limits):
        errors.append(workers_message(config.server.workers))
    return errors


def _consumer_errors(config: Config) -> list[str]:
    """Plans and rate strings the consumers under ``auth`` name, checked against ``limits``."""
    errors = []
    for i, consumer in enumerate(config.auth.all_consumers()):
        where = f"auth.consumers[{i}]"
        if consumer.plan is not None and consumer.plan not in config.limits.plans:
            errors.append(f"{where}.plan: no plan named '{consumer.plan}' under limits.plans")
        for key in ("rate_limit", "quota"):
            value = getattr(consumer, key)
            try:
                if value is not None:
                    check_rate(value)
            except ValueError as exc:
                errors.append(f"{where}.{key}: {exc}")
    return errors


def _cost_errors(config: Config) -> list[str]:
    """Routes whose ``cost`` exceeds a limit their calls are subject to: refused for ever, each call
    would be told to retry later."""
    limits, errors = config.limits, []
    for i, route in enumerate(config.routes):
        rates = [(f"routes[{i}].rate_limit", route.rate_limit), ("limits.global", limits.global_limit)]
        if route.auth != "none":  # consumers call it: their plans and own rates apply too
            rates += _consumer_rates(config)
        errors += [
            f"routes[{i}].cost: a call costs {route.cost}, more than {where} '{rate}' allows: "
            "no call could ever pass"
            for where, rate in rates
            if route.cost > _least_amount(rate)
        ]
    return errors


def _least_amount(rate: str | None) -> float:
    """The smallest amount in ``rate``; infinite when unset or malformed (reported on its own)."""
    try:
        return min((item.amount for item in parse_many(rate)), default=math.inf) if rate else math.inf
    except ValueError:
        return math.inf


def _consumer_rates(config: Config) -> list[tuple[str, str | None]]:
    """Every plan's and consumer's own rate strings, with their paths."""
    rates: list[tuple[str, str | None]] = []
    for name, plan in config.limits.plans.items():
        rates += [(f"limits.plans.{name}.rate_limit", plan.rate_limit), (f"limits.plans.{name}.quota", plan.quota)]
    for i, consumer in enumerate(config.auth.all_consumers()):
        rates += [(f"auth.consumers[{i}].rate_limit", consumer.rate_limit), (f"auth.consumers[{i}].quota", consumer.quota)]
    return rates


def workers_message(workers: int) -> str:
    """Why memory:// counters and several workers do not mix."""
    return (
        f"limits.storage: memory:// keeps counters inside each process, so with server.workers = "
        f"{workers} every worker would allow the whole limit ({workers} × the limit). Use "
        "redis://… storage to share counters, or run one worker"
    )
