"""The pure codec: JSON → request envelope → JSON, with no server (writer, reader, envelope)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from lxml import etree

from gateway.errors import BadGateway, InvalidArguments, UpstreamFault, UpstreamRejected
from tests.translators.soap.conftest import WSDL
from tests.translators.soap.servers import SHAPES, SOAP11, SOAP12, envelope, fault
from translators.soap.binding import OperationModel, choose_port, describe_port
from translators.soap.envelope import Raw, build_request, read_response
from translators.soap.loader import load_document_sync
from translators.soap.reader import read_generic
from translators.soap.simple import builtin
from translators.soap.xsdmodel import ComplexType, Field

LOADED = load_document_sync(str(WSDL / "test" / "shapes.wsdl"))
OPS = describe_port(choose_port(LOADED.document, None, None), LOADED.notes)
OPS12 = describe_port(choose_port(LOADED.document, None, "ShapesSoap12"), LOADED.notes)


def echo(request: bytes, op: OperationModel = OPS["Echo"]) -> Any:
    """Turn a request envelope into the matching response and read it back."""
    root = etree.fromstring(request)
    wrapper = root.find(f"{{{op.envelope_ns}}}Body")[0]  # type: ignore[index]
    wrapper.tag = f"{{{SHAPES}}}EchoResponse"
    return read_response(op, Raw(200, "text/xml", etree.tostring(root)))


def test_a_wrapped_request_has_the_wrapper_and_children_in_schema_order() -> None:
    body = build_request(OPS["Echo"], {"shape": {"label": "l", "id": 1}})
    root = etree.fromstring(body)
    shape = root.find(f"{{{SOAP11}}}Body/{{{SHAPES}}}Echo/{{{SHAPES}}}shape")
    assert [etree.QName(c).localname for c in shape] == ["id", "label"]  # type: ignore[union-attr]


def test_the_request_envelope_follows_the_ports_soap_version() -> None:
    assert etree.QName(etree.fromstring(build_request(OPS12["Ping"], {}))).namespace == SOAP12


def test_null_for_a_nillable_element_is_sent_as_xsi_nil() -> None:
    body = build_request(OPS["Echo"], {"shape": {"id": 1, "note": None}})
    assert b'<ns0:note xsi:nil="true"/>' in body or b'xsi:nil="true"' in body
    assert echo(body)["shape"]["note"] is None


def test_null_for_an_optional_element_that_is_not_nillable_is_left_out() -> None:
    body = build_request(OPS["Echo"], {"shape": {"id": 1, "label": None}})
    assert b"label" not in body


def test_a_required_element_cannot_be_null() -> None:
    with pytest.raises(InvalidArguments) as caught:
        build_request(OPS["Echo"], {"shape": {"id": None}})
    assert caught.value.extra["errors"][0]["field"] == "shape.id"


def test_max_occurs_is_enforced() -> None:
    with pytest.raises(InvalidArguments) as caught:
        build_request(OPS["Echo"], {"shape": {"id": 1, "pair": [1, 2, 3]}})
    assert caught.value.extra["errors"][0] == {
        "field": "shape.pair", "expected": "array of xsd:int", "message": "takes at most 2 items",
    }


def test_errors_in_nested_arrays_carry_their_index() -> None:
    with pytest.raises(InvalidArguments) as caught:
        build_request(OPS["Echo"], {"shape": {"id": 1, "child": [{"id": 2}, {"id": "three"}]}})
    assert caught.value.extra["errors"][0]["field"] == "shape.child[1].id"


def test_a_missing_attribute_that_is_required_is_reported() -> None:
    with pytest.raises(InvalidArguments) as caught:
        build_request(OPS["Echo"], {"shape": {"id": 1, "price": {"#text": "1.00"}}})
    assert caught.value.extra["errors"][0]["field"] == "shape.price.@currency"


def test_an_object_where_a_value_is_expected_is_refused() -> None:
    with pytest.raises(InvalidArguments) as caught:
        build_request(OPS["Echo"], {"shape": [1]})
    assert caught.value.extra["errors"][0]["expected"] == "tns:Shape"


def test_at_most_twenty_errors_are_listed() -> None:
    with pytest.raises(InvalidArguments) as caught:
        build_request(OPS["Echo"], {"shape": {"id": 1, "child": [{"id": "x"}] * 50}})
    assert len(caught.value.extra["errors"]) == 20
    assert "(and 19 more)" in caught.value.detail


def test_a_string_repeated_key_from_the_query_becomes_a_one_item_array() -> None:
    body = build_request(OPS["Echo"], {"shape": {"id": "4", "scores": "5"}}, lenient=("shape.id", "shape.scores"))
    assert echo(body)["shape"]["scores"] == [5]


def test_a_fault_in_the_body_is_raised_with_its_status() -> None:
    with pytest.raises(UpstreamRejected):
        read_response(OPS["Ping"], Raw(500, "text/xml", fault(SOAP11, "Client", "no")))
    with pytest.raises(UpstreamFault):
        read_response(OPS["Ping"], Raw(500, "text/xml", fault(SOAP11, "Server", "no")))


def test_a_fault_sent_with_http_200_is_still_a_fault() -> None:
    with pytest.raises(UpstreamRejected):
        read_response(OPS["Ping"], Raw(200, "text/xml", fault(SOAP11, "Client", "no")))


def test_an_envelope_without_a_body_is_a_bad_gateway() -> None:
    raw = Raw(200, "text/xml", f'<e:Envelope xmlns:e="{SOAP11}"/>'.encode())
    with pytest.raises(BadGateway, match="no Body"):
        read_response(OPS["Ping"], raw)


def test_an_empty_body_where_the_response_carries_required_fields_is_a_bad_gateway() -> None:
    """A 200 {} would hide that the answer is missing."""
    with pytest.raises(BadGateway, match="no PingResponse element .it must carry at"):
        read_response(OPS["Ping"], Raw(200, "text/xml", envelope(SOAP11)))


def test_an_empty_body_is_an_empty_object_when_the_response_requires_nothing() -> None:
    """Some servers leave out a "void" response wrapper; nothing is lost."""
    void = replace(OPS["Ping"], response=ComplexType(None, "object", elements=[
        Field("note", f"{{{SHAPES}}}note", builtin("string"), min_occurs=0)]))
    assert read_response(void, Raw(200, "text/xml", envelope(SOAP11))) == {}


def test_another_element_where_the_response_wrapper_belongs_is_a_bad_gateway() -> None:
    other = etree.Element(f"{{{SHAPES}}}EchoResponse")
    with pytest.raises(BadGateway, match="a EchoResponse element where PingResponse belongs"):
        read_response(OPS["Ping"], Raw(200, "text/xml", envelope(SOAP11, other)))


def test_the_response_wrapper_is_matched_by_local_name() -> None:
    wrapper = etree.Element("{urn:elsewhere}PingResponse")
    etree.SubElement(wrapper, "{urn:elsewhere}at").text = "2024-05-06T07:08:09Z"
    assert read_response(OPS["Ping"], Raw(200, "text/xml", envelope(SOAP11, wrapper))) == {"at": "2024-05-06T07:08:09Z"}


def test_undeclared_elements_are_read_generically_with_attributes_and_repeats() -> None:
    node = etree.fromstring(b'<a x="1"><b>1</b><b>2</b><c><d/></c>text</a>')
    assert read_generic(node) == {"@x": "1", "b": ["1", "2"], "c": {"d": ""}, "#text": "text"}


def _nested_shapes(depth: int) -> dict[str, Any]:
    shape: dict[str, Any] = {"id": 1}
    for _ in range(depth):
        shape = {"id": 1, "child": [shape]}
    return {"shape": shape}


def _nested_anything(depth: int) -> dict[str, Any]:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return {"shape": {"id": 1, "anything": value}}


@pytest.mark.parametrize("nested", [_nested_shapes, _nested_anything])
def test_a_request_nested_more_than_100_objects_deep_is_a_400(nested) -> None:
    """A recursive type (Shape.child) or xs:anyType used to recurse until Python's stack ran out."""
    assert build_request(OPS["Echo"], nested(98))
    with pytest.raises(InvalidArguments, match="nested more than 100 objects deep"):
        build_request(OPS["Echo"], nested(400))


