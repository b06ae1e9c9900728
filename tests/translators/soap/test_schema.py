"""Each operation publishes request and response JSON Schemas derived from the XSD."""

from __future__ import annotations

from typing import Any

import pytest

from tests.translators.soap.conftest import WSDL, MakeTranslator
from tests.translators.soap.servers import Scripted


@pytest.fixture
async def ops(make_translator: MakeTranslator, scripted: Scripted) -> dict[str, Any]:
    translator = await make_translator(wsdl=str(WSDL / "test" / "shapes.wsdl"), address=f"{scripted.url}/shapes")
    return {op.name: op for op in translator.operations()}


async def test_every_operation_is_a_post_at_its_own_name(ops: dict[str, Any]) -> None:
    assert [(op.method, op.path) for op in ops.values()] == [
        ("POST", "/Echo"), ("POST", "/Pick"), ("POST", "/Measure"), ("POST", "/Ping"),
    ]


async def test_the_summary_is_the_wsdl_documentation(ops: dict[str, Any]) -> None:
    assert ops["Echo"].summary == "Returns the shape it is given."


async def test_the_request_schema_types_required_fields_and_refuses_extras(ops: dict[str, Any]) -> None:
    schema = ops["Echo"].request_schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["shape"] and schema["additionalProperties"] is False
    shape = schema["$defs"]["Shape"]
    assert shape["properties"]["id"] == {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1,
                                         "description": "xsd:long"}
    assert shape["properties"]["amount"]["oneOf"][0] == {"type": "number"}
    assert shape["properties"]["scores"]["type"] == "array"
    assert shape["properties"]["child"] == {"type": "array", "items": {"$ref": "#/$defs/Shape"}}
    assert shape["properties"]["@version"]["type"] == "integer"
    assert shape["properties"]["day"]["format"] == "date"


async def test_the_response_schema_marks_arrays_as_always_present(ops: dict[str, Any]) -> None:
    shape = ops["Echo"].response_schema["$defs"]["Shape"]
    assert "scores" in shape["required"] and "child" in shape["required"]
    assert shape["properties"]["amount"]["type"] == "string"


async def test_the_signature_lists_inputs_and_outputs(ops: dict[str, Any]) -> None:
    assert ops["Pick"].extra["signature"] == "Pick(byId?: xsd:int, byName?: xsd:string) -> (found: xsd:string)"
    assert ops["Measure"].extra["signature"] == "Measure(MeasureRequest: tns:Circle) -> (Area: xsd:double)"


async def test_a_choice_is_published_as_one_of_its_branches(ops: dict[str, Any]) -> None:
    schema = ops["Pick"].request_schema
    assert schema["allOf"] == [{"oneOf": [{"required": ["byId"]}, {"required": ["byName"]}]}]
    optional = ops["Echo"].request_schema["$defs"]["Shape"]["allOf"][0]["oneOf"]
    assert optional[-1] == {"not": {"anyOf": [{"required": ["circle"]}, {"required": ["square"]}]}}


async def test_real_requests_and_responses_validate_against_the_published_schemas(
    make_translator: MakeTranslator, scripted: Scripted
) -> None:
    from jsonschema import Draft202012Validator

    from tests.translators.soap.conftest import call
    from tests.translators.soap.test_translator import FULL_SHAPE

    translator = await make_translator(wsdl=str(WSDL / "test" / "shapes.wsdl"), address=f"{scripted.url}/shapes")
    echo = translator.operation("Echo")
    for schema in (echo.request_schema, echo.response_schema):
        Draft202012Validator.check_schema(schema)
    request = {"shape": FULL_SHAPE}
    Draft202012Validator(echo.request_schema).validate(request)
    Draft202012Validator(echo.response_schema).validate(await call(translator, "Echo", request))
    assert not Draft202012Validator(echo.request_schema).is_valid({"shape": {"id": "1"}})
    assert not Draft202012Validator(translator.operation("Pick").request_schema).is_valid({"byId": 1, "byName": "x"})
