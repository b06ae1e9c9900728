"""XSD/WSDL → hints: arrays from maxOccurs, built-in types through derivations."""

from __future__ import annotations

from pathlib import Path

import pytest

from translators.xmljson import SchemaError, hints_from_schemas, load_schema

FIXTURES = Path(__file__).parent / "fixtures"

SCHEMA = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
    xmlns:t="urn:inv" targetNamespace="urn:inv" elementFormDefault="qualified">
  <xs:element name="inventory">
    <xs:complexType><xs:sequence>
      <xs:element name="item" type="t:Item" maxOccurs="unbounded"/>
      <xs:element ref="t:note" minOccurs="0"/>
      <xs:choice maxOccurs="5"><xs:element name="a" type="xs:int"/><xs:element name="b" type="xs:string"/></xs:choice>
      <xs:group ref="t:Audit"/>
    </xs:sequence></xs:complexType>
  </xs:element>
  <xs:element name="note" type="xs:string"/>
  <xs:group name="Audit"><xs:sequence>
    <xs:element name="changed" type="xs:dateTime" maxOccurs="2"/></xs:sequence></xs:group>
  <xs:complexType name="Base"><xs:sequence>
    <xs:element name="sku" type="t:Sku"/></xs:sequence>
    <xs:attribute name="id" type="xs:long"/></xs:complexType>
  <xs:complexType name="Item"><xs:complexContent><xs:extension base="t:Base"><xs:all>
      <xs:element name="qty" type="xs:unsignedShort"/>
      <xs:element name="price" type="t:Money"/>
      <xs:element name="active" type="xs:boolean" nillable="true"/>
      <xs:element name="parts" type="t:Item" minOccurs="0" maxOccurs="unbounded"/>
      <xs:element name="photo" type="xs:base64Binary"/>
    </xs:all><xs:attributeGroup ref="t:Flags"/></xs:extension></xs:complexContent></xs:complexType>
  <xs:attributeGroup name="Flags"><xs:attribute name="hot" type="xs:boolean"/></xs:attributeGroup>
  <xs:complexType name="Money"><xs:simpleContent><xs:extension base="t:Amount">
    <xs:attribute name="currency" type="xs:string"/></xs:extension></xs:simpleContent></xs:complexType>
  <xs:simpleType name="Amount"><xs:restriction base="t:Positive"/></xs:simpleType>
  <xs:simpleType name="Positive"><xs:restriction base="xs:decimal"><xs:minExclusive value="0"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="Sku"><xs:restriction><xs:simpleType><xs:list itemType="xs:int"/></xs:simpleType></xs:restriction></xs:simpleType>
