"""XmlCodec: options and hints prepared once; which media types are XML."""

from __future__ import annotations

import pytest

from translators.xmljson import XmlCodec, XmlOptions, is_xml_media_type


@pytest.mark.parametrize(
    "content_type",
    [
        "application/xml",
        "text/xml; charset=ISO-8859-1",
        "application/soap+xml",
        "Application/Atom+XML",
    ],
)
def test_xml_media_types_are_recognised(content_type: str) -> None:
    assert is_xml_media_type(content_type)


@pytest.mark.parametrize(
    "content_type", [None, "", "application/json", "text/html", "application/xml-dtd", "xml"]
)
def test_other_media_types_are_not_xml(content_type: str | None) -> None:
    assert not is_xml_media_type(content_type)


def test_a_codec_converts_both_ways_with_its_options() -> None:
    codec = XmlCodec(
        XmlOptions(root="order", unwrap_root=True, force_list=["order/line"], xml_declaration=False)
    )
    written = codec.to_xml({"id": 7, "line": [{"sku": "A"}]})
    assert written == b"<order><id>7</id><line><sku>A</sku></line></order>"
    assert codec.to_dict(written) == {"id": "7", "line": [{"sku": "A"}]}


def test_a_codec_without_a_schema_file_has_no_hints() -> None:
    assert XmlCodec.from_options(XmlOptions()).hints is None
