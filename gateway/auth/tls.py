"""TLS: HTTPS at the front door, client certificates (mTLS), TLS toward upstreams.

::

    server:
      tls:
        cert_file: certs/gateway.pem
        key_file: certs/gateway.key
        key_password: ${GATEWAY_KEY_PASSWORD}   # only for an encrypted key
        client_ca_file: certs/clients-ca.pem     # verify client certificates against it
        client_certificates: optional            # none | optional | required
    auth:
      mtls:
        subjects: {"client.acme.example": acme}  # certificate CN → consumer

The TLS handshake verifies a client certificate against ``client_ca_file``;
:func:`peer_common_names` then reads the verified certificate's subject CN,
which ``auth.mtls.subjects`` maps to a consumer. A subject naming more than
one CN names nobody: which of them the CA checked is unknowable.
"""

from __future__ import annotations

import ssl
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from sanic.worker.loader import CertLoader

from gateway.auth._paths import FilePath

__all__ = [
    "TlsCertLoader",
    "TlsSettings",
    "UpstreamTls",
    "client_ssl_context",
    "peer_common_name",
    "peer_common_names",
    "sanic_ssl",
    "server_ssl_context",
]

_VERIFY_MODES = {
    "none": ssl.CERT_NONE,
    "optional": ssl.CERT_OPTIONAL,
    "required": ssl.CERT_REQUIRED,
}
_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


class TlsSettings(BaseModel):
    """``server.tls`` — serve HTTPS; optionally ask for client certificates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cert_file: FilePath = Field(description="PEM certificate chain of the gateway.")
    key_file: FilePath = Field(description="PEM private key of the gateway.")
    key_password: SecretStr | None = Field(None, description="Password of an encrypted key file.")
    client_ca_file: FilePath | None = Field(None, description="CA bundle client certificates must chain to.")
    client_certificates: Literal["none", "optional", "required"] = Field(
        "none", description="Ask clients for a certificate: none, optional or required."
    )
    min_version: Literal["1.2", "1.3"] = Field("1.2", description="Lowest TLS version accepted.")

    @model_validator(mode="after")
    def _client_ca_for_client_certificates(self) -> TlsSettings:
        if self.client_certificates != "none" and self.client_ca_file is None:
            raise ValueError("client_certificates needs client_ca_file to verify them against")
        return self


class UpstreamTls(BaseModel):
    """TLS toward an upstream: a private CA and/or a client certificate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ca_file: FilePath | None = Field(None, description="CA bundle the upstream's certificate must chain to.")
    cert_file: FilePath | None = Field(None, description="Client certificate to present (PEM).")
    key_file: FilePath | None = Field(None, description="Key of the client certificate (PEM).")
    key_password: SecretStr | None = Field(None, description="Password of an encrypted key file.")

    @model_validator(mode="after")
    def _cert_with_key(self) -> UpstreamTls:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("give both cert_file and key_file, or neither")
        return self


def server_ssl_context(tls: TlsSettings) -> ssl.SSLContext:
    """The front door's SSL context; ``ssl.SSLError``/``OSError`` for unusable files."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = _VERSIONS[tls.min_version]
    context.load_cert_chain(tls.cert_file, tls.key_file, _password(tls.key_password))
    context.verify_mode = _VERIFY_MODES[tls.client_certificates]
    if tls.client_ca_file is not None:
        context.load_verify_locations(cafile=tls.client_ca_file)
    return context


class TlsCertLoader(CertLoader):
    """Builds the front door's SSL context inside each Sanic worker from ``server.tls``.

    An :class:`ssl.SSLContext` cannot be handed to worker processes, and the
    ``{cert, key}`` mapping Sanic can hand over has no client CA: each worker
    builds the full context from its own app's config instead.
    """

    def __init__(self, ssl_data: Any) -> None:
        super().__init__(ssl_data)
        self._given = bool(ssl_data)

    def load(self, app: Any) -> Any:
        config = getattr(app.ctx, "config", None)
        tls = config.server.tls if config is not None else None
        if tls is not None:
            return server_ssl_context(tls)
        return super().load(app) if self._given else None


def sanic_ssl(tls: TlsSettings | None) -> dict[str, str] | None:
    """What to pass Sanic's ``ssl=`` so :class:`TlsCertLoader` builds the context per worker."""
    if tls is None:
        return None
    return {"cert": str(tls.cert_file), "key": str(tls.key_file)}


def client_ssl_context(tls: UpstreamTls) -> ssl.SSLContext:
    """An SSL context for calls to an upstream (system CAs unless ``ca_file``)."""
    context = ssl.create_default_context(cafile=tls.ca_file)
    if tls.cert_file is not None and tls.key_file is not None:
        context.load_cert_chain(tls.cert_file, tls.key_file, _password(tls.key_password))
    return context


def peer_common_names(transport: Any) -> tuple[str, ...]:
    """Every subject CN of the verified client certificate on ``transport``, in order;
    ``()`` without one.

    ``getpeercert()`` returns a certificate only after the handshake verified
    it against ``client_ca_file``; an unverified one is never seen here.
    """
    cert = transport.get_extra_info("peercert") if transport is not None else None
    if not cert:
        return ()
    return tuple(str(value) for rdn in cert.get("subject", ()) for key, value in rdn if key == "commonName")


def peer_common_name(transport: Any) -> str | None:
    """The subject CN of the verified client certificate on ``transport`` when it names
    exactly one; ``None`` without a certificate, or for a subject naming several."""
    names = peer_common_names(transport)
    return names[0] if len(names) == 1 else None


def _password(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None
