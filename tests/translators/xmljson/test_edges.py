"""Edge cases at the codec's borders: values JSON cannot carry, merged names, namespaces, nesting."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from translators.xmljson import (
    ElementHint,
    JsonNotXml,
    SchemaHints,
    XmlError,
    XmlLimitExceeded,
    XmlOptions,
    dict_to_xml,
    xml_to_dict,
)
from translators.xmljson.names import first_invalid_char

BARE = XmlOptions(xml_declaration=False)


def _typed(xsd_type: str) -> SchemaHints:
    return SchemaHints({"a": ElementHint(type=xsd_type, attributes={"n": xsd_type})})


def _typed_value(xsd_type: str, text: str, **options: object) -> object:
    document = f'<a n="{text}">{text}</a>'.encode()
    value = xml_to_dict(document, XmlOptions(**options), _typed(xsd_type))["a"]  # type: ignore[arg-type]
    orjson.dumps(value)  # the gateway can always write what the codec returns
    return value


@pytest.mark.parametrize("digits", [21, 5000, 90_000])
def test_an_integer_too_large_for_json_stays_the_text_it_is(digits: int) -> None:
    text = "9" * digits
    assert _typed_value("integer", text) == {"@n": text, "#text": text}
    assert _typed_value("long", "-" + text) == {"@n": "-" + text, "#text": "-" + text}


def test_integers_at_the_edges_of_64_bits_are_numbers() -> None:
    top, bottom = str(2**64 - 1), str(-(2**63))
    assert _typed_value("unsignedLong", top) == {"@n": 2**64 - 1, "#text": 2**64 - 1}
    assert _typed_value("long", bottom) == {"@n": -(2**63), "#text": -(2**63)}
    assert _typed_value("integer", "0" * 30 + "7") == {"@n": 7, "#text": 7}
    too_big = str(2**64)
    assert _typed_value("integer", too_big) == {"@n": too_big, "#text": too_big}


@pytest.mark.parametrize("text", ["1e400", "-1e400", "1" + "0" * 400])
def test_a_double_that_overflows_stays_the_text_it_is(text: str) -> None:
    assert _typed_value("double", text) == {"@n": text, "#text": text}


def test_a_decimal_too_large_for_a_number_stays_the_text_it_is() -> None:
    huge = "1" + "0" * 400
    assert _typed_value("decimal", huge + ".5", decimals="number")["#text"] == huge + ".5"  # type: ignore[index]
    assert _typed_value("decimal", huge, decimals="number")["#text"] == huge  # type: ignore[index]


STRIP = XmlOptions(namespaces="strip")
TWO_TYPES = (
    b'<a xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    b'ATTRS><b>1</b></a>'
)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (b'type="plain" xsi:type="xs:int"', {"@type": "plain", "@xsi:type": "xs:int"}),
        (b'xsi:type="xs:int" type="plain"', {"@xsi:type": "xs:int", "@type": "plain"}),
    ],
)
def test_strip_keeps_both_attributes_that_share_a_local_name(
    attributes: bytes, expected: dict[str, str]
) -> None:
    result = xml_to_dict(TWO_TYPES.replace(b"ATTRS", attributes), STRIP)["a"]
    assert result == {**expected, "b": "1"}


def test_strip_keeps_two_namespaced_attributes_with_one_local_name() -> None:
    document = b'<a xmlns:p="urn:p" xmlns:q="urn:q" p:id="1" q:id="2"/>'
    assert xml_to_dict(document, STRIP) == {"a": {"@id": "1", "@q:id": "2"}}


def test_strip_keeps_three_attributes_with_one_local_name() -> None:
    document = b'<a xmlns:p="urn:p" xmlns:q="urn:q" p:id="1" q:id="2" id="3"/>'
    assert xml_to_dict(document, STRIP) == {"a": {"@q:id": "2", "@p:id": "1", "@id": "3"}}


def test_a_namespace_map_never_merges_two_attributes() -> None:
    document = b'<a xmlns:p="urn:p" xmlns:q="urn:q" p:id="1" q:id="2"/>'
    mapped = xml_to_dict(document, XmlOptions(namespaces={"urn:p": "q"}))["a"]
    assert mapped["@q:id"] == "2" and mapped["@p:id"] == "1"


def test_merged_attribute_names_cost_nothing_when_they_do_not_collide() -> None:
    document = b'<a xmlns:p="urn:p" p:x="1" y="2"><p:b p:x="3"/></a>'
    assert xml_to_dict(document, STRIP) == {"a": {"@x": "1", "@y": "2", "b": {"@x": "3"}}}


@pytest.mark.parametrize(
    "declaration",
    [
        {"@xmlns:xml": "urn:not-xml"},
        {"@xmlns": {"xml": "urn:not-xml"}},
        {"@xmlns": "http://www.w3.org/XML/1998/namespace"},
        {"@xmlns:p": "http://www.w3.org/XML/1998/namespace"},
        {"@xmlns:p": "http://www.w3.org/2000/xmlns/"},
        {"@xmlns": "http://www.w3.org/2000/xmlns/"},
    ],
)
def test_json_cannot_rebind_the_reserved_namespaces(declaration: dict[str, object]) -> None:
    with pytest.raises(JsonNotXml, match="cannot be bound"):
        dict_to_xml({"a": {**declaration, "b": 1}}, BARE)


def test_the_xml_prefix_may_be_declared_with_its_own_namespace() -> None:
    written = dict_to_xml({"a": {"@xmlns:xml": "http://www.w3.org/XML/1998/namespace"}}, BARE)
    etree.fromstring(written)


def _nested_xml(levels: int) -> bytes:
    """Each level holds two ``a`` elements, so each is a dict inside a list in the JSON."""
    return b"<a><a/>" * (levels - 1) + b"<a/>" + b"</a>" * (levels - 1)


def test_xml_nesting_the_gateway_cannot_write_as_json_is_a_limit() -> None:
    options = XmlOptions(max_depth=500)
    orjson.dumps(xml_to_dict(_nested_xml(127), options))
    with pytest.raises(XmlLimitExceeded) as caught:
        xml_to_dict(_nested_xml(200), options)
    assert caught.value.limit == "json_nesting"


def test_json_nesting_up_to_max_depth_500_is_a_limit_not_a_crash() -> None:
    value: dict = {"leaf": "x"}  # type: ignore[type-arg]
    for _ in range(450):
        value = {"n": value}
    with pytest.raises(XmlLimitExceeded) as caught:
        dict_to_xml({"r": value}, XmlOptions(max_depth=500))
    assert caught.value.limit == "json_nesting"
    value = {"leaf": "x"}
    for _ in range(250):
        value = {"n": value}
    assert dict_to_xml({"r": value}, XmlOptions(max_depth=500)).endswith(b"</n></r>")


def test_an_integer_with_more_digits_than_python_writes_is_refused() -> None:
    with pytest.raises(JsonNotXml, match="too many digits"):
        dict_to_xml({"a": {"n": 10**5000}}, BARE)


def test_every_codec_failure_on_hostile_input_is_an_xml_error() -> None:
    hostile = [b"", b"  \n", b"<a/>junk", b"<a>\xff</a>", b'<?xml version="1.0" encoding="x"?><a/>']
    for document in hostile:
        with pytest.raises(XmlError):
            xml_to_dict(document)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20))
def test_any_string_either_round_trips_or_is_refused(text: str, attribute: str) -> None:
    value = {"a": {"@v": attribute, "b": text}}
    keep = XmlOptions(strip_whitespace=False)
    try:
        written = dict_to_xml(value, keep)
    except JsonNotXml:
        assert first_invalid_char(text + attribute) >= 0
        return
    back = xml_to_dict(written, keep)["a"]
    assert back["@v"] == attribute
    assert back.get("b") == (text if text.strip() else None)
