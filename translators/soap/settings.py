"""The ``type: soap`` upstream's settings, validated when the config loads.

Example::

    upstreams:
      calculator:
        type: soap
        wsdl: wsdl/calculator.wsdl            # relative to the config file
        address: "http://127.0.0.1:9102/soap"  # overrides soap:address
        timeout: 5
        fault_status: {"Client.Auth": 401}
        wsse: {username: svc, password: "${CALC_PASSWORD}", digest: true}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from lxml import etree
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.config import ExistingPath
from gateway.plugin import UpstreamSettings

__all__ = ["BasicAuthSettings", "PoolSettings", "SoapSettings", "WsseSettings"]

_REMOTE = ("http://", "https://")


class WsseSettings(BaseModel):
    """WS-Security UsernameToken added to every call (OASIS WSS 1.1 UsernameToken Profile)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(description="The token's Username.")
    password: SecretStr = Field(description="The password; use ${VAR} so it stays out of the repo.")
    digest: bool = Field(False, description="Send PasswordDigest (with Nonce and Created), not text.")
    timestamp: bool = Field(True, description="Add a wsu:Timestamp (Created/Expires) to the header.")
    ttl: int = Field(300, ge=1, le=86_400, description="Seconds until the wsu:Timestamp expires.")


class BasicAuthSettings(BaseModel):
    """HTTP Basic credentials sent to the backend (RFC 7617)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(description="User name; must not contain ':'.")
    password: SecretStr = Field(description="The password; use ${VAR} so it stays out of the repo.")

    @field_validator("username")
    @classmethod
    def _no_colon(cls, value: str) -> str:
        if ":" in value:
            raise ValueError("a Basic user name cannot contain ':'")
        return value


class PoolSettings(BaseModel):
    """Connection pool to the backend, shared by every call of the upstream."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_connections: int = Field(100, ge=1, le=10_000, description="Open connections at most.")
    keepalive_expiry: float = Field(30.0, gt=0, description="Seconds an idle connection is kept.")
    connect_timeout: float = Field(5.0, gt=0, description="Seconds to establish a connection.")


def _check_header_xml(value: str) -> str:
    try:
        etree.fromstring(value.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not a well-formed XML element: {exc}") from None
    return value


HeaderXml = Annotated[str, AfterValidator(_check_header_xml)]


class SoapSettings(UpstreamSettings):
    """Settings of a SOAP upstream: where its WSDL is, how to call it, how to map faults."""

    type: str = Field("soap", description="Translator: soap.")
    wsdl: str = Field(description="The WSDL: a local file (relative to the config file) or a URL.")
    allow_remote_wsdl: bool = Field(
        False, description="Allow 'wsdl' and its imports to be http(s) URLs, fetched once at start-up."
    )
    address: str | None = Field(None, description="Endpoint URL; overrides the WSDL's soap:address.")
    service: str | None = Field(None, description="wsdl:service to use when there are several.")
    port: str | None = Field(
        None, description="wsdl:port to use; default: the first SOAP 1.1 port, else SOAP 1.2."
    )
    strict: bool = Field(True, description="zeep strict mode when parsing the WSDL.")
    decimal_as: Literal["string", "number"] = Field(
        "string", description="How xs:decimal values appear in JSON (string keeps every digit)."
    )
    fault_status: Mapping[str, int] = Field(
        default_factory=dict,
        description="HTTP status by fault code, e.g. {'Client': 400, 'Server.Busy': 503}.",
    )
    max_response_bytes: int = Field(
        10_485_760, ge=1024, description="Largest backend response accepted; larger is a 502."
    )
    wsse: WsseSettings | None = Field(None, description="WS-Security UsernameToken credentials.")
    basic_auth: BasicAuthSettings | None = Field(None, description="HTTP Basic credentials.")
    soap_headers: tuple[HeaderXml, ...] = Field(
        (), description="XML elements added to every call's soap:Header."
    )
    http_headers: Mapping[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers sent with every call."
    )
    forward_headers: tuple[str, ...] = Field(
        (), description="Caller's request headers passed on to the backend (none by default)."
    )
    pool: PoolSettings = Field(default_factory=PoolSettings)  # type: ignore[arg-type]

    @field_validator("wsdl")
    @classmethod
    def _wsdl_location(cls, value: str, info: ValidationInfo) -> str:
        if value.startswith(_REMOTE):
            return value
        return str(_existing(value, info))

    @field_validator("fault_status")
    @classmethod
    def _statuses(cls, value: Mapping[str, int]) -> Mapping[str, int]:
        for code, status in value.items():
            if not 400 <= status <= 599:
                raise ValueError(f"fault_status[{code!r}]: {status} is not an HTTP error status")
        return value

    @field_validator("address")
    @classmethod
    def _http_address(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(_REMOTE):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _remote_allowed(self) -> SoapSettings:
        if self.wsdl.startswith(_REMOTE) and not self.allow_remote_wsdl:
            raise ValueError("wsdl: a URL needs 'allow_remote_wsdl: true' (or use a local copy)")
        if self.forward_auth and self.basic_auth is not None:
            raise ValueError("'forward_auth' and 'basic_auth' both set the Authorization header")
        return self


def _existing(value: str, info: ValidationInfo) -> Path:
    from pydantic import TypeAdapter

    return TypeAdapter(ExistingPath).validate_python(value, context=info.context)
