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
calls. A consumer's ``settings`` (filled in by auth) may name a ``plan`` or
give its own ``rate_limit`` / ``quota``, which win over the plan's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.errors import GatewayError
from gateway.limits.clientip import client_ip
from gateway.limits.rules import parse_rules
from gateway.limits.settings import LimitsSettings, PlanSettings
from gateway.limits.window import Rule
from gateway.plugin import ANONYMOUS, Consumer

if TYPE_CHECKING:
    from gateway.config import RouteConfig

__all__ = ["Policy", "PolicyBook"]

log = logging.getLogger("rosetta")

_NO_RULES: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    """The rules of one call, the counter key of each, and what the call costs."""

    rules: tuple[Rule, ...]
    keys: tuple[str, ...]
    cost: int


class PolicyBook:
    """Resolves the :class:`Policy` of a call; parsed rules are kept per route and plan."""

    def __init__(self, settings: LimitsSettings) -> None:
        self.settings = settings
        self._prefix = "{" + settings.key_prefix + "}:"
        self._global = parse_rules("global", settings.global_limit) if settings.global_limit else _NO_RULES
        self._plans = {name: _plan_rules(plan) for name, plan in settings.plans.items()}
        self._routes: dict[int, tuple[tuple[Rule, ...], str]] = {}

    def policy(self, route: RouteConfig, consumer: Consumer, peer: str, headers: Any) -> Policy | None:
        """The policy of a call on ``route`` by ``consumer`` from ``peer``; ``None`` when unlimited."""
        route_rules, route_tag = self._route(route)
        anonymous = consumer is ANONYMOUS or consumer.id == ANONYMOUS.id
        consumer_rules = _NO_RULES if anonymous else self._consumer_rules(consumer)
        if not (route_rules or self._global or consumer_rules):
            return None
        if anonymous:
            who = "ip:" + client_ip(peer, headers.items(), self.settings.trusted_proxies)
        else:
            who = "consumer:" + consumer.id
        base = self._prefix + who + ":"
        keys = [f"{base}{route_tag}:{r.name}" for r in route_rules]
        keys += [base + r.name for r in self._global]
        keys += [base + r.name for r in consumer_rules]
        return Policy(route_rules + self._global + consumer_rules, tuple(keys), route.cost)

    def _route(self, route: RouteConfig) -> tuple[tuple[Rule, ...], str]:
        found = self._routes.get(id(route))
        if found is None:
            rules = parse_rules("route", route.rate_limit) if route.rate_limit else _NO_RULES
            methods = ",".join(route.methods or ())
            found = self._routes[id(route)] = (rules, f"route={methods}{route.template}")
        return found

    def _consumer_rules(self, consumer: Consumer) -> tuple[Rule, ...]:
        settings: Mapping[str, Any] = consumer.settings
        if not settings and self.settings.default_plan is None:
            return _NO_RULES
        plan_name = settings.get("plan") or self.settings.default_plan
        rate, quota = _plan_parts(self._plans, plan_name, consumer.id)
        try:
            if "rate_limit" in settings:
                rate = _parse_optional("plan", settings["rate_limit"])
            if "quota" in settings:
                quota = _parse_optional("quota", settings["quota"])
        except ValueError:
            raise _misconfigured(f"consumer '{consumer.id}' has a malformed rate_limit or quota") from None
        return rate + quota


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
