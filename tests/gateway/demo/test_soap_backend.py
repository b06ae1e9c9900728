"""The demo's SOAP backend: serves its WSDL and answers like the WSDL says, faults included."""

from __future__ import annotations

import httpx
from lxml import etree

from gateway.demo import soap_backend
from gateway.demo.soap_backend import NS, SOAP, answer


def request(operation: str, **fields: str) -> bytes:
    parts = "".join(f"<c:{k}>{v}</c:{k}>" for k, v in fields.items())
    return (f'<s:Envelope xmlns:s="{SOAP}"><s:Body><c:{operation} xmlns:c="{NS}">{parts}</c:{operation}>'
            "</s:Body></s:Envelope>").encode()


def test_an_order_answers_a_decimal_total_and_an_id() -> None:
    status, body = answer(request("PlaceOrder", code="AMX500", quantity="2", deliverBy="2030-01-02"))
    root = etree.fromstring(body)
    assert status == 200
    assert root.findtext(f".//{{{NS}}}total") == "25.00"
    assert root.findtext(f".//{{{NS}}}orderId", "").startswith("ORD-")


def test_an_unknown_code_is_a_client_fault_with_its_detail() -> None:
    status, body = answer(request("GetDrug", code="NOPE"))
    root = etree.fromstring(body)
    assert status == 500
    assert root.findtext(".//faultcode") == "soap:Client"
    assert root.findtext(f".//detail/{{{NS}}}CatalogFault/{{{NS}}}code") == "UNKNOWN_CODE"


def test_a_huge_order_is_a_server_fault() -> None:
    status, body = answer(request("PlaceOrder", code="AMX500", quantity="10001", deliverBy="2030-01-02"))
    assert status == 500 and b"<faultcode>soap:Server</faultcode>" in body


def test_garbage_is_a_client_fault_not_a_crash() -> None:
    status, body = answer(b"<not-soap")
    assert status == 500 and b"soap:Client" in body


async def test_it_serves_its_wsdl_with_its_own_address() -> None:
    backend = await soap_backend.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient() as client:
            reply = await client.get(f"http://127.0.0.1:{backend.port}/soap?wsdl")
        assert reply.status_code == 200
        assert f'location="http://127.0.0.1:{backend.port}/soap"'.encode() in reply.content
    finally:
        await backend.stop()