@pytest.mark.parametrize(
    ("anything", "field"),
    [
        ([1, 2], "shape.anything"),
        ([[1, 2]], "shape.anything"),
        ({"a": [[3]]}, "shape.anything.a[0]"),
        ({"#text": {"x": 1}}, "shape.anything.#text"),
        ({"#text": [1, 2]}, "shape.anything.#text"),
    ],
)
def test_an_any_type_value_xml_cannot_hold_is_a_400_not_python_text(anything: Any, field: str) -> None:
    """An array in an array, or an object as text, has no XML form; "[1, 2]" must not be sent."""
    with pytest.raises(InvalidArguments) as caught:
        build_request(OPS["Echo"], {"shape": {"id": 1, "anything": anything}})
    assert caught.value.extra["errors"][0]["field"] == field


def test_an_array_of_values_for_an_any_type_repeats_the_element() -> None:
    body = build_request(OPS["Echo"], {"shape": {"id": 1, "anything": {"a": [1, {"b": True}]}}})
    assert b"<a>1</a><a><b>true</b></a>" in body


@pytest.mark.parametrize("key", ["@xmlns", "@xmlns:p"])
def test_a_key_that_would_declare_a_namespace_is_refused(key: str) -> None:
    """``@xmlns`` would move the unqualified elements Rosetta writes into the caller's namespace."""
    with pytest.raises(InvalidArguments) as caught:
        build_request(OPS["Echo"], {"shape": {"id": 1, "anything": {key: "urn:elsewhere", "x": 1}}})
    assert caught.value.extra["errors"][0]["field"] == f"shape.anything.{key}"


