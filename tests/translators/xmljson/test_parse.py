"""XML → dict: xmltodict's shape by default, and what each option changes."""

from __future__ import annotations

from pathlib import Path

import pytest
import xmltodict

from translators.xmljson import XmlOptions, xml_to_dict

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = sorted(FIXTURES.glob("**/*.xml"))

SOAP = b"""<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
               xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <soap:Body>
    <GetOrderResponse xmlns="urn:orders">
      <Order id="42"><Line><Sku>A</Sku></Line><Line><Sku>B</Sku></Line>
        <Note xsi:nil="true"/><Total currency="EUR">12.50</Total></Order>
    </GetOrderResponse>
  </soap:Body>
</soap:Envelope>"""

CORPUS = [
    b"<a/>",
    b"<a>text</a>",
    b"<a>  padded \n</a>",
    b"<a x='1' y=\"2\"/>",
    b"<a x='1'>t</a>",
    b"<a><b>1</b><b>2</b><c/></a>",
    b"<a><b>1</b><c>x</c><b>2</b></a>",
    b"<a>mixed <b>bold</b> tail</a>",
    b"<a><![CDATA[<not> & markup]]></a>",
    b"<a>&amp;&lt;&gt;&quot;&apos;&#x41;&#66;</a>",
    "<données clé='é'>数据 ✓ \U0001f600</données>".encode(),
    b"<a><!-- comment --><?pi data?><b/></a>",
    b"<a xml:lang='en'><b xml:space='preserve'> x </b></a>",
    b"<a xmlns='urn:d' xmlns:p='urn:p'><p:b p:x='1'/><c xmlns=''/></a>",
    b"<p:a xmlns:p='urn:1'><p:b xmlns:p='urn:2'/></p:a>",
    SOAP,
]


@pytest.mark.parametrize("document", CORPUS + [p.read_bytes() for p in SAMPLES])
def test_default_options_give_the_same_dict_as_xmltodict(document: bytes) -> None:
    assert xml_to_dict(document) == xmltodict.parse(document)


def test_fixture_samples_are_present() -> None:
    assert len(SAMPLES) >= 6, "the SOAP sample documents are missing"


def test_repeated_elements_become_a_list_and_single_ones_do_not() -> None:
    assert xml_to_dict(b"<a><b>1</b><b>2</b><c>3</c></a>") == {"a": {"b": ["1", "2"], "c": "3"}}


def test_attributes_take_the_prefix_and_text_goes_under_the_text_key() -> None:
    assert xml_to_dict(b'<a x="1">t</a>') == {"a": {"@x": "1", "#text": "t"}}


def test_empty_elements_are_null() -> None:
    assert xml_to_dict(b"<a><b/><c></c></a>") == {"a": {"b": None, "c": None}}


def test_custom_attribute_prefix_and_text_key() -> None:
    options = XmlOptions(attr_prefix="-", text_key="$")
    expected = xmltodict.parse(b'<a x="1">t</a>', attr_prefix="-", cdata_key="$")
    assert xml_to_dict(b'<a x="1">t</a>', options) == expected == {"a": {"-x": "1", "$": "t"}}


def test_text_always_as_property_matches_xmltodict_force_cdata() -> None:
    document = b"<a><b>1</b><c/><d x='1'>2</d></a>"
    options = XmlOptions(text_always_as_property=True)
    assert xml_to_dict(document, options) == xmltodict.parse(document, force_cdata=True)
    assert xml_to_dict(document, options)["a"]["b"] == {"#text": "1"}


def test_whitespace_is_kept_when_strip_whitespace_is_off() -> None:
    document = b"<a>\n  <b>  x  </b>\n  <c>   </c>\n</a>"
    result = xml_to_dict(document, XmlOptions(strip_whitespace=False))
    assert result == {"a": {"b": "  x  ", "c": None}}


def test_prefix_mode_keeps_the_documents_prefixes_and_declarations() -> None:
    result = xml_to_dict(b"<p:a xmlns:p='urn:p' p:x='1'><p:b/></p:a>")
    assert result == {"p:a": {"@xmlns:p": "urn:p", "@p:x": "1", "p:b": None}}


