"""Credentials configured under a SOAP upstream's ``auth:`` reach the backend's HTTP request."""

import asyncio
import base64
from pathlib import Path

import httpx

from gateway.testing import serve_gateway

WSDL = Path(__file__).resolve().parents[3] / "wsdl" / "drug_catalog.wsdl"


async def test_upstream_basic_credentials_and_identity_reach_a_soap_backend():
    seen: list[bytes] = []

    async def record(reader, writer):
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(record, "127.0.0.1", 0)
    address = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/soap"
    cfg = {
        "upstreams": {"cat": {"type": "soap", "wsdl": str(WSDL), "address": address,
                              "auth": {"basic": {"username": "svc", "password": "pw-1"}, "identity": True}}},
        "routes": [{"prefix": "/cat", "upstream": "cat", "auth": "none"}],
    }
    try:
        async with serve_gateway(cfg) as url, httpx.AsyncClient(base_url=url) as client:
            response = await client.post("/cat/GetDrug", json={"code": "AMX-500"})
    finally:
        server.close()
    assert response.status_code == 502
    head = seen[0].decode().lower()
    assert "authorization: basic " + base64.b64encode(b"svc:pw-1").decode().lower() in head
    assert "x-consumer-id: anonymous" in head