def test_text_for_an_open_type_without_simple_content_is_refused_not_dropped() -> None:
    with pytest.raises(InvalidArguments) as caught:
        build_request(OPS["Echo"], {"shape": {"id": 1, "extra": {"kind": "k", "#text": "lost"}}})
    assert caught.value.extra["errors"][0]["field"] == "shape.extra.#text"


def test_a_foreign_attribute_does_not_overwrite_a_declared_one_of_the_same_name() -> None:
    shape = etree.Element(f"{{{SHAPES}}}shape", {"version": "3", "{urn:other}version": "x"})
    etree.SubElement(shape, f"{{{SHAPES}}}id").text = "1"
    wrapper = etree.Element(f"{{{SHAPES}}}EchoResponse")
    wrapper.append(shape)
    assert read_response(OPS["Echo"], Raw(200, "text/xml", envelope(SOAP11, wrapper)))["shape"]["@version"] == 3


def test_integers_past_64_bits_in_a_response_are_strings_a_json_encoder_can_write() -> None:
    import orjson

    area = etree.Element(f"{{{SHAPES}}}EchoResponse")
    shape = etree.SubElement(area, f"{{{SHAPES}}}shape")
    etree.SubElement(shape, f"{{{SHAPES}}}id").text = "1"
    etree.SubElement(shape, f"{{{SHAPES}}}anything").text = "x"
    child = etree.SubElement(shape, f"{{{SHAPES}}}child")
    etree.SubElement(child, f"{{{SHAPES}}}id").text = "9" * 5000
    result = read_response(OPS["Echo"], Raw(200, "text/xml", envelope(SOAP11, area)))
    assert result["shape"]["child"][0]["id"] == "9" * 5000
    assert orjson.dumps(result)


def test_null_for_an_undeclared_attribute_or_text_sends_nothing_not_the_word_none() -> None:
    body = build_request(OPS["Echo"], {"shape": {"id": 1, "anything": {"@a": None, "#text": None, "b": 1}}})
    assert b"None" not in body
    assert b"<ns0:anything><b>1</b></ns0:anything>" in body
