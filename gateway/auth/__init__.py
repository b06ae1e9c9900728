"""Who is calling: the auth step of the pipeline.

:class:`AuthGate` turns a request's credentials into a
:class:`~gateway.plugin.Consumer` for the matched route, or refuses it:

- ``auth: none`` — anyone, as the anonymous consumer;
- ``auth: jwt`` / ``api_key`` / a list — one of those credentials is required;
- no ``auth`` key — one of the configured methods is required (deny by
  default: with no method configured, such a route refuses every call).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.auth.settings import AuthSettings
from gateway.errors import Unauthorized
from gateway.plugin import ANONYMOUS, Consumer

if TYPE_CHECKING:
    from gateway.pipeline import Exchange

__all__ = ["AuthGate"]


class AuthGate:
    """Authenticates callers once, at the front door, for every route."""

    #: Request headers that carry caller credentials: never forwarded as-is.
    credential_headers: frozenset[str] = frozenset({"authorization"})

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.methods = settings.methods()

    async def start(self) -> None:
        """Fetch keys (JWKS) before serving."""

    async def close(self) -> None:
        """Release what :meth:`start` opened."""

    async def authenticate(self, exchange: Exchange) -> Consumer:
        """The consumer behind the request, or :class:`Unauthorized` / ``Forbidden``."""
        route = exchange.endpoint.route
        if route.auth == "none":
            return ANONYMOUS
        raise Unauthorized("this route requires credentials")
