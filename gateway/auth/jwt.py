"""Bearer JWTs: verified with PyJWT against the configured issuers.

A token is accepted only when all of these hold, and refused with one and the
same answer otherwise (RFC 6750 ``invalid_token``; the reason is logged at
debug level, never shown to the caller):

- it is at most ``max_token_bytes`` long and parses;
- its ``iss`` names a configured issuer, and its ``alg`` is in that issuer's
  allow-list (``none`` never is, and HMAC algorithms are allowed only for a
  secret, so a token "signed" with a public key as HMAC secret cannot pass);
- the key it names fits the algorithm (JWK ``kty``/``alg``) and verifies the
  signature;
- ``exp``, ``nbf`` and ``iat`` are JSON numbers (RFC 7519 §2 NumericDate, not
  strings) and hold within ``leeway``; ``aud`` names an accepted audience;
  every required claim is present;
- the consumer claim is a non-empty string.

Verified tokens are remembered (bounded, never past their ``exp`` nor
``cache_ttl``) keyed by their SHA-256, so a token is verified once, not per call.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Iterable
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from gateway.auth.consumers import ConsumerDirectory
from gateway.auth.jwks import JwksKeys, KeysUnavailable, SigningKey, UnknownKey, key_problem
from gateway.auth.settings import KEY_TYPES, IssuerSettings, JwtSettings
from gateway.plugin import Consumer

__all__ = ["TOKEN_ERRORS", "InvalidToken", "JwtVerifier", "load_public_key"]

log = logging.getLogger("rosetta.auth")

#: Everything that means "this token is not acceptable": PyJWT's whole error
#: tree, and a key the issuer does not publish.
TOKEN_ERRORS: tuple[type[Exception], ...] = (jwt.PyJWTError, UnknownKey)


# Why an issuer cannot start: an unusable key file, or required keys not fetched.
_START_ERRORS = (ValueError, OSError, KeysUnavailable)


class InvalidToken(Exception):
    """The bearer token is not acceptable; the message is for debug logs only."""


class _Issuer:
    """One issuer: its settings and where its keys come from."""

    def __init__(self, settings: IssuerSettings) -> None:
        self.settings = settings
        self.jwks: JwksKeys | None = None
        self.static: SigningKey | None = None
        self.require = ["iss", "aud", *settings.required_claims]
        if settings.jwks_url is not None:
            self.jwks = JwksKeys(
                settings.jwks_url,
                timeout=settings.jwks_timeout,
                refresh_interval=settings.jwks_refresh_interval,
                max_age=settings.jwks_max_age,
            )
        elif settings.secret is not None:
            secret = settings.secret.get_secret_value().encode()
            self.static = SigningKey(kid=None, key_type="oct", algorithm=None, key=secret)

    async def start(self) -> None:
        if self.settings.public_key_file is not None:
            self.static = load_public_key(self.settings.public_key_file.read_bytes(), self.settings.algorithms)
        if self.jwks is not None:
            await self.jwks.start(self.settings.require_keys_at_start)

    async def key(self, kid: str | None, alg: str) -> Any:
        found = self.static if self.jwks is None else await self.jwks.key(kid)
        assert found is not None, "start() loads the static key"
        if found.key_type != KEY_TYPES[alg] or found.algorithm not in (None, alg):
            raise InvalidToken(f"key {kid!r} does not fit algorithm {alg}")
        return found.key


class JwtVerifier:
    """Turns bearer tokens into consumers for one ``auth.jwt`` config."""

    def __init__(self, settings: JwtSettings, consumers: ConsumerDirectory) -> None:
        self.settings = settings
        self._consumers = consumers
        self._issuers = {i.issuer: _Issuer(i) for i in settings.issuers}
        _warn_of_shared_subjects(settings)
        self._cache = _VerifiedTokens(settings.cache_size, settings.cache_ttl)

    @property
    def jwks(self) -> list[JwksKeys]:
        """The JWKS sources of every issuer (for readiness and tests)."""
        return [i.jwks for i in self._issuers.values() if i.jwks is not None]

    async def start(self) -> None:
        """Load PEM keys and fetch every JWKS, all issuers at once.

        Raises ``ValueError`` naming the issuer for an unusable key file, or for
        keys that cannot be fetched when the issuer sets ``require_keys_at_start``.
        """
        issuers = list(self._issuers.values())
        results = await asyncio.gather(*(i.start() for i in issuers), return_exceptions=True)
        errors = []
        for n, result in enumerate(results):
            if isinstance(result, _START_ERRORS):
                errors.append(f"auth.jwt.issuers[{n}]: {result}")
            elif isinstance(result, BaseException):
                raise result
        if errors:
            raise ValueError("\n".join(errors))

    async def close(self) -> None:
        for keys in self.jwks:
            await keys.close()

    def cached(self, token: str) -> Consumer | None:
        """The consumer of ``token`` when it was verified before and has not expired since;
        ``None`` otherwise, and :meth:`verify` decides. Nothing is awaited."""
        entry = self.cached_entry(token)
        return entry[0] if entry is not None else None

    def cached_entry(self, token: str) -> tuple[Consumer, float] | None:
        """:meth:`cached`, with the ``time.time()`` until which the entry holds."""
        if len(token) > self.settings.max_token_bytes or not token.isascii():
            return None
        return self._cache.entry(_digest(token))

    async def verify(self, token: str) -> Consumer:
        """The consumer a valid token stands for; :class:`InvalidToken` otherwise.

        ``KeysUnavailable`` passes through: the issuer's keys could not be fetched.
        """
        if len(token) > self.settings.max_token_bytes:
            raise InvalidToken("token longer than max_token_bytes")
        if not token.isascii():
            # A JWT is base64url and dots; bytes that are not UTF-8 arrive as lone surrogates.
            raise InvalidToken("token holds characters that are not ASCII")
        consumer = self.cached(token)
        if consumer is not None:
            return consumer
        try:
            claims = await self._verified_claims(token)
        except TOKEN_ERRORS as exc:
            raise InvalidToken(type(exc).__name__) from None
        _check_numeric_dates(claims)
        consumer = self._consumer(claims, self._issuers[claims["iss"]].settings.consumer_prefix)
        self._cache.put(_digest(token), consumer, claims.get("exp"))
        return consumer

    async def _verified_claims(self, token: str) -> dict[str, Any]:
        unverified = jwt.api_jwt.decode_complete(token, options={"verify_signature": False})
        header, payload = unverified["header"], unverified["payload"]
        iss, alg, kid = payload.get("iss"), header.get("alg"), header.get("kid")
        issuer = self._issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None or alg not in issuer.settings.algorithms:
            raise InvalidToken("unknown issuer or algorithm not allowed")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("kid is not a string")
        key = await issuer.key(kid, alg)
        settings = issuer.settings
        return jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=list(settings.audiences),
            issuer=settings.issuer,
            leeway=settings.leeway,
            options={"require": issuer.require},
        )

    def _consumer(self, claims: dict[str, Any], prefix: str = "") -> Consumer:
        s = self.settings
        consumer_id = claims.get(s.consumer_claim)
        if not isinstance(consumer_id, str) or not consumer_id:
            raise InvalidToken(f"claim {s.consumer_claim!r} is not a non-empty string")
        consumer_id = prefix + consumer_id
        scopes = claims.get(s.scopes_claim)
        if scopes is None and s.scopes_claim == "scope":
            scopes = claims.get("scp")
        scope_names, role_names = list(_names(scopes)), list(_names(claims.get(s.roles_claim)))
        if not all(name.isprintable() for name in (consumer_id, *scope_names, *role_names)):
            # The identity goes into headers, metadata, log lines and counter keys: a control
            # character or a lone surrogate there would break or forge them.
            raise InvalidToken("an identity claim holds control characters or text that is not valid Unicode")
        return self._consumers.consumer(consumer_id, "jwt", scope_names, role_names)


def _warn_of_shared_subjects(settings: JwtSettings) -> None:
    """One warning when several issuers may name the same consumer (the same prefix)."""
    by_prefix: dict[str, list[str]] = {}
    for issuer in settings.issuers:
        by_prefix.setdefault(issuer.consumer_prefix, []).append(issuer.issuer)
    shared = next((names for names in by_prefix.values() if len(names) > 1), None)
    if shared:
        log.warning(
            "issuers %s share one consumer namespace: a token of either with the same '%s' is the same "
            "consumer, with its scopes, roles and plan; give each a consumer_prefix unless that is meant",
            ", ".join(shared), settings.consumer_claim,
        )


_TIME_CLAIMS = ("exp", "nbf", "iat")


def _check_numeric_dates(claims: dict[str, Any]) -> None:
    """``InvalidToken`` unless each time claim present is a JSON number (RFC 7519 §2).

    PyJWT also takes ``"1700000000"``; Rosetta refuses it, as the verified-token cache
    could not tell when such a token ends.
    """
    for name in _TIME_CLAIMS:
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidToken(f"claim {name!r} is not a number")


def _names(value: Any) -> Iterable[str]:
    """Scopes or roles from a claim: a space-separated string or a list of strings."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return ()


