"""The SOAP translator against spyne services: document/literal wrapped, SOAP 1.1 and 1.2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.errors import GatewayError
from tests.translators.soap.conftest import MakeTranslator, call
from tests.translators.soap.servers import SpyneServer
from translators.soap import SoapTranslator

Spyne = tuple[SpyneServer, Path]


async def spyne_translator(make: MakeTranslator, spyne: Spyne, **extra: Any) -> SoapTranslator:
    server, wsdl = spyne
    return await make(wsdl=str(wsdl), address=f"http://127.0.0.1:{server.port}/", **extra)


@pytest.mark.parametrize("fixture", ["spyne11", "spyne12"])
async def test_wrapped_operation_answers_a_json_object_keyed_by_the_result_element(
    make_translator: MakeTranslator, fixture: str, request: pytest.FixtureRequest
) -> None:
    translator = await spyne_translator(make_translator, request.getfixturevalue(fixture))
    assert await call(translator, "Add", {"intA": 2, "intB": 40}) == {"AddResult": 42}


async def test_the_soap_1_2_port_is_chosen_when_it_is_the_only_one(make_translator: MakeTranslator, spyne12: Spyne) -> None:
    translator = await spyne_translator(make_translator, spyne12)
    assert {op.extra["soap_version"] for op in translator.operations()} == {"1.2"}


async def test_an_array_of_one_item_is_still_a_json_array(make_translator: MakeTranslator, spyne11: Spyne) -> None:
    translator = await spyne_translator(make_translator, spyne11)
    result = await call(translator, "Items", {"prefix": "pill", "count": 1})
    assert result == {"ItemsResult": {"Item": [{"name": "pill0", "qty": 0, "price": "1.10"}]}}


async def test_an_empty_array_is_an_empty_json_array(make_translator: MakeTranslator, spyne11: Spyne) -> None:
    translator = await spyne_translator(make_translator, spyne11)
    result = await call(translator, "Items", {"prefix": "pill", "count": 0})
    assert result["ItemsResult"] in (None, {"Item": []})


async def test_decimal_comes_out_as_a_number_when_configured(make_translator: MakeTranslator, spyne11: Spyne) -> None:
    translator = await spyne_translator(make_translator, spyne11, decimal_as="number")
    result = await call(translator, "Items", {"prefix": "p", "count": 2})
    assert [item["price"] for item in result["ItemsResult"]["Item"]] == [1.1, 1.1]


@pytest.mark.parametrize("fixture", ["spyne11", "spyne12"])
async def test_a_client_fault_becomes_a_422_problem_with_the_fault_fields(
    make_translator: MakeTranslator, fixture: str, request: pytest.FixtureRequest
) -> None:
    translator = await spyne_translator(make_translator, request.getfixturevalue(fixture))
    with pytest.raises(GatewayError) as caught:
        await call(translator, "Divide", {"intA": 7, "intB": 0})
    error = caught.value
    assert error.http_status == 422
    assert error.type == "urn:rosetta:problem:upstream-rejected"
    assert error.extra["faultstring"] == "cannot divide by zero"
    assert error.extra["faultdetail"] == {"dividend": "7"}
    expected_code = "Client.DivideByZero" if fixture == "spyne11" else "Sender"
    assert error.extra["faultcode"] == expected_code


@pytest.mark.parametrize("fixture", ["spyne11", "spyne12"])
async def test_a_server_fault_becomes_a_502_problem(
    make_translator: MakeTranslator, fixture: str, request: pytest.FixtureRequest
) -> None:
    translator = await spyne_translator(make_translator, request.getfixturevalue(fixture))
    with pytest.raises(GatewayError) as caught:
        await call(translator, "Divide", {"intA": -7, "intB": 1})
    assert caught.value.http_status == 502
    assert caught.value.type == "urn:rosetta:problem:upstream-fault"
    assert "negative dividends" in caught.value.detail


async def test_fault_status_can_be_overridden_per_fault_code(make_translator: MakeTranslator, spyne11: Spyne) -> None:
    translator = await spyne_translator(make_translator, spyne11, fault_status={"Client.DivideByZero": 400})
    with pytest.raises(GatewayError) as caught:
        await call(translator, "Divide", {"intA": 7, "intB": 0})
    assert caught.value.http_status == 400


async def test_query_string_values_are_coerced_to_their_xsd_types(make_translator: MakeTranslator, spyne11: Spyne) -> None:
    translator = await spyne_translator(make_translator, spyne11)
    assert await call(translator, "Add", query="intA=5&intB=6") == {"AddResult": 11}


async def test_a_string_in_the_body_for_an_integer_is_refused_before_any_call(
    make_translator: MakeTranslator, spyne11: Spyne
) -> None:
    translator = await spyne_translator(make_translator, spyne11)
    with pytest.raises(GatewayError) as caught:
        await call(translator, "Add", {"intA": "5", "intB": 6})
    assert caught.value.http_status == 400
    assert caught.value.extra["errors"][0]["field"] == "intA"
    assert caught.value.extra["errors"][0]["expected"] == "xsd:integer"
