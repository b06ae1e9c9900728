"""JSON at the front door, XML at the backend: the ``format: xml`` half of ``rest``.

Request bodies (JSON) become XML with the upstream's options (``root``,
namespaces …); XML responses, recognised by their media type, become JSON,
with arrays and types from the XSD when one is configured. Other responses
pass through untouched. A route may override options under ``options.xml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gateway.errors import GatewayError
from gateway.plugin import Call
from translators.xmljson import (
    XML_CONTENT_TYPE,
    SchemaError,
    XmlCodec,
    XmlError,
    XmlOptions,
    is_xml_media_type,
    to_gateway_error,
)

__all__ = ["XmlBridge"]

_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.1"
# Headers about the caller's JSON body or encodings the converter cannot read.
_REQUEST_DROP = frozenset({"content-type", "accept", "accept-encoding"})
_RESPONSE_DROP = frozenset({"content-type", "content-encoding", "content-length"})


class XmlBridge:
    """Converts one upstream's calls; codecs are built at start-up, never per call."""

    def __init__(self, options: XmlOptions, config_dir: Path) -> None:
        self._default = _codec(options)
        self._config_dir = config_dir
        self._routes: dict[int, XmlCodec] = {}

    def prepare_route(self, options: Mapping[str, Any]) -> None:
        """Build the codec of a route that overrides ``xml`` options."""
        overrides = options.get("xml")
        if overrides is None:
            return
        try:
            merged = self._default.options.with_overrides(overrides, self._config_dir)
        except ValidationError as exc:
            raise ValueError(f"options.xml: {exc.errors()[0]['msg']}") from None
        same_schema = merged.schema_file == self._default.options.schema_file
        self._routes[id(options)] = (
            XmlCodec(merged, self._default.hints) if same_schema else _codec(merged)
        )

    def codec(self, call: Call) -> XmlCodec:
        return self._routes.get(id(call.route_options), self._default)

    async def request_body(self, call: Call, codec: XmlCodec) -> bytes | None:
        """The call's JSON body as XML bytes; ``None`` when there is no body."""
        obj = await call.json_body()
        if obj is None:
            return None
        try:
            return codec.to_xml(obj)
        except XmlError as exc:
            raise to_gateway_error(exc, "client") from None

    @staticmethod
    def request_headers(headers: list[tuple[str, str]], has_body: bool) -> list[tuple[str, str]]:
        kept = [(k, v) for k, v in headers if k.lower() not in _REQUEST_DROP]
        kept.append(("Accept", _ACCEPT))
        if has_body:
            kept.append(("Content-Type", XML_CONTENT_TYPE))
        return kept

    @staticmethod
    def is_xml(headers: list[tuple[str, str]]) -> bool:
        return is_xml_media_type(_header(headers, "content-type"))

    @staticmethod
    def response(raw: bytes, codec: XmlCodec) -> Any:
        """The reply's JSON: ``None`` for no body at all (204, 304, HEAD, ``Content-Length: 0``).

        An empty body is no XML document, but neither is it a broken one: the
        backend said nothing, so the caller gets its status and no content.
        """
        if not raw:
            return None
        try:
            return codec.to_dict(raw)
        except XmlError as exc:
            raise to_gateway_error(exc, "upstream") from None

    @staticmethod
    def response_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, v) for k, v in headers if k.lower() not in _RESPONSE_DROP]


def _codec(options: XmlOptions) -> XmlCodec:
    try:
        return XmlCodec.from_options(options)
    except SchemaError as exc:
        raise GatewayError(f"xml.schema: {exc}") from None


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None