</xs:schema>"""


@pytest.fixture
def hints(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "inventory.xsd"
    path.write_text(SCHEMA)
    return load_schema(path)


def test_max_occurs_unbounded_makes_a_list(hints) -> None:  # type: ignore[no-untyped-def]
    assert hints.lookup("inventory/item").is_list
    assert not hints.lookup("inventory").is_list


def test_a_repeated_choice_repeats_every_element_in_it(hints) -> None:  # type: ignore[no-untyped-def]
    assert hints.lookup("inventory/a").is_list and hints.lookup("inventory/a").type == "int"
    assert hints.lookup("inventory/b").is_list


def test_group_refs_and_element_refs_are_followed(hints) -> None:  # type: ignore[no-untyped-def]
    assert hints.lookup("inventory/changed").type == "dateTime"
    assert hints.lookup("inventory/changed").is_list
    assert hints.lookup("inventory/note").type == "string"
    assert not hints.lookup("inventory/note").is_list


def test_extension_inherits_the_base_content_and_attributes(hints) -> None:  # type: ignore[no-untyped-def]
    item = hints.lookup("inventory/item")
    assert {"sku", "qty", "price", "active", "parts", "photo"} <= set(item.children)
    assert item.attributes == {"id": "long", "hot": "boolean"}


def test_simple_types_resolve_to_their_builtin_base(hints) -> None:  # type: ignore[no-untyped-def]
    assert hints.lookup("inventory/item/qty").type == "unsignedShort"
    assert hints.lookup("inventory/item/price").type == "decimal"
    assert hints.lookup("inventory/item/price").attributes == {"currency": "string"}
    assert hints.lookup("inventory/item/sku").type == "string"  # a list type
    assert hints.lookup("inventory/item/photo").type == "base64Binary"
    assert hints.lookup("inventory/item/active").nillable


def test_recursive_types_are_a_cycle_not_an_endless_tree(hints) -> None:  # type: ignore[no-untyped-def]
    deep = hints.lookup("inventory/item/parts/parts/parts/qty")
    assert deep is not None and deep.type == "unsignedShort"
    assert hints.lookup("inventory/item/parts").is_list
    paths = hints.paths()  # the flat view stops where a type repeats on its path
    assert "inventory/item/parts" in paths and "inventory/item/parts/qty" not in paths


def test_unknown_paths_have_no_hint(hints) -> None:  # type: ignore[no-untyped-def]
    assert hints.lookup("inventory/nothing") is None
    assert hints.lookup("elsewhere") is None


def test_wsdl_types_and_array_types_are_read() -> None:
    hints = load_schema(FIXTURES / "country_info" / "CountryInfoService.wsdl")
    language = hints.lookup("ListOfLanguagesByNameResponse/ListOfLanguagesByNameResult/tLanguage")
    assert language is not None and language.is_list and language.nillable
    assert language.children["sISOCode"].type == "string"


def test_imports_across_files_and_namespaces_are_followed() -> None:
    hints = load_schema(FIXTURES / "extension_base" / "foo.wsdl")
    assert hints.lookup("Shipper/Name/name1").type == "string"


def test_includes_and_import_chains_are_followed() -> None:
    assert load_schema(FIXTURES / "xsd_include" / "Services.wsdl").roots
    hints = load_schema(FIXTURES / "wcf_soap12_xsd_imports" / "spec.wsdl")
    assert any(hint.is_list for hint in hints.paths().values())


def test_every_schema_fixture_loads() -> None:
    files = sorted(FIXTURES.glob("**/*.wsdl")) + sorted(FIXTURES.glob("**/*.xsd"))
    assert len(files) >= 15
    for path in files:
        load_schema(path)


def test_schemas_already_parsed_can_be_compiled_directly() -> None:
    from lxml import etree

    schema = etree.fromstring(SCHEMA.encode())
    assert hints_from_schemas([schema]).lookup("inventory/item").is_list


def test_remote_schema_locations_are_never_fetched(tmp_path: Path) -> None:
    path = tmp_path / "remote.xsd"
    path.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:r="urn:r">'
        '<xs:import namespace="urn:r" schemaLocation="http://192.0.2.1/r.xsd"/>'
        '<xs:element name="a" type="r:Unknown"/></xs:schema>'
    )
    hint = load_schema(path).lookup("a")
    assert hint is not None and hint.type is None and not hint.children


def test_a_missing_or_foreign_file_is_a_schema_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="nope.xsd"):
        load_schema(tmp_path / "nope.xsd")
    other = tmp_path / "other.xml"
    other.write_text("<not-a-schema/>")
    with pytest.raises(SchemaError, match="neither an XSD"):
        load_schema(other)
    broken = tmp_path / "broken.xsd"
    broken.write_text("<xs:schema")
    with pytest.raises(SchemaError, match="not well-formed"):
        load_schema(broken)


def test_wildcard_children_take_their_global_declaration(tmp_path: Path) -> None:
    (tmp_path / "envelope.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:env">'
        '<xs:import namespace="urn:o" schemaLocation="orders.xsd"/>'
        '<xs:element name="Envelope"><xs:complexType><xs:sequence><xs:element name="Body">'
        '<xs:complexType><xs:sequence><xs:any processContents="lax" maxOccurs="unbounded"/>'
        "</xs:sequence></xs:complexType></xs:element></xs:sequence></xs:complexType></xs:element>"
        "</xs:schema>"
    )
    (tmp_path / "orders.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:o">'
        '<xs:element name="Reply"><xs:complexType><xs:sequence>'
        '<xs:element name="n" type="xs:int" maxOccurs="unbounded"/>'
        "</xs:sequence></xs:complexType></xs:element></xs:schema>"
    )
    hints = load_schema(tmp_path / "envelope.xsd")
    reply = hints.lookup("Envelope/Body/Reply")
    assert reply is not None and not reply.is_list
    assert hints.lookup("Envelope/Body/Reply/n").is_list
