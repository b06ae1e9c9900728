"""The auth step of the pipeline: who is calling, and may they call this route.

For each request :meth:`AuthGate.authenticate`:

1. finds the credential methods the route accepts — its ``auth`` (``jwt``,
   ``api_key``, ``mtls`` or a list), every configured method when it has no
   ``auth`` key (deny by default), or nobody's credentials for ``auth: none``;
2. takes the first credential present, in that order, and verifies it:
   missing or invalid is a 401 with an RFC 6750 ``WWW-Authenticate`` challenge
   (``error="invalid_token"``, never which check failed); a credential header
   sent twice is a 400 (``error="invalid_request"``): Rosetta would judge one
   copy and an upstream might read the other;
3. checks the route's ``scopes`` (all required) and ``roles`` (any of): a 403
   (``error="insufficient_scope"`` for bearer tokens);
4. runs the route's policies, which may refuse with their own status.
"""

from __future__ import annotations

import hmac
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sanic import Request

from gateway.auth.consumers import ConsumerDirectory
from gateway.auth.jwks import KeysUnavailable
from gateway.auth.jwt import InvalidToken, JwtVerifier
from gateway.auth.policies import PolicyRequest
from gateway.auth.policy_loader import LoadedPolicy, PolicyLoadError, load_route_policies
from gateway.auth.settings import AuthSettings
from gateway.auth.tls import peer_common_names
from gateway.auth.upstream import IDENTITY_HEADERS
from gateway.errors import Forbidden, GatewayError, InvalidHeader, ServiceUnavailable, Unauthorized
from gateway.plugin import ANONYMOUS, Consumer

if TYPE_CHECKING:
    from gateway.config import Config, RouteConfig
    from gateway.pipeline import Exchange
    from gateway.routing import Endpoint

__all__ = ["AuthGate", "AuthUnavailable"]

log = logging.getLogger("rosetta.auth")

_METHOD_ORDER = ("jwt", "api_key", "mtls")


@dataclass(frozen=True, slots=True)
class _RoutePlan:
    """What the gate checks on one route, worked out once at start-up."""

    open: bool  # auth: none
    accepted: tuple[str, ...]
    scopes: frozenset[str]
    roles: frozenset[str]
    policies: tuple[LoadedPolicy, ...] = ()


class AuthUnavailable(ServiceUnavailable):
    """503: the issuer's signing keys could not be fetched yet, so no token can be checked."""

    slug = "auth-unavailable"
    title = "Authentication unavailable"


