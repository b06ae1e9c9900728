"""SOAP: a partner calling a SOAP operation from Python with zeep, or as JSON through Rosetta.

One fast SOAP backend (nginx returning a fixed ``GetDrugResponse`` envelope of
the demo catalogue: nested type, array, decimal, date, nil), in one run:

(a) zeep's ``AsyncClient`` with its default transport, as a partner would
    write it, 50 concurrent calls (in this process);
(b) the same operation through Rosetta as JSON at 50 connections (wrk).

Target: (b) ≥ 2.0 × (a). For context it also measures zeep's ``AsyncClient``
on Rosetta's pooled HTTP client (``httpx_transport``), which isolates what the
transport is worth from what zeep's per-call machinery costs.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from bench.harness import REPO, Harness, LoadSpec, Row
from bench.load import bounded_loop
from bench.scenarios import scenario

WSDL = REPO / "wsdl" / "drug_catalog.wsdl"
BINDING = "{urn:rosetta:demo:catalog}DrugCatalogSoap"
REQUEST = b'{"code": "AMX500"}'
PATH = "/s/GetDrug"


def response_envelope() -> bytes:
    """The backend's fixed answer: the demo catalogue's real GetDrug response, no XML declaration."""
    from gateway.demo.soap_backend import answer

    request = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        b'<c:GetDrug xmlns:c="urn:rosetta:demo:catalog"><c:code>AMX500</c:code></c:GetDrug>'
        b"</s:Body></s:Envelope>"
    )
    status, body = answer(request)
    assert status == 200
    return body.split(b"?>", 1)[1].strip()


def soap_config(address: str) -> dict[str, Any]:
    """Rosetta's config: the catalogue's operations under ``/s``, no auth."""
    return {
        "upstreams": {"catalog": {"type": "soap", "wsdl": str(WSDL), "address": address, "timeout": 10}},
        "routes": [{"prefix": "/s", "upstream": "catalog", "auth": "none"}],
    }


def soap_backend(h: Harness) -> str:
    """nginx answering every POST to /soap with the fixed envelope; the backend's URL."""
    envelope = response_envelope().decode()
    assert "'" not in envelope and "\n" not in envelope
    block = (
        "server { listen 127.0.0.1:{port} backlog=1024;"
        " location / { default_type 'text/xml; charset=utf-8'; return 200 '" + envelope + "'; } }"
    )
    return h.nginx("soap-backend", block) + "/soap"


@scenario("soap", "JSON-over-SOAP through Rosetta vs a direct zeep AsyncClient", order=20)
def soap(h: Harness) -> None:
    if not h.has_nginx:
        h.note("soap", "nginx not installed: no fast SOAP backend, scenario skipped")
        return
    backend = soap_backend(h)
    gateway = h.rosetta(soap_config(backend))
    spec = LoadSpec(method="POST", body=REQUEST, headers=(("Content-Type", "application/json"),))

    direct = zeep_row(h, "zeep AsyncClient, default transport", backend, pooled=False)
    zeep_pool = zeep_row(h, "zeep AsyncClient on Rosetta's pool", backend, pooled=True)
    ours = h.measure("soap", "Rosetta JSON-over-SOAP", gateway + PATH, spec)

    h.ratio("soap", "Rosetta JSON / direct zeep (default transport)", ours.rps / direct.rps, at_least=2.0)
    h.note("soap", f"zeep on Rosetta's pool / zeep default: {zeep_pool.rps / direct.rps:.2f}x")


def zeep_row(h: Harness, target: str, address: str, *, pooled: bool) -> Row:
    """Warm up, then run zeep calls at ``h.connections`` concurrency for ``h.duration``."""
    print(f"  soap: measuring {target} …", flush=True)
    row = asyncio.run(_zeep_load(address, h.connections, h.warmup, h.duration, pooled))
    row.scenario, row.target = "soap", target
    h.rows.append(row)
    return row


async def _zeep_load(address: str, connections: int, warmup: float, duration: float, pooled: bool) -> Row:
    from zeep import AsyncClient
    from zeep.proxy import AsyncServiceProxy
    from zeep.transports import AsyncTransport

    transport = AsyncTransport()
    if pooled:
        import httpx

        from translators._http import httpx_transport

        transport = AsyncTransport(client=httpx.AsyncClient(transport=httpx_transport(max_connections=connections)))
    client = AsyncClient(str(WSDL), transport=transport)
    # AsyncClient.create_service returns a blocking proxy (zeep 4.3): build the async one.
    service = AsyncServiceProxy(client, client.wsdl.bindings[BINDING], address=address)

    async def one() -> None:
        await service.GetDrug(code="AMX500")

    await bounded_loop(one, connections, warmup)
    row = await bounded_loop(one, connections, duration)
    await transport.aclose()
    return row


if __name__ == "__main__":  # print the backend's fixed envelope
    sys.stdout.buffer.write(response_envelope() + b"\n")
