"""The SOAP translator against Rosetta's own test services: shapes, rpc/literal, rpc/encoded."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gateway.errors import GatewayError
from tests.translators.soap.conftest import WSDL, MakeTranslator, call
from tests.translators.soap.servers import SHAPES, Scripted
from translators.soap import SoapTranslator

SHAPES_WSDL = str(WSDL / "test" / "shapes.wsdl")


async def shapes(make: MakeTranslator, backend: Scripted, **extra: Any) -> SoapTranslator:
    return await make(wsdl=SHAPES_WSDL, address=f"{backend.url}/shapes", **extra)


FULL_SHAPE = {
    "@version": 3,
    "id": 9007199254740993,
    "label": "full",
    "ratio": 0.25,
    "amount": "12345678901234567890.123456789",
    "active": False,
    "small": 255,
    "day": "2024-02-29",
    "at": "2024-02-29T23:59:59.5+01:00",
    "blob": base64.b64encode(b"\x00\x01binary").decode(),
    "hex": "00ff10",
    "tags": ["a", "b"],
    "color": "red",
    "note": None,
    "scores": [1, 2, 3],
    "pair": [7],
    "square": {"name": "sq", "side": 2.5},
    "price": {"@currency": "EUR", "#text": "9.99"},
    "child": [{"id": 2, "child": [{"id": 3}]}],
}


async def test_every_documented_shape_survives_a_round_trip_through_a_real_server(
    make_translator: MakeTranslator, scripted: Scripted
) -> None:
    translator = await shapes(make_translator, scripted)
    result = await call(translator, "Echo", {"shape": FULL_SHAPE})
    shape = result["shape"]
    for key, value in FULL_SHAPE.items():
        if key != "child":
            assert shape[key] == value, key
    assert shape["child"][0]["id"] == 2 and shape["child"][0]["child"][0]["id"] == 3
    assert shape["child"][0]["scores"] == [] and shape["child"][0]["pair"] == []


async def test_absent_arrays_come_back_empty_and_absent_optionals_are_left_out(
    make_translator: MakeTranslator, scripted: Scripted
) -> None:
    translator = await shapes(make_translator, scripted)
    result = await call(translator, "Echo", {"shape": {"id": 1}})
    assert result == {"shape": {"id": 1, "scores": [], "pair": [], "child": []}}


async def test_xs_any_and_any_type_content_is_kept_generically(
    make_translator: MakeTranslator, scripted: Scripted
) -> None:
    translator = await shapes(make_translator, scripted)
    shape = {"id": 1, "extra": {"kind": "k", "colour": "blue", "size": {"w": "2"}}, "anything": {"x": "1"}}
    result = await call(translator, "Echo", {"shape": shape})
    assert result["shape"]["extra"] == {"kind": "k", "colour": "blue", "size": {"w": "2"}}
    assert result["shape"]["anything"] == {"x": "1"}


async def test_the_soap_1_2_port_can_be_chosen_by_name(make_translator: MakeTranslator, scripted: Scripted) -> None:
    translator = await shapes(make_translator, scripted, port="ShapesSoap12")
    assert await call(translator, "Pick", {"byName": "x"}) == {"found": "name:x"}
    seen = scripted.seen[-1]
    assert seen.headers["content-type"].startswith("application/soap+xml")
    assert 'action="urn:rosetta:test:shapes/Pick"' in seen.headers["content-type"]


async def test_the_first_soap_1_1_port_is_the_default(make_translator: MakeTranslator, scripted: Scripted) -> None:
    translator = await shapes(make_translator, scripted)
    await call(translator, "Pick", {"byId": 5})
    assert scripted.seen[-1].headers["soapaction"] == '"urn:rosetta:test:shapes/Pick"'
    assert {op.extra["soap_version"] for op in translator.operations()} == {"1.1"}


async def test_a_bare_operation_is_keyed_by_its_part_elements(make_translator: MakeTranslator, scripted: Scripted) -> None:
    translator = await shapes(make_translator, scripted)
    result = await call(translator, "Measure", {"MeasureRequest": {"radius": 2.0}})
    assert result == {"Area": pytest.approx(12.566370614359172)}


async def test_an_operation_without_arguments_takes_an_empty_body(make_translator: MakeTranslator, scripted: Scripted) -> None:
    translator = await shapes(make_translator, scripted)
    assert await call(translator, "Ping") == {"at": "2024-05-06T07:08:09Z"}


async def test_a_declared_fault_detail_is_typed_by_its_element(make_translator: MakeTranslator, scripted: Scripted) -> None:
    translator = await shapes(make_translator, scripted)
    with pytest.raises(GatewayError) as caught:
        await call(translator, "Echo", {"shape": {"id": -1}})
    assert caught.value.http_status == 422
    assert caught.value.extra["faultdetail"] == {"ShapeFault": {"field": "id", "limit": 0}}
    assert caught.value.extra["faultactor"] == "urn:rosetta:test:actor"


async def test_a_soap_1_2_fault_carries_its_subcodes_and_role(make_translator: MakeTranslator, scripted: Scripted) -> None:
    translator = await shapes(make_translator, scripted, port="ShapesSoap12")
    with pytest.raises(GatewayError) as caught:
        await call(translator, "Echo", {"shape": {"id": -2}})
    error = caught.value
    assert error.http_status == 502
    assert error.extra["faultcode"] == "Receiver"
    assert error.extra["subcodes"] == ["Limit"]
    assert error.extra["faultstring"] == "id must be positive"
    assert error.extra["faultactor"] == "urn:rosetta:test:actor"
    assert error.extra["soap_version"] == "1.2"


async def test_a_soap_1_2_subcode_can_set_the_status(make_translator: MakeTranslator, scripted: Scripted) -> None:
    translator = await shapes(make_translator, scripted, port="ShapesSoap12", fault_status={"app:Limit": 409})
    with pytest.raises(GatewayError) as caught:
        await call(translator, "Echo", {"shape": {"id": -2}})
    assert caught.value.http_status == 409
    assert caught.value.type == "urn:rosetta:problem:upstream-rejected"


async def test_rpc_literal_parts_travel_by_name_in_the_operation_wrapper(
    make_translator: MakeTranslator, scripted: Scripted
) -> None:
    translator = await make_translator(wsdl=str(WSDL / "test" / "ledger_rpc.wsdl"), address=f"{scripted.url}/ledger")
    body = {"from": "alice", "to": "bob", "amount": 12.5, "memo": {"text": "rent", "tag": ["home"]}}
    result = await call(translator, "Transfer", body)
    assert result == {"receipt": {"id": "R-rent", "at": "2024-01-02T03:04:05Z"}, "balance": "100.00"}
    sent = scripted.seen[-1].body
    assert b"<ns0:Transfer" in sent and b"<amount>12.5</amount>" in sent and b"<tag>home</tag>" in sent


async def test_rpc_literal_fault_is_mapped_too(make_translator: MakeTranslator, scripted: Scripted) -> None:
    translator = await make_translator(wsdl=str(WSDL / "test" / "ledger_rpc.wsdl"), address=f"{scripted.url}/ledger")
    with pytest.raises(GatewayError) as caught:
        await call(translator, "Balance", {"account": "mallory"})
    assert caught.value.http_status == 422
    assert caught.value.extra["faultstring"] == "unknown account 'mallory'"


async def test_rpc_encoded_arrays_are_sent_and_read_as_json_arrays(
    make_translator: MakeTranslator, scripted: Scripted
) -> None:
    translator = await make_translator(wsdl=str(WSDL / "test" / "words_encoded.wsdl"), address=f"{scripted.url}/words")
    assert await call(translator, "Join", {"words": ["a", "b", "c"], "separator": "-"}) == {"joined": "a-b-c", "count": 3}
    sent = scripted.seen[-1].body
    assert b'soapenc:arrayType="xsd:string[3]"' in sent and b'xsi:type="xsd:string"' in sent
    assert await call(translator, "Split", {"text": "x y"}) == {"words": ["x", "y"]}


async def test_the_request_id_travels_as_an_http_header(make_translator: MakeTranslator, scripted: Scripted) -> None:
    translator = await shapes(make_translator, scripted)
    await call(translator, "Ping", request_id="req-42")
    assert scripted.seen[-1].headers["x-request-id"] == "req-42"


async def test_the_callers_headers_stay_home_unless_listed(make_translator: MakeTranslator, scripted: Scripted) -> None:
    translator = await shapes(make_translator, scripted, forward_headers=["X-Tenant"])
    headers = [("Authorization", "Bearer caller-token"), ("X-Tenant", "t1"), ("Cookie", "s=1")]
    await call(translator, "Ping", headers=headers)
    seen = scripted.seen[-1].headers
    assert seen["x-tenant"] == "t1"
    assert "authorization" not in seen and "cookie" not in seen


async def test_the_callers_authorization_is_forwarded_only_when_configured(
    make_translator: MakeTranslator, scripted: Scripted
) -> None:
    translator = await shapes(make_translator, scripted, forward_auth=True)
    await call(translator, "Ping", headers=[("Authorization", "Bearer caller-token")])
    assert scripted.seen[-1].headers["authorization"] == "Bearer caller-token"


async def test_http_basic_credentials_come_from_config(
    make_translator: MakeTranslator, scripted: Scripted, monkeypatch: pytest.MonkeyPatch
) -> None:
    translator = await shapes(make_translator, scripted, basic_auth={"username": "svc", "password": "s3cret"},
                              http_headers={"X-Client": "rosetta"})
    await call(translator, "Ping", headers=[("Authorization", "Bearer caller-token")])
    seen = scripted.seen[-1].headers
    assert seen["authorization"] == "Basic " + base64.b64encode(b"svc:s3cret").decode()
    assert seen["x-client"] == "rosetta"


async def test_extra_soap_headers_are_added_to_every_call(make_translator: MakeTranslator, scripted: Scripted) -> None:
    header = f'<t:Tenant xmlns:t="{SHAPES}">acme</t:Tenant>'
    translator = await shapes(make_translator, scripted, soap_headers=[header])
    await call(translator, "Ping")
    await call(translator, "Ping")
    assert scripted.seen[-1].body.count(b">acme</t:Tenant>") == 1
    assert b"<soap:Header>" in scripted.seen[-1].body


async def test_headers_that_frame_the_call_are_never_forwarded(make_translator: MakeTranslator, scripted: Scripted) -> None:
    translator = await shapes(make_translator, scripted, forward_headers=["Content-Type", "SOAPAction", "X-Tenant"])
    await call(translator, "Ping", headers=[("Content-Type", "text/plain"), ("SOAPAction", "evil"), ("X-Tenant", "t")])
    seen = scripted.seen[-1].headers
    assert seen["content-type"] == "text/xml; charset=utf-8" and seen["soapaction"] == '"urn:rosetta:test:shapes/Ping"'
    assert seen["x-tenant"] == "t"


async def test_a_zeep_client_for_plug_ins_calls_through_the_shared_pool(
    make_translator: MakeTranslator, scripted: Scripted
) -> None:
    translator = await shapes(make_translator, scripted)
    service = translator.zeep_client()
    before = len(scripted.seen)
    result = await service.Pick(byName="zeep")
    assert result == "name:zeep" and len(scripted.seen) == before + 1
