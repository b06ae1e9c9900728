"""One upstream's (or route's) XML codec: options and schema hints, prepared once.

The REST translator builds one :class:`XmlCodec` per upstream at start-up
(reading the ``schema`` file there, never per request) and calls
:meth:`~XmlCodec.to_dict` / :meth:`~XmlCodec.to_xml`, which do no I/O.
"""

from __future__ import annotations

from typing import Any

from translators.xmljson.hints import SchemaHints, build_plan
from translators.xmljson.options import DEFAULT_OPTIONS, XmlOptions
from translators.xmljson.parse import parse_with_plan
from translators.xmljson.write import dict_to_xml
from translators.xmljson.xsd import load_schema

__all__ = ["XML_CONTENT_TYPE", "XmlCodec", "is_xml_media_type"]

#: The Content-Type of the XML the codec writes.
XML_CONTENT_TYPE = "application/xml; charset=utf-8"


def is_xml_media_type(content_type: str | None) -> bool:
    """True for ``application/xml``, ``text/xml`` and ``*/*+xml`` (parameters ignored).

    Example: ``is_xml_media_type("application/soap+xml; charset=utf-8")`` is True.
    """
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("application/xml", "text/xml") or (
        media.endswith("+xml") and media.count("/") == 1
    )


class XmlCodec:
    """XML ↔ JSON for one set of options.

    Example::

        codec = XmlCodec.from_options(XmlOptions(schema="xsd/inventory.xsd"))  # start-up
        body = codec.to_dict(reply.content)                                    # per call
    """

    __slots__ = ("hints", "options", "_plan")

    def __init__(
        self, options: XmlOptions = DEFAULT_OPTIONS, hints: SchemaHints | None = None
    ) -> None:
        self.options = options
        self.hints = hints
        self._plan = build_plan(options.force_list, hints)

    @classmethod
    def from_options(cls, options: XmlOptions) -> XmlCodec:
        """Build the codec, loading ``options.schema_file`` if set (raises :class:`SchemaError`)."""
        hints = load_schema(options.schema_file) if options.schema_file is not None else None
        return cls(options, hints)

    def to_dict(self, data: bytes) -> dict[str, Any]:
        """:func:`xml_to_dict` with this codec's options and hints."""
        return parse_with_plan(data, self.options, self._plan, self.hints is not None)

    def to_xml(self, obj: Any) -> bytes:
        """:func:`dict_to_xml` with this codec's options."""
        return dict_to_xml(obj, self.options)