class AuthGate:
    """Authenticates callers once, at the front door, for every route.

    Build it with :meth:`for_config` so start-up can check every route's
    ``auth`` and load its policies; ``AuthGate(settings)`` alone serves
    routes without policies and skips those checks.
    """

    def __init__(
        self,
        settings: AuthSettings,
        routes: Sequence[RouteConfig] = (),
        client_certificates: bool | None = None,
    ) -> None:
        self.settings = settings
        self.methods = settings.methods()
        self._routes = routes
        self._client_certificates = client_certificates
        self._consumers = ConsumerDirectory(settings)
        self._jwt = JwtVerifier(settings.jwt, self._consumers) if settings.jwt else None
        self._key_header = settings.api_keys.header if settings.api_keys else "X-API-Key"
        self._default = tuple(m for m in _METHOD_ORDER if m in self.methods)
        self._plans: list[_RoutePlan] = []
        #: Request headers that carry caller credentials or identity: never forwarded as-is.
        self.credential_headers: frozenset[str] = frozenset(
            {"authorization", self._key_header.lower(), *(h.lower() for h in IDENTITY_HEADERS)}
        )

    @classmethod
    def for_config(cls, config: Config) -> AuthGate:
        """The gate for a whole config (routes, and whether TLS asks for client certificates)."""
        tls = config.server.tls
        return cls(config.auth, config.routes, tls is not None and tls.client_certificates != "none")

    @property
    def jwt(self) -> JwtVerifier | None:
        """The JWT verifier, when ``auth.jwt`` is configured."""
        return self._jwt

    async def start(self) -> None:
        """Check the routes' auth, load policies, fetch signing keys; ``StartupError`` if not."""
        from gateway.runtime import StartupError

        errors = self._config_errors()
        try:
            policies = load_route_policies(self._routes, self.settings.policies)
            self._plans = [self._plan(r, p) for r, p in zip(self._routes, policies, strict=True)]
        except PolicyLoadError as exc:
            errors += exc.errors
        if not errors and self._jwt is not None:
            try:
                await self._jwt.start()
            except ValueError as exc:
                errors += str(exc).splitlines()
        if errors:
            raise StartupError(errors)

    async def close(self) -> None:
        """Release what :meth:`start` opened."""
        if self._jwt is not None:
            await self._jwt.close()

    def is_open(self, endpoint: Endpoint) -> bool:
        """Whether calls on ``endpoint`` need no check at all (``auth: none``, no policies):
        the pipeline then leaves the caller anonymous without calling :meth:`authenticate`."""
        plan = self._plan_for(endpoint)
        return plan.open and not plan.policies

    def known(self, exchange: Exchange) -> Consumer | None:
        """The consumer of a call whose credential was checked before, decided without
        awaiting anything; ``None`` when :meth:`authenticate` must decide.

        Only a route without policies qualifies whose first accepted method is ``jwt``,
        with a bearer token in the verified-token cache, or ``api_key``, with a known
        key: :meth:`authenticate` would take the same credential first and decide the
        same. Scopes and roles are checked as there (``Forbidden``).

        A client sends the same credential on every call of a keep-alive connection:
        the connection remembers the last one that passed here (the header exactly as
        sent, the verifier or key table that passed it, and for a token the cache
        entry's end), so the next call skips the credential's SHA-256. Any other
        header is judged as on a new connection; a credential header sent twice is
        left to :meth:`authenticate`, which refuses it.
        """
        plan = self._plan_for(exchange.endpoint)
        if plan.open or plan.policies or not plan.accepted:
            return None
        first = plan.accepted[0]
        if first == "jwt" and self._jwt is not None:
            consumer = self._known_token(exchange.request, self._jwt)
        elif first == "api_key":
            consumer = self._known_key(exchange.request)
        else:
            return None
        if consumer is not None:
            exchange.consumer = consumer
            self._authorize(plan, consumer)
        return consumer

    def _known_token(self, request: Request, jwt: JwtVerifier) -> Consumer | None:
        header = _single(request, "authorization")
        if header is None:
            return None
        remembered = _remembered(request, "rosetta_bearer", jwt, header)
        if remembered is not None:
            return remembered
        token = _bearer(header)
        entry = jwt.cached_entry(token) if token is not None else None
        if entry is None:
            return None
        _remember(request, "rosetta_bearer", jwt, header, entry[0], entry[1])
        return entry[0]

    def _known_key(self, request: Request) -> Consumer | None:
        key = _single(request, self._key_header)
        if key is None:
            return None
        table = self._consumers.api_keys
        remembered = _remembered(request, "rosetta_api_key", table, key)
        if remembered is not None:
            return remembered
        consumer = table.lookup(key)
        if consumer is not None:
            _remember(request, "rosetta_api_key", table, key, consumer, math.inf)
        return consumer

    async def authenticate(self, exchange: Exchange) -> Consumer:
        """The consumer behind the request, or :class:`Unauthorized` / ``Forbidden``."""
        plan = self._plan_for(exchange.endpoint)
        if plan.open:
            consumer = ANONYMOUS
        else:
            consumer = exchange.consumer = await self._identify(exchange.request, plan.accepted)
            self._authorize(plan, consumer)  # a refusal is logged with the consumer it refused
        if plan.policies:
            await self._check_policies(plan.policies, exchange, consumer)
        return consumer

    def _plan_for(self, endpoint: Endpoint) -> _RoutePlan:
        index = endpoint.route_index
        if index < len(self._plans):
            return self._plans[index]
        return self._plan(endpoint.route, ())  # a gate built without its routes

    def _plan(self, route: RouteConfig, policies: tuple[LoadedPolicy, ...]) -> _RoutePlan:
        if route.auth is None:
            accepted = self._default
        else:
            wanted = (route.auth,) if isinstance(route.auth, str) else route.auth
            accepted = tuple(m for m in wanted if m in self.methods)
        return _RoutePlan(
            open=route.auth == "none",
            accepted=accepted,
            scopes=frozenset(route.scopes),
            roles=frozenset(route.roles),
            policies=policies,
        )

    async def _identify(self, request: Request, accepted: tuple[str, ...]) -> Consumer:
        for method in accepted:
            if method == "jwt":
                token = _bearer(self._credential(request, "Authorization"))
                if token is not None:
                    return await self._verify_token(token, accepted)
            elif method == "api_key":
                key = self._credential(request, self._key_header)
                if key is not None:
                    return self._verify_key(key, accepted)
            elif method == "mtls":
                names = peer_common_names(request.transport)
                if names:
                    return self._verify_certificate(names, accepted)
        raise Unauthorized(
            f"this route requires credentials: {_describe(accepted, self._key_header)}",
            headers=self._challenge(accepted),
        )

    def _credential(self, request: Request, name: str) -> str | None:
        """The value of credential header ``name``, ``None`` when absent; ``InvalidHeader`` when
        sent more than once (RFC 6750 §3.1 ``invalid_request``): Rosetta would judge one copy,
        while an upstream receiving both (``forward_auth``) might read the other."""
        values = request.headers.getall(name, ())
        if len(values) > 1:
            challenge = f'Bearer realm="{self.settings.realm}", error="invalid_request"'
            headers = {"WWW-Authenticate": challenge} if name == "Authorization" else None
            raise InvalidHeader(f"send the {name} header once, not {len(values)} times", headers=headers)
        return values[0] if values else None

    async def _verify_token(self, token: str, accepted: tuple[str, ...]) -> Consumer:
        assert self._jwt is not None
        try:
            return await self._jwt.verify(token)
        except InvalidToken as exc:
            log.debug("bearer token refused: %s", exc)
            raise Unauthorized(
                "the bearer token is not valid", headers=self._challenge(accepted, "invalid_token")
            ) from None
        except KeysUnavailable:
            raise AuthUnavailable(
                "the keys to check bearer tokens cannot be fetched right now; try again shortly",
                headers={"Retry-After": "5"},
            ) from None

    def _verify_key(self, key: str, accepted: tuple[str, ...]) -> Consumer:
        consumer = self._consumers.api_keys.lookup(key)
        if consumer is None:
            raise Unauthorized("the API key is not valid", headers=self._challenge(accepted))
        return consumer

    def _verify_certificate(self, names: tuple[str, ...], accepted: tuple[str, ...]) -> Consumer:
        if len(names) > 1:  # which CN the CA checked is unknowable: the certificate names nobody
            raise Unauthorized(
                "the client certificate names more than one subject CN", headers=self._challenge(accepted)
            )
        mtls = self.settings.mtls
        consumer_id = mtls.subjects.get(names[0]) if mtls is not None else None
        if consumer_id is None:
            raise Unauthorized(
                "the client certificate is not mapped to a consumer", headers=self._challenge(accepted)
            )
        return self._consumers.consumer(consumer_id, "mtls")

    def _authorize(self, plan: _RoutePlan, consumer: Consumer) -> None:
        if not plan.scopes <= consumer.scopes:
            scope = " ".join(sorted(plan.scopes))
            headers = self._scope_challenge(scope) if consumer.method == "jwt" else None
            raise Forbidden(f"this route needs the scopes: {scope}", headers=headers)
        if plan.roles and plan.roles.isdisjoint(consumer.roles):
            raise Forbidden(f"this route needs one of the roles: {', '.join(sorted(plan.roles))}")

    def _challenge(self, accepted: tuple[str, ...], error: str | None = None) -> dict[str, str]:
        realm = self.settings.realm
        challenges = []
        if "jwt" in accepted:
            extra = f', error="{error}"' if error else ""
            challenges.append(f'Bearer realm="{realm}"{extra}')
        if "api_key" in accepted:
            challenges.append(f'ApiKey realm="{realm}", header="{self._key_header}"')
        return {"WWW-Authenticate": ", ".join(challenges)} if challenges else {}

    def _scope_challenge(self, scope: str) -> dict[str, str]:
        realm = self.settings.realm
        return {"WWW-Authenticate": f'Bearer realm="{realm}", error="insufficient_scope", scope="{scope}"'}

    async def _check_policies(
        self, policies: tuple[LoadedPolicy, ...], exchange: Exchange, consumer: Consumer
    ) -> None:
        request = self._policy_request(exchange)
        for loaded in policies:
            try:
                await loaded.policy.check(request, consumer)
            except GatewayError:
                raise
            except Exception:
                log.exception("route policy %s failed", loaded.name)
                raise GatewayError(f"the route policy '{loaded.name}' failed; it has been logged") from None

    def _policy_request(self, x: Exchange) -> PolicyRequest:
        request = x.request
        length = request.headers.get("content-length")
        return PolicyRequest(
            method=request.method,
            path=x.path or request.path,
            route=x.endpoint.route.template,
            query_string=request.query_string,
            headers=[(k, v) for k, v in request.headers.items() if k.lower() not in self.credential_headers],
            client_ip=request.ip,
            scheme=request.scheme,
            content_length=int(length) if length is not None and length.isdigit() else None,
            request_id=x.request_id,
        )

    def _config_errors(self) -> list[str]:
        errors = []
        for i, route in enumerate(self._routes):
            wanted = () if route.auth in (None, "none") else (route.auth,) if isinstance(route.auth, str) else route.auth
            errors += [
                f"routes[{i}].auth: '{m}' is not configured (add auth.{'api_keys' if m == 'api_key' else m})"
                for m in wanted
                if m not in self.methods
            ]
            if route.auth == "none" and (route.scopes or route.roles):
                errors.append(f"routes[{i}]: scopes and roles need credentials; this route has auth: none")
        if "mtls" in self.methods and self._client_certificates is False:
            errors.append("auth.mtls: needs server.tls with client_certificates: optional or required")
        return errors