def test_strip_mode_gives_local_names_and_drops_declarations() -> None:
    result = xml_to_dict(SOAP, XmlOptions(namespaces="strip"))
    order = result["Envelope"]["Body"]["GetOrderResponse"]["Order"]
    assert order["Line"] == [{"Sku": "A"}, {"Sku": "B"}]
    assert order["Note"] == {"@nil": "true"}
    assert "@xmlns" not in result["Envelope"]["Body"]["GetOrderResponse"]


def test_a_namespace_map_gives_stable_prefixes_whatever_the_document_uses() -> None:
    options = XmlOptions(
        namespaces={"urn:orders": "o", "http://schemas.xmlsoap.org/soap/envelope/": ""}
    )
    one = xml_to_dict(b"<x:r xmlns:x='urn:orders'><x:id>1</x:id></x:r>", options)
    two = xml_to_dict(b"<r xmlns='urn:orders'><id>1</id></r>", options)
    assert one == two == {"o:r": {"o:id": "1"}}
    body = xml_to_dict(SOAP, options)["Envelope"]["Body"]
    assert "o:GetOrderResponse" in body
    assert "@xmlns:xsi" in xml_to_dict(SOAP, options)["Envelope"]  # unmapped: kept as written


def test_force_list_paths_start_at_the_root_element() -> None:
    document = b"<inventory><item><tag>a</tag></item><other><item/></other></inventory>"
    result = xml_to_dict(document, XmlOptions(force_list=["inventory/item", "inventory/item/tag"]))
    assert result == {"inventory": {"item": [{"tag": ["a"]}], "other": {"item": None}}}


def test_force_list_wildcard_matches_any_one_name() -> None:
    document = b"<r><a><v>1</v></a><b><v>2</v></b></r>"
    result = xml_to_dict(document, XmlOptions(force_list=["r/*/v"]))
    assert result == {"r": {"a": {"v": ["1"]}, "b": {"v": ["2"]}}}


def test_force_list_matches_local_names_whatever_the_prefix() -> None:
    document = b"<p:r xmlns:p='urn:p'><p:i>1</p:i></p:r>"
    assert xml_to_dict(document, XmlOptions(force_list=["r/i"])) == {
        "p:r": {"@xmlns:p": "urn:p", "p:i": ["1"]}
    }


def test_infer_types_recognises_numbers_booleans_and_nil() -> None:
    document = (
        b"<r xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'><i>42</i><n>-7</n><f>4.50</f>"
        b"<t>true</t><z>007</z><big>9007199254740993</big><s>4.5e3</s><nil xsi:nil='true'/></r>"
    )
    result = xml_to_dict(document, XmlOptions(infer_types=True, namespaces="strip"))
    assert result["r"] == {
        "i": 42, "n": -7, "f": 4.5, "t": True, "z": "007",
        "big": "9007199254740993", "s": "4.5e3", "nil": None,
    }  # fmt: skip


def test_types_are_not_inferred_by_default() -> None:
    assert xml_to_dict(b"<r><i>42</i><t>true</t></r>") == {"r": {"i": "42", "t": "true"}}


def test_unwrap_root_returns_the_root_elements_content() -> None:
    assert xml_to_dict(b"<order><id>1</id></order>", XmlOptions(unwrap_root=True)) == {"id": "1"}
    assert xml_to_dict(b"<n>5</n>", XmlOptions(unwrap_root=True)) == {"#text": "5"}
    assert xml_to_dict(b"<n/>", XmlOptions(unwrap_root=True)) == {}


def test_latin1_and_utf16_documents_are_decoded_by_their_declaration() -> None:
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><a>café</a>'.encode("latin-1")
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><a>café</a>'.encode("utf-16")
    assert xml_to_dict(latin) == xml_to_dict(utf16) == {"a": "café"}


def test_multibyte_declared_encodings_are_transcoded() -> None:
    document = '<?xml version="1.0" encoding="Shift_JIS"?><a>日本語</a>'.encode("shift_jis")
    assert xml_to_dict(document) == {"a": "日本語"}


def test_the_name_cache_is_bounded() -> None:
    options = XmlOptions()
    for start in range(0, 6000, 1000):
        names = "".join(f"<e{i}/>" for i in range(start, start + 1000))
        xml_to_dict(f"<r>{names}</r>".encode(), options)
    assert len(options.name_cache.elements) <= options.name_cache.limit + 1001
