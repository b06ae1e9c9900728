"""Config models of ``auth:``: the credentials Rosetta accepts from callers.

::

    auth:
      jwt:
        issuers:
          - issuer: "https://idp.example"
            audience: rosetta
            jwks_url: "https://idp.example/.well-known/jwks.json"   # or public_key_file / secret
            algorithms: [RS256]
            leeway: 30
        consumer_claim: sub
        scopes_claim: scope
      api_keys:
        header: X-API-Key
        keys:
          - {consumer: acme, sha256: "<hex digest of the key>", scopes: ["rx:read"]}
      consumers:
        - {id: acme, roles: [pharmacist], plan: gold}
      consumers_file: consumers.yaml       # more consumers, same shape as ``consumers``
      mtls:
        subjects: {"client.acme.example": acme}
      policies:
        small_uploads: {use: "gateway.auth.policies:MaxBodySize", options: {max_bytes: 5242880}}

Cross-field rules are the named validators below; each error names its path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from gateway.auth._paths import FilePath
from gateway.yamlfile import YamlFileError, read_yaml

__all__ = [
    "KEY_TYPES",
    "ApiKeyEntry",
    "ApiKeySettings",
    "AuthSettings",
    "ConsumerSettings",
    "IssuerSettings",
    "JwtSettings",
    "MtlsSettings",
    "PolicySettings",
]

#: JWS algorithm → the JWK key type (``kty``) it needs (RFC 7518 §3.1).
KEY_TYPES: Mapping[str, str] = {
    "HS256": "oct", "HS384": "oct", "HS512": "oct",
    "RS256": "RSA", "RS384": "RSA", "RS512": "RSA",
    "PS256": "RSA", "PS384": "RSA", "PS512": "RSA",
    "ES256": "EC", "ES384": "EC", "ES512": "EC", "ES256K": "EC",
    "EdDSA": "OKP",
}
# RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
_SECRET_BYTES: Mapping[str, int] = {"HS256": 32, "HS384": 48, "HS512": 64}

Sha256Hex = Annotated[
    str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$", to_lower=True, strip_whitespace=True)
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IssuerSettings(_Model):
    """One trusted token issuer and the one place its signing keys come from."""

    issuer: Name = Field(description="Exact value of the tokens' `iss` claim.")
    audience: Name | tuple[Name, ...] = Field(
        description="Accepted `aud` value(s): a token must name one of them."
    )
    jwks_url: str | None = Field(None, description="JWKS endpoint (http or https) of the issuer.")
    public_key_file: FilePath | None = Field(None, description="PEM file with the public key.")
    secret: SecretStr | None = Field(
        None, description="HMAC secret, from the environment: `secret: ${JWT_SECRET}`."
    )
    algorithms: tuple[str, ...] = Field(
        min_length=1, description="Accepted `alg` values, e.g. [RS256]. Never `none`."
    )
    leeway: float = Field(30.0, ge=0, le=600, description="Seconds of clock skew allowed.")
    required_claims: tuple[Name, ...] = Field(
        ("exp",), description="Claims a token must carry (`iss` and `aud` always are)."
    )
    jwks_timeout: float = Field(5.0, gt=0, le=60, description="Seconds one JWKS fetch may take.")
    jwks_refresh_interval: float = Field(
        30.0, gt=0, le=86_400,
        description="At most one JWKS fetch per this many seconds (unknown `kid`, IdP down).",
    )
    jwks_max_age: float = Field(
        600.0, gt=0, le=604_800, description="Keys older than this are refetched in the background."
    )
    require_keys_at_start: bool = Field(
        False, description="Refuse to start when the JWKS cannot be fetched (default: retry lazily)."
    )
    consumer_prefix: str = Field(
        "", max_length=64,
        description="Put before this issuer's consumer claim (e.g. 'partner:'), so that two issuers' "
        "subjects never name the same consumer, nor one configured for API keys or mTLS.",
    )

    @field_validator("jwks_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("audience")
    @classmethod
    def _some_audience(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        if not value:
            raise ValueError("name at least one audience")
        return value

    @model_validator(mode="after")
    def _one_key_source(self) -> IssuerSettings:
        given = [self.jwks_url, self.public_key_file, self.secret]
        if sum(v is not None for v in given) != 1:
            raise ValueError("give exactly one of 'jwks_url', 'public_key_file' or 'secret'")
        return self

    @model_validator(mode="after")
    def _algorithms_fit_the_key(self) -> IssuerSettings:
        for alg in self.algorithms:
            if alg.lower() == "none":
                raise ValueError("algorithms: 'none' is never accepted (unsigned tokens)")
            if alg not in KEY_TYPES:
                raise ValueError(f"algorithms: unknown algorithm {alg!r} (known: {', '.join(KEY_TYPES)})")
            hmac = KEY_TYPES[alg] == "oct"
            if hmac and self.secret is None:
                raise ValueError(f"algorithms: {alg} is an HMAC algorithm; it needs 'secret', never a public key")
            if not hmac and self.secret is not None:
                raise ValueError(f"algorithms: {alg} needs a public key ('jwks_url' or 'public_key_file')")
        self._long_secret()
        return self

    def _long_secret(self) -> None:
        secret = len(self.secret.get_secret_value().encode()) if self.secret is not None else 0
        for alg in self.algorithms:
            needed = _SECRET_BYTES.get(alg, 0)
            if secret < needed:
                raise ValueError(f"secret: {alg} needs a secret of at least {needed} bytes (RFC 7518 §3.2)")

    @property
    def audiences(self) -> tuple[str, ...]:
        return (self.audience,) if isinstance(self.audience, str) else self.audience


class JwtSettings(_Model):
    """``auth.jwt`` — bearer tokens (RFC 6750) signed by trusted issuers."""

    issuers: tuple[IssuerSettings, ...] = Field(description="Trusted issuers (one or more).")
    consumer_claim: Name = Field("sub", description="Claim giving the consumer id.")
    scopes_claim: Name = Field(
        "scope", description="Claim giving scopes: a space-separated string or a list (`scp` too)."
    )
    roles_claim: Name = Field("roles", description="Claim giving roles: a list or a string.")
    max_token_bytes: int = Field(
        4096, ge=256, le=16_384, description="Longer tokens are refused unread."
    )
    cache_size: int = Field(
        10_000, ge=0, le=1_000_000, description="Verified tokens remembered (0: none)."
    )
    cache_ttl: float = Field(
        300.0, ge=0, le=86_400, description="Seconds a verified token is remembered (never past `exp`)."
    )

    @field_validator("issuers")
    @classmethod
    def _distinct_issuers(cls, value: tuple[IssuerSettings, ...]) -> tuple[IssuerSettings, ...]:
        if not value:
            raise ValueError("list at least one issuer")
        seen = [i.issuer for i in value]
        for name in seen:
            if seen.count(name) > 1:
                raise ValueError(f"issuer {name!r} is listed twice")
        return value


class ApiKeyEntry(_Model):
    """One API key, stored only as the SHA-256 digest of the key."""

    consumer: Name = Field(description="Id of the consumer the key belongs to.")
    sha256: Sha256Hex = Field(description="Hex SHA-256 of the key: `printf %s \"$KEY\" | sha256sum`.")
    scopes: tuple[Name, ...] = Field((), description="Scopes granted to calls with this key.")
    roles: tuple[Name, ...] = Field((), description="Roles granted to calls with this key.")


class ApiKeySettings(_Model):
    """``auth.api_keys`` — static keys sent in a header."""

    header: Name = Field("X-API-Key", description="Request header carrying the key.")
    keys: tuple[ApiKeyEntry, ...] = Field((), description="The accepted keys.")


class ConsumerSettings(_Model):
    """One consumer: who calls, what it may do, and its settings (e.g. a rate plan)."""

    id: Name = Field(description="Consumer id, as given by a token claim, key or certificate.")
    scopes: tuple[Name, ...] = Field((), description="Scopes granted whatever credential it uses.")
    roles: tuple[Name, ...] = Field((), description="Roles granted whatever credential it uses.")
    api_keys: tuple[Sha256Hex, ...] = Field((), description="SHA-256 digests of its API keys.")
    plan: str | None = Field(None, description="Rate plan name (read by `limits`).")
    rate_limit: str | None = Field(None, description="Own rate limit, e.g. '100/minute' (read by `limits`).")
    quota: str | None = Field(None, description="Own quota, e.g. '10000/day' (read by `limits`).")
    settings: Mapping[str, Any] = Field(
        default_factory=dict, description="Anything else other steps read from the consumer."
    )

    def consumer_settings(self) -> dict[str, Any]:
        """``Consumer.settings``: ``settings`` plus ``plan``/``rate_limit``/``quota`` when set."""
        named = {"plan": self.plan, "rate_limit": self.rate_limit, "quota": self.quota}
        return {**self.settings, **{k: v for k, v in named.items() if v is not None}}


class MtlsSettings(_Model):
    """``auth.mtls`` — client certificates (verified by ``server.tls``) mapped to consumers."""

    subjects: Mapping[Name, Name] = Field(
        min_length=1, description="Certificate subject common name (CN) → consumer id."
    )


class PolicySettings(_Model):
    """A named policy: a plug-in class and the options it is built with."""

    use: Name = Field(description="Import path 'package.module:Class'.")
    options: Mapping[str, Any] = Field(default_factory=dict, description="Keyword arguments.")


_CONSUMER_LIST: TypeAdapter[list[ConsumerSettings]] = TypeAdapter(list[ConsumerSettings])


class AuthSettings(_Model):
    """``auth:`` — no method is configured by default, so only ``auth: none`` routes answer."""

    jwt: JwtSettings | None = Field(None, description="Bearer JWTs.")
    api_keys: ApiKeySettings | None = Field(None, description="Static API keys.")
    mtls: MtlsSettings | None = Field(None, description="Client certificates (needs server.tls).")
    consumers: tuple[ConsumerSettings, ...] = Field((), description="Known consumers.")
    consumers_file: FilePath | None = Field(
        None, description="YAML file with a list of more consumers (same shape)."
    )
    policies: Mapping[Name, PolicySettings] = Field(
        default_factory=dict, description="Named policies routes can list next to import paths."
    )
    realm: Name = Field("rosetta", description="Realm named in WWW-Authenticate challenges.")
    _file_consumers: tuple[ConsumerSettings, ...] = PrivateAttr(())

    @model_validator(mode="after")
    def _load_consumers_file(self) -> AuthSettings:
        if self.consumers_file is not None:
            self._file_consumers = _read_consumers(self.consumers_file)
        return self

    @model_validator(mode="after")
    def _distinct_consumers_and_keys(self) -> AuthSettings:
        ids = [c.id for c in self.all_consumers()]
        for cid in ids:
            if ids.count(cid) > 1:
                raise ValueError(f"consumer {cid!r} is defined twice")
        digests = [d for d, _ in self.key_digests()]
        for digest in digests:
            if digests.count(digest) > 1:
                raise ValueError(f"the API key with digest {digest[:12]}… is listed twice")
        return self

    def all_consumers(self) -> tuple[ConsumerSettings, ...]:
        """The consumers of ``consumers`` and then of ``consumers_file``."""
        return self.consumers + self._file_consumers

    def key_digests(self) -> list[tuple[str, ApiKeyEntry]]:
        """Every API key digest with its entry (consumer-level keys grant no extra scopes)."""
        keys = [(k.sha256, k) for k in (self.api_keys.keys if self.api_keys else ())]
        for consumer in self.all_consumers():
            keys += [(d, ApiKeyEntry(consumer=consumer.id, sha256=d, scopes=(), roles=())) for d in consumer.api_keys]
        return keys

    def methods(self) -> frozenset[str]:
        """The credential methods configured (``jwt``, ``api_key``, ``mtls``)."""
        found = {
            "jwt": self.jwt is not None,
            "api_key": self.api_keys is not None or any(c.api_keys for c in self.all_consumers()),
            "mtls": self.mtls is not None,
        }
        return frozenset(name for name, on in found.items() if on)


def _read_consumers(path: Any) -> tuple[ConsumerSettings, ...]:
    try:  # bounded like the config itself: repeated keys, alias bombs and deep nesting refused
        raw = read_yaml(Path(path))
    except YamlFileError as exc:
        raise ValueError(f"consumers_file {path}: cannot read: {'; '.join(exc.errors)}") from None
    try:
        return tuple(_CONSUMER_LIST.validate_python(raw if raw is not None else []))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        raise ValueError(f"consumers_file {path}: {where.lstrip('.') or 'list'}: {first['msg']}") from None