def _single(request: Request, name: str) -> str | None:
    """The value of header ``name`` when sent exactly once; ``None`` otherwise."""
    values = request.headers.getall(name, ())
    return values[0] if len(values) == 1 else None


def _remembered(request: Request, slot: str, checker: object, header: str) -> Consumer | None:
    """The consumer this connection's ``slot`` holds for ``header``, if ``checker`` (the
    verifier or key table of this runtime) passed it and it has not expired."""
    conn = request.conn_info
    last = conn.ctx.__dict__.get(slot) if conn is not None else None
    if last is None or last[1] is not checker or last[3] <= time.time() or not _same(last[0], header):
        return None
    return last[2]  # type: ignore[no-any-return]


def _remember(request: Request, slot: str, checker: object, header: str, consumer: Consumer, until: float) -> None:
    if request.conn_info is not None:
        setattr(request.conn_info.ctx, slot, (header, checker, consumer, until))


def _same(remembered: str, presented: str) -> bool:
    """Whether a connection presents the credential it presented before, in constant time:
    through a proxy that shares one connection among clients, ``==`` would leak how much
    of another client's credential a guess got right. A non-ASCII header never matches."""
    try:
        return hmac.compare_digest(remembered, presented)
    except TypeError:
        return False


def _bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _describe(accepted: tuple[str, ...], key_header: str) -> str:
    names = {"jwt": "a bearer token", "api_key": f"an {key_header} header", "mtls": "a client certificate"}
    return " or ".join(names[m] for m in accepted) or "none are configured"
