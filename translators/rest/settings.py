"""Settings of ``type: rest`` upstreams."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from gateway.plugin import UpstreamSettings
from translators.xmljson import XmlOptions

__all__ = ["RestSettings"]


class RestSettings(UpstreamSettings):
    """``type: rest`` — an HTTP/1.1 backend speaking JSON, XML, or anything (passed through)."""

    type: Literal["rest"] = Field("rest", description="An HTTP/1.1 backend.")
    url: str = Field(description="Base URL of the backend, e.g. http://127.0.0.1:9101/api.")
    connect_timeout: float = Field(5.0, gt=0, le=300, description="Seconds to open a connection.")
    max_connections: int = Field(256, ge=1, le=10_000, description="Pooled connections at most.")
    headers: dict[str, str] = Field(default_factory=dict, description="Headers added to every call.")
    stream_threshold: int = Field(
        65_536, ge=0, description="Bodies larger than this (or of unknown size) are streamed."
    )
    format: Literal["json", "xml"] = Field(
        "json",
        description="xml: JSON at the front door, XML to and from the backend (see docs/xml-json.md).",
    )
    xml: XmlOptions = Field(
        default_factory=XmlOptions, description="XML conversion options when format is xml."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")
