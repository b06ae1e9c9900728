"""dict → XML: xmltodict.unparse's meaning, stricter names, and the JSON → XML options."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
import xmltodict

from tests.translators.xmljson.strategies import c14n
from translators.xmljson import JsonNotXml, XmlLimitExceeded, XmlOptions, dict_to_xml, xml_to_dict

BARE = XmlOptions(xml_declaration=False)

VALUES = [
    {"a": None},
    {"a": "text"},
    {"a": {"@x": "1", "#text": "t"}},
    {"a": {"b": ["1", "2"], "c": {"d": None}}},
    {"a": {"@x": "quote \" and ' & < >", "b": "tab\tnew\nline"}},
    {"a": {"b": [{"@i": "1"}, {"@i": "2", "#text": "two"}], "c": []}},
    {"données": {"@clé": "é", "#text": "数据 ✓ \U0001f600"}},
    {"p:a": {"@xmlns:p": "urn:p", "p:b": {"@p:x": "1"}}},
    {"a": {"@xmlns": "urn:d", "b": "x"}},
    {"a": {"n": 1, "f": 2.5, "t": True, "no": False}},
]


@pytest.mark.parametrize("value", VALUES)
def test_the_output_means_what_xmltodict_unparse_means(value: dict) -> None:  # type: ignore[type-arg]
    assert c14n(dict_to_xml(value)) == c14n(xmltodict.unparse(value).encode())


def test_the_xml_declaration_is_written_unless_turned_off() -> None:
    assert dict_to_xml({"a": "x"}) == b'<?xml version="1.0" encoding="utf-8"?>\n<a>x</a>'
    assert dict_to_xml({"a": "x"}, BARE) == b"<a>x</a>"


def test_text_and_attributes_are_escaped() -> None:
    value = {"a": {"@v": "<\"&'>\t\n\r", "#text": "]]> & <b> \r x"}}
    written = dict_to_xml(value, BARE)
    assert written == b'<a v="&lt;&quot;&amp;\'>&#9;&#10;&#13;">]]&gt; &amp; &lt;b&gt; &#13; x</a>'
    assert xml_to_dict(written) == value


def test_scalars_are_written_in_xsd_lexical_form() -> None:
    value = {"r": {"t": True, "f": False, "i": -3, "x": 0.1, "e": 1e300, "d": Decimal("1.10")}}
    assert dict_to_xml(value, BARE) == (
        b"<r><t>true</t><f>false</f><i>-3</i><x>0.1</x><e>1e+300</e><d>1.10</d></r>"
    )
    special = {"r": {"a": math.inf, "b": -math.inf, "c": math.nan}}
    assert dict_to_xml(special, BARE) == b"<r><a>INF</a><b>-INF</b><c>NaN</c></r>"


def test_root_wraps_an_object_a_scalar_or_an_array() -> None:
    options = XmlOptions(root="order", item_name="item", xml_declaration=False)
    assert dict_to_xml({"id": 1, "@v": "2"}, options) == b'<order v="2"><id>1</id></order>'
    assert dict_to_xml("x", options) == b"<order>x</order>"
    assert dict_to_xml([1, 2], options) == b"<order><item>1</item><item>2</item></order>"
    assert dict_to_xml(None, options) == b"<order></order>"


def test_item_name_wraps_arrays_inside_arrays() -> None:
    options = XmlOptions(item_name="v", xml_declaration=False)
    written = dict_to_xml({"m": {"row": [[1, 2], [3]]}}, options)
    assert written == b"<m><row><v>1</v><v>2</v></row><row><v>3</v></row></m>"


def test_null_is_an_empty_element_a_nil_one_or_nothing() -> None:
    value = {"r": {"a": None, "@x": None, "b": "1"}}
    empty = dict_to_xml(value, BARE)
    nil = dict_to_xml(value, XmlOptions(null="nil", xml_declaration=False))
    omit = dict_to_xml(value, XmlOptions(null="omit", xml_declaration=False))
    assert empty == b'<r x=""><a></a><b>1</b></r>'
    assert nil == (
        b'<r xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b'<a xsi:nil="true"></a><b>1</b></r>'
    )
    assert omit == b"<r><b>1</b></r>"


def test_xmlns_declares_namespaces_on_the_root() -> None:
    options = XmlOptions(xmlns={"": "urn:d", "s": "urn:s"}, xml_declaration=False)
    assert dict_to_xml({"a": {"s:b": "1"}}, options) == (
        b'<a xmlns="urn:d" xmlns:s="urn:s"><s:b>1</s:b></a>'
    )


def test_a_namespace_map_declares_its_prefixes_and_round_trips() -> None:
    options = XmlOptions(namespaces={"urn:orders": "o"}, xml_declaration=False)
    value = xml_to_dict(b"<x:r xmlns:x='urn:orders'><x:id>1</x:id></x:r>", options)
    written = dict_to_xml(value, options)
    assert written == b'<o:r xmlns:o="urn:orders"><o:id>1</o:id></o:r>'


def test_the_documents_own_declaration_wins_over_the_options() -> None:
    options = XmlOptions(xmlns={"p": "urn:option"}, xml_declaration=False)
    written = dict_to_xml({"p:a": {"@xmlns:p": "urn:own"}}, options)
    assert written == b'<p:a xmlns:p="urn:own"></p:a>'


def test_xmltodicts_namespace_dict_form_is_accepted() -> None:
    written = dict_to_xml({"a": {"@xmlns": {"": "urn:d", "p": "urn:p"}, "p:b": "1"}}, BARE)
    assert c14n(written) == c14n(b'<a xmlns="urn:d" xmlns:p="urn:p"><p:b>1</p:b></a>')


@pytest.mark.parametrize(
    ("value", "options", "message"),
    [
        ({"a b": 1}, BARE, "not a valid XML element name"),
        ({"a": {"1x": 1}}, BARE, "not a valid XML element name"),
        ({"a": {"<x": 1}}, BARE, "not a valid XML element name"),
        ({"a": {"@bad name": 1}}, BARE, "not a valid XML attribute name"),
        ({"a": {"@": 1}}, BARE, "not a valid XML attribute name"),
        ({"a": {"b": [[1, 2]]}}, BARE, "array inside an array needs item_name"),
        ({"a": 1, "b": 2}, BARE, "exactly one member"),
        ([1, 2], BARE, "exactly one member"),
        ({"a": [1, 2]}, BARE, "one root element"),
        ([1], XmlOptions(root="r"), "needs item_name"),
        ({"a": {"p:b": 1}}, BARE, "prefix 'p' of 'p:b' is not declared"),
        ({"a": {"@p:x": 1}}, BARE, "prefix 'p' of 'p:x' is not declared"),
        ({"xmlns:a": 1}, BARE, "prefix 'xmlns' is reserved"),
        ({"a": {"@xmlns:p": ""}}, BARE, "needs a URI string"),
        ({"a": {"@xmlns:p": 5}}, BARE, "needs a URI string"),
        ({"a": {"#text": {"x": 1}}}, BARE, "must hold text"),
        ({"a": {"@x": [1]}}, BARE, "must hold a scalar"),
        ({"a": {"b": "nul \x00"}}, BARE, r"U\+0000 cannot appear"),
        ({"a": {"b": "\ud800"}}, BARE, r"U\+D800 cannot appear"),
        ({"a": {"@x": "\x1b"}}, BARE, r"U\+001B cannot appear"),
        ({"a": {"b": b"bytes"}}, BARE, "type bytes has no XML form"),
        ({"a": {"b": {1, 2}}}, BARE, "type set has no XML form"),
    ],
)
def test_json_that_cannot_be_xml_is_refused_with_a_clear_error(value, options, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(JsonNotXml, match=message):
        dict_to_xml(value, options)


def test_the_error_says_where_in_the_document_the_problem_is() -> None:
    with pytest.raises(JsonNotXml) as caught:
        dict_to_xml({"order": {"lines": [{"ok": 1}, {"bad key": 2}]}})
    assert caught.value.path == ["order", "lines", "bad key"]
    assert "(at order/lines/bad key)" in str(caught.value)


def test_json_nested_deeper_than_max_depth_is_refused() -> None:
    value: dict = {"leaf": "x"}  # type: ignore[type-arg]
    for _ in range(30):
        value = {"n": value}
    with pytest.raises(XmlLimitExceeded, match="max_depth=20") as caught:
        dict_to_xml(value, XmlOptions(max_depth=20))
    assert caught.value.limit == "max_depth"
    deep: dict = {"leaf": "x"}  # type: ignore[type-arg]
    for _ in range(10_000):
        deep = {"n": deep}
    with pytest.raises(XmlLimitExceeded):
        dict_to_xml(deep)
