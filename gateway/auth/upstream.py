"""Credentials Rosetta presents to an upstream, and who the caller was.

Per upstream, under ``auth:`` (secrets from the environment)::

    upstreams:
      pharmacy:
        type: rest
        url: "https://pharmacy.internal"
        auth:
          bearer: ${PHARMACY_TOKEN}                 # Authorization: Bearer …
          # basic: {username: rosetta, password: ${PHARMACY_PASSWORD}}
          # header: {name: X-Service-Key, value: ${PHARMACY_KEY}}
          identity: true                            # X-Consumer-ID / -Scopes / -Roles
          tls: {ca_file: certs/internal-ca.pem, cert_file: certs/rosetta.pem, key_file: certs/rosetta.key}

:func:`outgoing_headers` is pure: translators add its pairs to each call (as
HTTP headers, SOAP transport headers or gRPC metadata) — or use
:func:`with_upstream_auth`, which also replaces same-named request headers so
a caller can never pose as another consumer by sending ``X-Consumer-ID``.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

from gateway.auth.tls import UpstreamTls, client_ssl_context

if TYPE_CHECKING:
    from gateway.plugin import Consumer

__all__ = [
    "IDENTITY_HEADERS",
    "BasicCredentials",
    "HeaderCredential",
    "UpstreamAuth",
    "outgoing_headers",
    "upstream_ssl_context",
    "with_upstream_auth",
]

#: Headers telling the upstream who called: consumer id, scopes, roles.
IDENTITY_HEADERS = ("X-Consumer-ID", "X-Consumer-Scopes", "X-Consumer-Roles")

_Token = Annotated[str, StringConstraints(pattern=r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")]
# Visible ASCII except '%': anything else in an identity value is percent-encoded,
# so a claim can never inject a header line.
_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


class BasicCredentials(BaseModel):
    """HTTP Basic credentials (RFC 7617)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(min_length=1, description="User name (no ':').", pattern=r"^[^:\r\n]+$")
    password: SecretStr = Field(description="Password, from the environment.")


class HeaderCredential(BaseModel):
    """A fixed header, e.g. a service key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: _Token = Field(description="Header name.")
    # An empty value (a variable set to "") would send a header with no credential in it.
    value: SecretStr = Field(min_length=1, description="Header value, from the environment.")


class UpstreamAuth(BaseModel):
    """``upstreams.<name>.auth`` — what Rosetta presents to this upstream."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bearer: SecretStr | None = Field(
        None, min_length=1, description="Send `Authorization: Bearer <token>`."
    )
    basic: BasicCredentials | None = Field(None, description="Send HTTP Basic credentials.")
    header: HeaderCredential | None = Field(None, description="Send one fixed header.")
    identity: bool = Field(False, description="Send X-Consumer-ID, X-Consumer-Scopes, X-Consumer-Roles.")
    tls: UpstreamTls | None = Field(None, description="Private CA and client certificate for TLS.")

    @model_validator(mode="after")
    def _one_credential(self) -> UpstreamAuth:
        if sum(c is not None for c in (self.bearer, self.basic, self.header)) > 1:
            raise ValueError("give at most one of 'bearer', 'basic' or 'header'")
        for secret in (self.bearer, self.header.value if self.header else None):
            if secret is not None and not _header_value_ok(secret.get_secret_value()):
                raise ValueError("a credential value must be visible ASCII (no line breaks)")
        return self

    @cached_property
    def credential(self) -> tuple[tuple[str, str], ...]:
        """The credential header pair, computed once."""
        if self.bearer is not None:
            return (("Authorization", f"Bearer {self.bearer.get_secret_value()}"),)
        if self.basic is not None:
            pair = f"{self.basic.username}:{self.basic.password.get_secret_value()}".encode()
            return (("Authorization", "Basic " + base64.b64encode(pair).decode()),)
        if self.header is not None:
            return ((self.header.name, self.header.value.get_secret_value()),)
        return ()

    @cached_property
    def replaced(self) -> frozenset[str]:
        """Lower-cased names of the request headers these settings replace."""
        names = [k for k, _ in self.credential] + (list(IDENTITY_HEADERS) if self.identity else [])
        return frozenset(n.lower() for n in names)


def outgoing_headers(upstream_auth: UpstreamAuth | None, consumer: Consumer) -> list[tuple[str, str]]:
    """The headers (or gRPC metadata) to add to a call to this upstream.

    >>> auth = UpstreamAuth(header={"name": "X-Key", "value": "k"}, identity=True)
    >>> outgoing_headers(auth, Consumer(id="acme", scopes=frozenset({"rx:read"})))
    [('X-Key', 'k'), ('X-Consumer-ID', 'acme'), ('X-Consumer-Scopes', 'rx:read'), ('X-Consumer-Roles', '')]
    """
    if upstream_auth is None:
        return []
    headers = list(upstream_auth.credential)
    if upstream_auth.identity:
        headers += [
            (IDENTITY_HEADERS[0], _safe(consumer.id)),
            (IDENTITY_HEADERS[1], _safe(" ".join(sorted(consumer.scopes)))),
            (IDENTITY_HEADERS[2], _safe(" ".join(sorted(consumer.roles)))),
        ]
    return headers


def with_upstream_auth(
    headers: Sequence[tuple[str, str]], upstream_auth: UpstreamAuth | None, consumer: Consumer
) -> list[tuple[str, str]]:
    """``headers`` without those :func:`outgoing_headers` sets, then its pairs."""
    if upstream_auth is None:
        return list(headers)
    replaced = upstream_auth.replaced
    kept = [(k, v) for k, v in headers if k.lower() not in replaced]
    return kept + outgoing_headers(upstream_auth, consumer)


def upstream_ssl_context(upstream_auth: UpstreamAuth | None) -> ssl.SSLContext | None:
    """The TLS context for ``auth.tls`` (private CA, client certificate); ``None``: the defaults."""
    if upstream_auth is None or upstream_auth.tls is None:
        return None
    return client_ssl_context(upstream_auth.tls)


def _header_value_ok(value: str) -> bool:
    return all(c in _SAFE or c == "%" for c in value)


def _safe(value: str) -> str:
    return value if all(c in _SAFE for c in value) else quote(value, safe=_SAFE)
