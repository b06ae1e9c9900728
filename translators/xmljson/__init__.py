"""Rosetta's XML ↔ JSON codec: xmltodict's JSON shape, schema-aware, safe, pure.

Public API::

    xml_to_dict(data: bytes, options=XmlOptions(), hints=None) -> dict
    dict_to_xml(obj, options=XmlOptions()) -> bytes
    XmlCodec.from_options(options)      # options + schema hints, prepared at start-up
    load_schema(path) -> SchemaHints    # XSD or WSDL → arrays and scalar types
    to_gateway_error(exc, "client" | "upstream") -> GatewayError  (400 / 502)
    is_xml_media_type(content_type) -> bool   # which replies to convert

Conversion functions never do I/O; only :func:`load_schema` reads files.
See docs/xml-json.md for every option with examples.
"""

from translators.xmljson.codec import XML_CONTENT_TYPE, XmlCodec, is_xml_media_type
from translators.xmljson.errors import (
    JsonNotXml,
    XmlError,
    XmlForbidden,
    XmlLimitExceeded,
    XmlSyntaxError,
    to_gateway_error,
)
from translators.xmljson.hints import ElementHint, SchemaHints
from translators.xmljson.options import DEFAULT_OPTIONS, XmlOptions
from translators.xmljson.parse import xml_to_dict
from translators.xmljson.write import dict_to_xml
from translators.xmljson.xsd import SchemaError, hints_from_schemas, load_schema

__all__ = [
    "DEFAULT_OPTIONS",
    "XML_CONTENT_TYPE",
    "ElementHint",
    "JsonNotXml",
    "SchemaError",
    "SchemaHints",
    "XmlCodec",
    "XmlError",
    "XmlForbidden",
    "XmlLimitExceeded",
    "XmlOptions",
    "XmlSyntaxError",
    "dict_to_xml",
    "hints_from_schemas",
    "is_xml_media_type",
    "load_schema",
    "to_gateway_error",
    "xml_to_dict",
]
