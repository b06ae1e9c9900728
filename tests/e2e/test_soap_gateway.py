"""SOAP through the whole gateway: JSON in, the demo SOAP backend behind, JSON or problem+json out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from gateway.config import build_config
from gateway.demo import soap_backend
from gateway.runtime import StartupError, build_runtime
from gateway.testing import serve_gateway

ROOT = Path(__file__).resolve().parents[2]


@pytest_asyncio.fixture(scope="module")
async def gateway() -> AsyncIterator[httpx.AsyncClient]:
    backend = await soap_backend.start("127.0.0.1", 0)
    config = {
        "upstreams": {
            "catalog": {"type": "soap", "wsdl": "wsdl/drug_catalog.wsdl",
                        "address": f"http://127.0.0.1:{backend.port}/soap", "timeout": 5},
            "broken": {"type": "soap", "wsdl": "wsdl/drug_catalog.wsdl",
                       "address": f"http://127.0.0.1:{backend.port}/nowhere", "timeout": 5},
        },
        "routes": [
            {"prefix": "/v1/catalog", "upstream": "catalog", "auth": "none"},
            {"path": "/v1/drugs/{code}", "methods": ["GET"], "upstream": "catalog",
             "operation": "GetDrug", "auth": "none"},
            {"path": "/v1/search", "methods": ["GET"], "upstream": "catalog",
             "operation": "SearchDrugs", "auth": "none"},
            {"prefix": "/v1/broken", "upstream": "broken", "auth": "none"},
        ],
    }
    try:
        async with serve_gateway(config, ROOT) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
            yield client
    finally:
        await backend.stop()


async def test_a_soap_operation_answers_typed_json(gateway: httpx.AsyncClient) -> None:
    reply = await gateway.post("/v1/catalog/GetDrug", json={"code": "IBU200"})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/json")
    drug = reply.json()["drug"]
    assert drug["price"] == "4.99" and drug["inStock"] == 1200 and drug["prescriptionOnly"] is False
    assert drug["strengths"] == ["200 mg"] and drug["supplier"] == {"name": "Bayer", "country": "DE"}
    assert drug["expires"] == "2027-01-15" and drug["recalled"] is None


async def test_a_path_route_takes_its_argument_from_the_path(gateway: httpx.AsyncClient) -> None:
    reply = await gateway.get("/v1/drugs/LSN10")
    assert reply.status_code == 200
    assert reply.json()["drug"]["recalled"] == "2024-06-01T09:30:00Z"
    assert reply.json()["drug"]["strengths"] == []


async def test_query_values_are_typed_by_the_xsd(gateway: httpx.AsyncClient) -> None:
    reply = await gateway.get("/v1/search", params={"term": "i", "maxResults": "1"})
    assert reply.status_code == 200 and len(reply.json()["drug"]) == 1


async def test_a_client_fault_is_a_422_problem_with_the_request_id(gateway: httpx.AsyncClient) -> None:
    reply = await gateway.post("/v1/catalog/GetDrug", json={"code": "NOPE"}, headers={"X-Request-ID": "e2e-fault-1"})
    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"
    problem = reply.json()
    assert problem["type"] == "urn:rosetta:problem:upstream-rejected"
    assert problem["request_id"] == "e2e-fault-1" and reply.headers["x-request-id"] == "e2e-fault-1"
    assert problem["faultcode"] == "Client"
    assert problem["faultdetail"] == {"CatalogFault": {"code": "UNKNOWN_CODE", "reason": "no drug with code 'NOPE'",
                                                       "retryable": False}}


async def test_a_server_fault_is_a_502_problem(gateway: httpx.AsyncClient) -> None:
    body = {"code": "IBU200", "quantity": 20000, "deliverBy": "2030-01-01"}
    reply = await gateway.post("/v1/catalog/PlaceOrder", json=body)
    assert reply.status_code == 502 and reply.json()["type"] == "urn:rosetta:problem:upstream-fault"
    assert reply.json()["faultdetail"]["CatalogFault"]["retryable"] is True


async def test_invalid_arguments_are_a_400_naming_the_fields(gateway: httpx.AsyncClient) -> None:
    reply = await gateway.post("/v1/catalog/PlaceOrder", json={"code": "IBU200", "quantity": "3"})
    assert reply.status_code == 400
    assert {e["field"] for e in reply.json()["errors"]} == {"quantity", "deliverBy"}


async def test_an_unknown_operation_is_a_404_problem(gateway: httpx.AsyncClient) -> None:
    reply = await gateway.post("/v1/catalog/DeleteEverything", json={})
    assert reply.status_code == 404 and reply.headers["content-type"] == "application/problem+json"


async def test_a_body_that_is_not_an_object_is_a_400(gateway: httpx.AsyncClient) -> None:
    reply = await gateway.post("/v1/catalog/GetDrug", json=["AMX500"])
    assert reply.status_code == 400 and "JSON object" in reply.json()["detail"]


async def test_a_backend_answering_html_is_a_502_problem(gateway: httpx.AsyncClient) -> None:
    reply = await gateway.post("/v1/broken/GetDrug", json={"code": "AMX500"})
    assert reply.status_code == 502 and reply.json()["type"] == "urn:rosetta:problem:upstream-protocol"
    assert "Traceback" not in reply.text


async def test_a_wsdl_that_does_not_parse_stops_start_up_naming_the_upstream_and_file(tmp_path: Path) -> None:
    wsdl = tmp_path / "broken.wsdl"
    wsdl.write_text("<wsdl:definitions xmlns:wsdl='http://schemas.xmlsoap.org/wsdl/'>")
    config = build_config({"upstreams": {"legacy": {"type": "soap", "wsdl": "broken.wsdl"}}}, tmp_path)
    with pytest.raises(StartupError) as caught:
        await build_runtime(config)
    assert caught.value.errors[0].startswith(f"upstreams.legacy: cannot load WSDL {wsdl}: ")
