"""A route's fallback: another route or upstream that answers while the primary cannot.

It takes over when the primary upstream's breaker is open, when the upstream
is unreachable (connect error, gRPC UNAVAILABLE) and, for idempotent calls,
when it answers 503 — never after a timeout or another failure, which may
have had effects. A call whose body is a stream (gRPC client streaming or
bidi) is sent as it arrives, so only an open breaker, which sent none of it,
hands it over. The
response then carries ``Rosetta-Fallback: route=/v1/rx`` (or
``upstream=<name>``). The fallback skips auth and rate limits (the call
passed them on its own route) but goes through its upstream's guard.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gateway.errors import GatewayError, Overloaded, ServiceUnavailable
from gateway.plugin import Call, Reply, Translator

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gateway.config import RouteConfig
    from gateway.resilience.settings import FallbackSettings
    from gateway.routing import Endpoint, RouteTable

__all__ = ["FALLBACK_HEADER", "Fallback", "takes_over"]

FALLBACK_HEADER = "Rosetta-Fallback"


def takes_over(outcome: Reply | GatewayError, idempotent: bool, streamed: bool = False) -> bool:
    """Whether this outcome of the primary hands the call to the fallback.

    A call that was surely not sent (breaker open, upstream unreachable) may
    always go elsewhere; after a 503 reply only an idempotent one may. A
    ``streamed`` body may have been partly taken by the failed try, so only an
    open breaker, which took none of it, hands it over.
    """
    from gateway.resilience.guard import CircuitOpen

    if isinstance(outcome, CircuitOpen):
        return True
    if streamed:
        return False
    if isinstance(outcome, Reply):
        return idempotent and outcome.status == 503
    return isinstance(outcome, ServiceUnavailable) and not isinstance(outcome, Overloaded)


@dataclass(frozen=True)
class Fallback:
    """Where one route's calls go instead; :meth:`target` builds the call for it."""

    label: str
    upstream: str | None
    route: RouteConfig | None
    endpoints: tuple[Endpoint, ...]

    @classmethod
    def build(cls, settings: FallbackSettings, routes: RouteTable) -> Fallback:
        if settings.upstream is not None:
            return cls(f"upstream={settings.upstream}", settings.upstream, None, ())
        found = tuple(e for e in routes.endpoints if e.route.template == settings.route)
        return cls(f"route={settings.route}", None, found[0].route if found else None, found)

    def target(self, call: Call, translators: Mapping[str, Translator], routes: RouteTable) -> tuple[Translator, Call]:
        """The translator and call that replace ``call``; a ``GatewayError`` when none fits."""
        if self.upstream is not None:
            translator = translators[self.upstream]
            op = call.operation if translator.passthrough else translator.operation(call.operation.name)
            return translator, replace(call, operation=op)
        assert self.route is not None
        if self.route.path is not None:
            endpoint = self.endpoints[0]
            return translators[endpoint.upstream], replace(
                call, operation=endpoint.operation, route_options=self.route.options
            )
        path = str(self.route.prefix).rstrip("/") + (call.path if call.path != "/" else "")
        endpoint, params = routes.match(call.method, path or "/")
        if endpoint.route is not self.route:
            raise GatewayError(f"no fallback operation at {path}")
        return translators[endpoint.upstream], replace(
            call,
            operation=endpoint.operation,
            path=path[endpoint.prefix_len :] or "/",
            path_params=params,
            route_options=self.route.options,
        )
