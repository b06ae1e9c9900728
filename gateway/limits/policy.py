"""Which limits a call is subject to, and under which counter keys.

=========  ==========================================  =================================
scope      from                                        counted per
=========  ==========================================  =================================
route      ``routes[i].rate_limit``                    route and caller
global     ``limits.global``                           caller, across all routes
plan       the consumer's plan ``rate_limit``          consumer, across all routes
quota      the consumer's plan ``quota``               consumer, across all routes
=========  ==========================================  =================================

The caller is the authenticated consumer, or the client IP for anonymous
calls (an IPv6 client by its network, see :func:`~gateway.limits.clientip.bucket`).
A consumer's ``settings`` (filled in by auth) may name a ``plan`` or
give its own ``rate_limit`` / ``quota``, which win over the plan's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from gateway.errors import GatewayError
from gateway.limits.clientip import bucket, client_ip
from gateway.limits.rules import parse_rules, policy_header
from gateway.limits.settings import LimitsSettings, PlanSettings
from gateway.limits.window import Rule
from gateway.plugin import ANONYMOUS, Consumer

if TYPE_CHECKING:
    from gateway.config import RouteConfig

__all__ = ["Policy", "PolicyBook"]

log = logging.getLogger("rosetta")

_NO_RULES: tuple[Rule, ...] = ()
_CACHED_POLICIES = 8192  # resolved policies kept before the cache starts afresh


class Policy(NamedTuple):
    """The rules of one call, the counter key of each, what the call costs, its policy header."""

    rules: tuple[Rule, ...]
    keys: tuple[str, ...]
    cost: int
    header: str  # the RateLimit-Policy value
    field: tuple[bytes, bytes]  # (b"RateLimit-Policy", header), encoded, ready to send
    state_prefix: bytes  # b'"<name>";r=' of a single rule's RateLimit value; b"" with several rules


class _Part(NamedTuple):
    """Rules of one origin (a route with the global limit, or a consumer), with their key suffixes."""

    rules: tuple[Rule, ...]
    suffixes: tuple[str, ...]
    header: str


_EMPTY = _Part((), (), "")
_UNLIMITED = Policy((), (), 0, "", (b"", b""), b"")  # a cached "no limit applies"
_ABSENT = object()


def _part(rules: tuple[Rule, ...], suffixes: tuple[str, ...]) -> _Part:
    return _Part(rules, suffixes, policy_header(rules)) if rules else _EMPTY


class PolicyBook:
    """Resolves the :class:`Policy` of a call; parsed rules are kept per route and plan."""

    def __init__(self, settings: LimitsSettings) -> None:
        self.settings = settings
        self._prefix = "{" + settings.key_prefix + "}:"
        self._trusted = settings.trusted_proxies
        self._trust_known: dict[str, bool] = {}  # address → in trusted_proxies
        self._client_header = settings.client_ip_header
        self._global = parse_rules("global", settings.global_limit) if settings.global_limit else _NO_RULES
        self._plans = {name: _plan_rules(plan) for name, plan in settings.plans.items()}
        self._routes: dict[int, _Part] = {}
        self._consumers: dict[tuple[Any, ...], _Part] = {}
        self._policies: dict[tuple[Any, ...], Policy] = {}

    def policy(self, route: RouteConfig, consumer: Consumer, peer: str, headers: Any) -> Policy | None:
        """The policy of a call on ``route`` by ``consumer`` from ``peer``; ``None`` when unlimited.

        Resolved policies are cached per route and caller (the cache is
        dropped whole when it fills, so a flood of new callers cannot grow it).
        """
        # Only a caller no auth method named is anonymous: a token may name its subject "anonymous".
        anonymous = consumer is ANONYMOUS or (consumer.id == ANONYMOUS.id and consumer.method == ANONYMOUS.method)
        if anonymous:
            caller = (
                client_ip(peer, headers.items(), self._trusted, self._client_header, self._trust_known)
                if self._trusted
                else peer
            )
            cache_key: tuple[Any, ...] = (id(route), caller)
        else:
            settings = consumer.settings
            caller = consumer.id
            cache_key = (id(route), caller, *_limit_settings(settings))
        policy = self._policies.get(cache_key)
        if policy is None:
            if len(self._policies) >= _CACHED_POLICIES:
                self._policies.clear()
            policy = self._policies[cache_key] = self._resolve(route, consumer, anonymous, caller)
        return None if policy is _UNLIMITED else policy

    def _resolve(self, route: RouteConfig, consumer: Consumer, anonymous: bool, caller: str) -> Policy:
        part = self._routes.get(id(route)) or self._route(route)
        if anonymous:
            if not part.rules:
                return _UNLIMITED
            base = self._prefix + "ip:" + bucket(caller, self.settings.ipv6_prefix) + ":"
            return _policy(part.rules, tuple(base + s for s in part.suffixes), route.cost, part.header)
        extra = self._consumer(consumer)
        if not (part.rules or extra.rules):
            return _UNLIMITED
        base = self._prefix + "consumer:" + caller + ":"
        keys = tuple(base + s for s in part.suffixes + extra.suffixes)
        header = ", ".join(h for h in (part.header, extra.header) if h)
        return _policy(part.rules + extra.rules, keys, route.cost, header)

    def _route(self, route: RouteConfig) -> _Part:
        rules = parse_rules("route", route.rate_limit) if route.rate_limit else _NO_RULES
        tag = "route=" + ",".join(route.methods or ()) + route.template + ":"
        suffixes = tuple(tag + r.name for r in rules) + tuple(r.name for r in self._global)
        part = self._routes[id(route)] = _part(rules + self._global, suffixes)
        return part

    def _consumer(self, consumer: Consumer) -> _Part:
        settings: Mapping[str, Any] = consumer.settings
        if not settings and self.settings.default_plan is None:
            return _EMPTY
        plan_name = settings.get("plan") or self.settings.default_plan
        cache_key = (plan_name, *_limit_settings(settings))
        part = self._consumers.get(cache_key)
        if part is None:
            rules = self._consumer_rules(consumer, plan_name)
            part = self._consumers[cache_key] = _part(rules, tuple(r.name for r in rules))
        return part

    def _consumer_rules(self, consumer: Consumer, plan_name: str | None) -> tuple[Rule, ...]:
        settings = consumer.settings
        rate, quota = _plan_parts(self._plans, plan_name, consumer.id)
        try:
            if "rate_limit" in settings:
                rate = _parse_optional("plan", settings["rate_limit"])
            if "quota" in settings:
                quota = _parse_optional("quota", settings["quota"])
        except ValueError:
            raise _misconfigured(f"consumer '{consumer.id}' has a malformed rate_limit or quota") from None
        return rate + quota


def _policy(rules: tuple[Rule, ...], keys: tuple[str, ...], cost: int, header: str) -> Policy:
    # Rule names are "<scope>-<seconds>s": the header bytes need no sanitising.
    prefix = f'"{rules[0].name}";r='.encode() if len(rules) == 1 else b""
    return Policy(rules, keys, cost, header, (b"RateLimit-Policy", header.encode()), prefix)


def _limit_settings(settings: Mapping[str, Any]) -> tuple[Any, ...]:
    """What of a consumer's settings decides its limits (an absent key differs from ``None``)."""
    return settings.get("plan"), settings.get("rate_limit", _ABSENT), settings.get("quota", _ABSENT)


def _plan_rules(plan: PlanSettings) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
    return _parse_optional("plan", plan.rate_limit), _parse_optional("quota", plan.quota)


def _parse_optional(scope: str, rate: str | None) -> tuple[Rule, ...]:
    return parse_rules(scope, str(rate)) if rate else _NO_RULES


def _plan_parts(
    plans: Mapping[str, tuple[tuple[Rule, ...], tuple[Rule, ...]]], name: str | None, consumer_id: str
) -> tuple[tuple[Rule, ...], tuple[Rule, ...]]:
    if name is None:
        return _NO_RULES, _NO_RULES
    found = plans.get(name)
    if found is None:
        raise _misconfigured(f"consumer '{consumer_id}' names plan '{name}', which limits.plans lacks")
    return found


def _misconfigured(detail: str) -> GatewayError:
    # The operator must fix the config; refusing is safer than serving unlimited.
    log.error("rate limits: %s", detail)
    return GatewayError(f"Rosetta is misconfigured: {detail}")
