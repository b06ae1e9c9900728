"""With schema hints: maxOccurs > 1 is always a list, scalars get their XSD type."""

from __future__ import annotations

from pathlib import Path

import pytest

from translators.xmljson import XmlCodec, XmlOptions, load_schema, xml_to_dict

SCHEMA = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:s" targetNamespace="urn:s">
  <xs:element name="order"><xs:complexType><xs:sequence>
    <xs:element name="id" type="xs:long"/>
    <xs:element name="line" maxOccurs="unbounded"><xs:complexType><xs:sequence>
      <xs:element name="qty" type="xs:int"/>
      <xs:element name="price" type="xs:decimal"/>
      <xs:element name="weight" type="xs:double"/>
      <xs:element name="gift" type="xs:boolean"/>
      <xs:element name="note" type="xs:string" nillable="true"/>
      <xs:element name="when" type="xs:date"/>
      <xs:element name="blob" type="xs:base64Binary"/>
    </xs:sequence><xs:attribute name="n" type="xs:short"/></xs:complexType></xs:element>
    <xs:element name="total"><xs:complexType><xs:simpleContent><xs:extension base="xs:decimal">
      <xs:attribute name="currency" type="xs:string"/></xs:extension></xs:simpleContent></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""

ONE_LINE = b"""<order xmlns="urn:s" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <id>9007199254740993</id>
  <line n="1"><qty>3</qty><price>19.990</price><weight>1.5E2</weight><gift>1</gift>
    <note xsi:nil="true"/><when>2024-02-29</when><blob>aGk=</blob></line>
  <total currency="EUR">59.97</total>
</order>"""


@pytest.fixture
def hints(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "order.xsd"
    path.write_text(SCHEMA)
    return load_schema(path)


def _order(document: bytes, hints, **options):  # type: ignore[no-untyped-def]
    return xml_to_dict(document, XmlOptions(namespaces="strip", **options), hints)["order"]


def test_a_one_item_list_is_still_a_list_when_max_occurs_is_unbounded(hints) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(_order(ONE_LINE, hints)["line"], list)
    assert len(_order(ONE_LINE, hints)["line"]) == 1


def test_scalars_get_their_xsd_types(hints) -> None:  # type: ignore[no-untyped-def]
    order = _order(ONE_LINE, hints)
    line = order["line"][0]
    assert order["id"] == 9007199254740993  # long: exact, whatever its size
    assert line["@n"] == 1
    assert line["qty"] == 3 and line["weight"] == 150.0 and line["gift"] is True
    assert line["when"] == "2024-02-29" and line["blob"] == "aGk="


def test_xsi_nil_is_null(hints) -> None:  # type: ignore[no-untyped-def]
    assert _order(ONE_LINE, hints)["line"][0]["note"] is None


def test_decimals_stay_exact_strings_unless_numbers_are_asked_for(hints) -> None:  # type: ignore[no-untyped-def]
    assert _order(ONE_LINE, hints)["line"][0]["price"] == "19.990"
    assert _order(ONE_LINE, hints)["total"] == {"@currency": "EUR", "#text": "59.97"}
    as_numbers = _order(ONE_LINE, hints, decimals="number")
    assert as_numbers["line"][0]["price"] == 19.99
    assert as_numbers["total"]["#text"] == 59.97


def test_text_that_does_not_match_its_type_is_kept_as_text(hints) -> None:  # type: ignore[no-untyped-def]
    document = b"<order xmlns='urn:s'><id>12abc</id><line><qty>1_000</qty><gift>yes</gift><weight>INF</weight></line></order>"
    order = _order(document, hints)
    assert order["id"] == "12abc"
    assert order["line"][0] == {"qty": "1_000", "gift": "yes", "weight": "INF"}


def test_an_empty_string_element_is_an_empty_string_not_null(hints) -> None:  # type: ignore[no-untyped-def]
    document = b"<order xmlns='urn:s'><line><note/><qty/></line></order>"
    assert _order(document, hints)["line"][0] == {"note": "", "qty": None}


def test_two_lines_are_a_list_of_two(hints) -> None:  # type: ignore[no-untyped-def]
    document = b"<order xmlns='urn:s'><line><qty>1</qty></line><line><qty>2</qty></line></order>"
    assert _order(document, hints)["line"] == [{"qty": 1}, {"qty": 2}]


def test_force_list_adds_to_the_schema_without_changing_it(hints) -> None:  # type: ignore[no-untyped-def]
    document = b"<order xmlns='urn:s'><id>1</id><line><qty>1</qty></line></order>"
    forced = _order(document, hints, force_list=["order/id"])
    assert forced["id"] == [1]
    assert _order(document, hints)["id"] == 1  # the shared schema nodes were not touched


def test_elements_the_schema_does_not_know_are_left_as_they_are(hints) -> None:  # type: ignore[no-untyped-def]
    document = b"<order xmlns='urn:s'><extra><n>5</n></extra></order>"
    assert _order(document, hints)["extra"] == {"n": "5"}


def test_nil_can_be_kept_as_an_attribute_with_a_schema(hints) -> None:  # type: ignore[no-untyped-def]
    line = _order(ONE_LINE, hints, nil_as_null=False)["line"][0]
    assert line["note"] == {"@nil": "true"}


def test_a_codec_loads_its_schema_once_from_the_options(tmp_path: Path) -> None:
    (tmp_path / "order.xsd").write_text(SCHEMA)
    options = XmlOptions.model_validate(
        {"schema": "order.xsd", "namespaces": "strip"}, context={"base_dir": tmp_path}
    )
    codec = XmlCodec.from_options(options)
    assert codec.hints is not None
    assert codec.to_dict(ONE_LINE)["order"]["line"][0]["qty"] == 3
    assert b"<qty>3</qty>" in codec.to_xml({"line": {"qty": 3}})