_KEY_CLASSES: tuple[tuple[type, str], ...] = (
    (rsa.RSAPublicKey, "RSA"),
    (ec.EllipticCurvePublicKey, "EC"),
    (ed25519.Ed25519PublicKey, "OKP"),
    (ed448.Ed448PublicKey, "OKP"),
)


def load_public_key(pem: bytes, algorithms: Iterable[str]) -> SigningKey:
    """A public key (or certificate) in PEM that fits every algorithm and passes
    :func:`~gateway.auth.jwks.key_problem`; ``ValueError`` otherwise."""
    try:
        key: Any = (
            x509.load_pem_x509_certificate(pem).public_key()
            if b"BEGIN CERTIFICATE" in pem
            else load_pem_public_key(pem)
        )
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM public key or certificate ({exc})") from None
    key_type = next((kty for cls, kty in _KEY_CLASSES if isinstance(key, cls)), None)
    misfits = [alg for alg in algorithms if KEY_TYPES.get(alg) != key_type]
    if key_type is None or misfits:
        raise ValueError(f"a {key_type or 'unsupported'} key cannot verify {', '.join(misfits)}")
    problem = key_problem(key)
    if problem is not None:
        raise ValueError(problem)
    return SigningKey(kid=None, key_type=key_type, algorithm=None, key=key)


def _digest(token: str) -> bytes:
    """The verified-token cache's key: the token's SHA-256, so the cache holds no tokens."""
    return hashlib.sha256(token.encode()).digest()


class _VerifiedTokens:
    """Token digest → consumer, bounded and expiring with the token."""

    def __init__(self, size: int, ttl: float) -> None:
        self._size, self._ttl = size, ttl
        self._entries: dict[bytes, tuple[Consumer, float]] = {}

    def entry(self, key: bytes) -> tuple[Consumer, float] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[1] <= time.time():
            self._entries.pop(key, None)
            return None
        return entry

    def put(self, key: bytes, consumer: Consumer, exp: Any) -> None:
        if self._size == 0 or self._ttl == 0:
            return
        until = time.time() + self._ttl
        if isinstance(exp, int | float):
            until = min(until, exp)  # no float(): an int past the float range would overflow
        if len(self._entries) >= self._size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (consumer, until)
