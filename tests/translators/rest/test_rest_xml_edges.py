"""REST/XML upstreams at the edges: bodiless replies, values JSON cannot carry, reserved namespaces."""

import pytest

from tests.translators.rest.test_rest_xml import answering as upstream
from tests.translators.rest.test_rest_xml import client_for, config

PLAIN = {"namespaces": "strip"}


@pytest.mark.parametrize(
    ("method", "status_line", "headers"),
    [
        ("DELETE", "HTTP/1.1 204 No Content", "Content-Type: application/xml"),
        ("GET", "HTTP/1.1 304 Not Modified", "Content-Type: application/xml"),
        ("HEAD", "HTTP/1.1 200 OK", "Content-Type: application/xml\r\nContent-Length: 42"),
    ],
)
async def test_a_reply_without_a_body_keeps_its_status(method, status_line, headers):
    async with upstream(status_line, headers) as url, client_for(config(url, PLAIN)) as client:
        response = await client.request(method, "/inv/orders/1")
    assert response.status_code == int(status_line.split()[1])
    assert response.content == b""


async def test_an_empty_xml_body_is_null():
    headers = "Content-Type: application/xml\r\nContent-Length: 0"
    async with upstream("HTTP/1.1 200 OK", headers) as url, client_for(config(url, PLAIN)) as client:
        response = await client.put("/inv/orders/1", json={"id": 1})
    assert (response.status_code, response.json()) == (200, None)


async def test_a_whitespace_only_xml_body_is_a_502():
    headers = "Content-Type: application/xml\r\nContent-Length: 2"
    async with upstream("HTTP/1.1 200 OK", headers, b" \n") as url, client_for(config(url, PLAIN)) as client:
        response = await client.get("/inv/orders/1")
    assert response.status_code == 502


async def test_typed_numbers_json_cannot_carry_arrive_as_strings(tmp_path):
    xsd = tmp_path / "r.xsd"
    xsd.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="r"><xs:complexType>'
        '<xs:sequence><xs:element name="n" type="xs:integer"/><xs:element name="d" type="xs:double"/>'
        "</xs:sequence></xs:complexType></xs:element></xs:schema>"
    )
    big = "1" * 5000
    body = f"<r><n>{big}</n><d>1e400</d></r>".encode()
    headers = f"Content-Type: application/xml\r\nContent-Length: {len(body)}"
    xml = {"schema": str(xsd), "unwrap_root": True}
    async with upstream("HTTP/1.1 200 OK", headers, body) as url, client_for(config(url, xml)) as client:
        response = await client.get("/inv/r")
    assert (response.status_code, response.json()) == (200, {"n": big, "d": "1e400"})


async def test_an_upstream_reply_nested_deeper_than_json_allows_is_a_502():
    body = b"<a><a/>" * 199 + b"<a/>" + b"</a>" * 199
    headers = f"Content-Type: application/xml\r\nContent-Length: {len(body)}"
    xml = {"max_depth": 500}
    async with upstream("HTTP/1.1 200 OK", headers, body) as url, client_for(config(url, xml)) as client:
        response = await client.get("/inv/deep")
    assert response.status_code == 502
    assert response.json()["limit"] == "json_nesting"


async def test_json_rebinding_the_xml_namespace_is_a_400_naming_the_field():
    headers = "Content-Type: application/xml\r\nContent-Length: 4"
    body = {"order": {"@xmlns:xml": "urn:mine", "id": 1}}
    async with upstream("HTTP/1.1 200 OK", headers, b"<a/>") as url, client_for(config(url, PLAIN)) as client:
        response = await client.post("/inv/orders", json=body)
    assert response.status_code == 400
    assert "'xml' cannot be bound" in response.json()["detail"]
    assert "(at order)" in response.json()["detail"]
