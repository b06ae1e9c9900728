"""REST/XML upstreams: JSON at the front door, XML at the backend, typed by the XSD."""

import asyncio
import contextlib
from pathlib import Path

import httpx
import pytest

from gateway.config import build_config
from gateway.demo import xml_backend
from gateway.runtime import StartupError, build_runtime
from gateway.testing import serve_gateway

ROOT = Path(__file__).resolve().parents[3]
XSD = str(ROOT / "wsdl" / "inventory.xsd")
XML_OPTIONS = {"namespaces": "strip", "schema": XSD, "root": "order", "unwrap_root": True,
               "xmlns": {"": "urn:rosetta:demo:inventory"}}


@pytest.fixture(scope="module")
async def inventory():
    backend = await xml_backend.start()
    yield f"http://127.0.0.1:{backend.port}"
    await backend.stop()


def config(url, xml=None, route_options=None):
    route = {"prefix": "/inv", "upstream": "inv", "auth": "none"}
    if route_options:
        route["options"] = route_options
    return {
        "upstreams": {"inv": {"type": "rest", "url": url, "format": "xml", "xml": xml or XML_OPTIONS}},
        "routes": [route],
    }


@contextlib.asynccontextmanager
async def client_for(cfg):
    async with serve_gateway(cfg) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def test_a_one_item_list_is_a_one_item_array_when_the_xsd_says_unbounded(inventory):
    async with client_for(config(inventory)) as client:
        order = (await client.get("/inv/orders/1")).json()
    assert order["items"] == {"item": [{"sku": "AMX-500", "qty": 2, "price": "3.10"}]}


async def test_scalars_take_their_xsd_types_and_nil_is_null(inventory):
    async with client_for(config(inventory)) as client:
        order = (await client.get("/inv/orders/1")).json()
    assert (order["id"], order["rush"], order["total"], order["placed"], order["note"]) == (1, False, "6.20", "2026-11-02", None)


async def test_without_a_schema_one_item_is_an_object_unless_forced(inventory):
    plain = {"namespaces": "strip", "unwrap_root": True}
    forced = {**plain, "force_list": ["order/items/item"]}
    async with client_for(config(inventory, plain)) as client:
        assert isinstance((await client.get("/inv/orders/1")).json()["items"]["item"], dict)
    async with client_for(config(inventory, forced)) as client:
        assert isinstance((await client.get("/inv/orders/1")).json()["items"]["item"], list)


async def test_a_json_body_goes_to_the_backend_as_xml(inventory):
    body = {"customer": "Ward 4 & <Annex>", "rush": True, "items": {"item": [{"sku": "S-1", "qty": 3, "price": "1.50"}]}}
    async with client_for(config(inventory)) as client:
        response = await client.post("/inv/orders", json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["customer"] == "Ward 4 & <Annex>" and created["rush"] is True
    assert created["items"]["item"] == [{"sku": "S-1", "qty": 3, "price": "1.50"}]
    assert response.headers["content-type"] == "application/json"


async def test_json_that_cannot_be_xml_is_a_400(inventory):
    async with client_for(config(inventory)) as client:
        response = await client.post("/inv/orders", json={"bad name": 1})
    assert response.status_code == 400
    assert "not a valid XML element name" in response.json()["detail"]


async def test_a_route_can_override_the_upstream_xml_options(inventory):
    async with client_for(config(inventory, route_options={"xml": {"unwrap_root": False}})) as client:
        order = (await client.get("/inv/orders/1")).json()
    assert set(order) == {"order"}


async def test_bad_route_xml_options_are_a_startup_error(inventory):
    cfg = build_config(config(inventory, route_options={"xml": {"namespacez": "strip"}}), ROOT)
    with pytest.raises(StartupError, match=r"routes\[0\]: options.xml"):
        await build_runtime(cfg)


async def test_a_missing_schema_file_is_a_config_error(inventory):
    from gateway.config import ConfigError

    with pytest.raises(ConfigError, match="upstreams.inv.xml.schema: .*file not found"):
        build_config(config(inventory, {**XML_OPTIONS, "schema": "nope.xsd"}), ROOT)


@contextlib.asynccontextmanager
async def answering(status_line, headers, body=b""):
    """A one-shot HTTP/1.1 backend answering every request with the same bytes."""
    async def answer(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(f"{status_line}\r\n{headers}\r\n\r\n".encode() + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


def raw_upstream(status_line, content_type, body):
    return answering(status_line, f"Content-Type: {content_type}\r\nContent-Length: {len(body)}", body)


async def test_non_xml_responses_pass_through_untouched():
    async with raw_upstream("HTTP/1.1 200 OK", "text/plain", b"plain words") as url, client_for(config(url)) as client:
        response = await client.get("/inv/x")
    assert (response.text, response.headers["content-type"]) == ("plain words", "text/plain")


@pytest.mark.parametrize(
    "body",
    [
        b"<order><id>1</id>",  # truncated
        b"<order><id>1</wrong></order>",  # malformed
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><order>&b;</order>',  # bomb
        b'<?xml version="1.0"?><!DOCTYPE o [<!ENTITY x SYSTEM "file:///etc/passwd">]><order>&x;</order>',  # XXE
    ],
)
async def test_bad_xml_from_the_upstream_is_a_502(body):
    async with raw_upstream("HTTP/1.1 200 OK", "application/xml", body) as url, client_for(config(url)) as client:
        response = await client.get("/inv/x")
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert "passwd" not in response.text and "root:" not in response.text


async def test_an_upstream_xml_body_over_the_limit_is_a_502():
    big = b"<order>" + b"<i>x</i>" * 2000 + b"</order>"
    options = {**XML_OPTIONS, "max_bytes": 1024}
    async with raw_upstream("HTTP/1.1 200 OK", "application/xml", big) as url, client_for(config(url, options)) as client:
        response = await client.get("/inv/x")
    assert response.status_code == 502
