"""``type: grpc`` upstream settings, validated when the config loads.

Either ``protos`` (compiled at start-up) or ``reflection: true`` (descriptors
fetched from the server) must be given::

    upstreams:
      library:
        type: grpc
        target: "127.0.0.1:50051"
        protos: [protos/library.proto]        # relative to the config file
        import_paths: [protos]
        timeout: 5                            # sent as the gRPC deadline
        tls: {ca: certs/ca.pem, cert: certs/client.pem, key: certs/client.key}
        metadata: {x-api-key: "${LIBRARY_KEY}"}
        forward_headers: [accept-language]
        response_metadata: [x-cache]
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.config import ConfigPath, ExistingPath
from gateway.plugin import UpstreamSettings
from translators.grpc.metadata import key_problem, outgoing

__all__ = ["GrpcSettings", "TlsSettings"]


class TlsSettings(BaseModel):
    """TLS to the upstream; omit ``tls`` entirely for plaintext."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ca: ExistingPath | None = Field(None, description="PEM CA bundle; the system roots when unset.")
    cert: ExistingPath | None = Field(None, description="PEM client certificate chain (mutual TLS).")
    key: ExistingPath | None = Field(None, description="PEM private key of the client certificate.")
    server_name: str | None = Field(
        None, description="Name to verify in the server certificate, when it differs from the target host."
    )

    @model_validator(mode="after")
    def _cert_with_key(self) -> TlsSettings:
        if (self.cert is None) != (self.key is None):
            raise ValueError("'cert' and 'key' go together: give both or neither")
        return self


class GrpcSettings(UpstreamSettings):
    """``type: grpc`` — a gRPC service, described by .proto files or by server reflection."""

    type: Literal["grpc"] = Field("grpc", description="A gRPC service.")
    target: str = Field(description="host:port of the gRPC server (any gRPC target string).")
    protos: tuple[ExistingPath, ...] = Field((), description="The .proto files describing the service.")
    import_paths: tuple[ConfigPath, ...] = Field(
        (), description="Folders imports are resolved from (google/* ones need none)."
    )
    reflection: bool = Field(
        False, description="Fetch the descriptors from the server's reflection service at start-up."
    )
    tls: TlsSettings | None = Field(None, description="TLS settings; plaintext when unset.")
    metadata: dict[str, str] = Field(
        default_factory=dict, description="Metadata sent with every call (values may be ${VAR} secrets)."
    )
    forward_headers: tuple[str, ...] = Field(
        (), description="Request headers passed on as metadata of the same (lower-case) name."
    )
    response_metadata: tuple[str, ...] = Field(
        (), description="Response metadata and trailers returned to the caller as headers."
    )
    preserve_proto_field_names: bool = Field(
        False, description="Answer with the .proto field names instead of lowerCamelCase."
    )
    emit_unpopulated: bool = Field(
        True, description="Print fields holding their default value (0, \"\", [], false)."
    )
    ignore_unknown_fields: bool = Field(
        False, description="Drop unknown JSON fields and query parameters instead of refusing them (400)."
    )
    health_check: bool = Field(
        True, description="Readiness asks grpc.health.v1 when the server offers it."
    )
    max_message_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, le=1 << 30, description="Largest message sent to or accepted from the upstream (a larger request is a 413, a larger reply a 502)."
    )
    direct_calls: bool = Field(
        True,
        description="Make unary calls on grpc.aio's Cython call, without its per-call Python wrapper "
        "(10-17 µs less CPU per call); false: grpc.aio's public API, also used if grpc's internals differ.",
    )

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, str]) -> dict[str, str]:
        """Keys and values grpc would send (a value under a ``-bin`` key is base64)."""
        lowered = _metadata_keys({k.lower(): v for k, v in value.items()})
        for key, text in lowered.items():
            try:
                outgoing(key, text)
            except ValueError as exc:
                raise ValueError(f"metadata {key!r}: {exc}") from None
        return lowered

    @field_validator("import_paths")
    @classmethod
    def _folders(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        missing = [p for p in value if not p.is_dir()]
        if missing:
            raise ValueError(f"folder not found: {missing[0]}")
        return value

    @field_validator("forward_headers")
    @classmethod
    def _forwarded(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_metadata_keys({v.lower(): "" for v in value}))

    @field_validator("response_metadata")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.lower() for v in value)

    @model_validator(mode="after")
    def _tls_in_one_place(self) -> GrpcSettings:
        if self.auth is not None and self.auth.tls is not None:
            raise ValueError("gRPC upstreams take their TLS settings under 'tls', not 'auth.tls'")
        return self

    @model_validator(mode="after")
    def _one_source(self) -> GrpcSettings:
        if bool(self.protos) == self.reflection:
            raise ValueError("give exactly one of 'protos' (a list of .proto files) or 'reflection: true'")
        return self


def _metadata_keys(keys: dict[str, str]) -> dict[str, str]:
    """``keys`` unchanged when each can be a metadata key Rosetta sends; else a ValueError naming one."""
    for key in keys:
        problem = key_problem(key)
        if problem is not None:
            raise ValueError(f"invalid metadata key {key!r}: {problem}")
    return keys
