"""The demo's SOAP backend: a drug catalogue (SOAP 1.1, document/literal wrapped).

Its WSDL is ``wsdl/drug_catalog.wsdl`` (served at ``GET /soap?wsdl``). It has
arrays (``strengths``, search results), a nested type (``supplier``), a decimal
(``price``), a date (``expires``), a nillable dateTime (``recalled``) and a
declared fault (``CatalogFault``): an unknown code or a bad quantity is a
``soap:Client`` fault, an order over 10 000 units a ``soap:Server`` fault.

Written with lxml on Sanic for the demo and Rosetta's own tests::

    backend = await start("127.0.0.1", 0)
    print(backend.port)
    await backend.stop()
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree
from sanic import Request, Sanic
from sanic.response import HTTPResponse, raw

from gateway.app import RunningServer, start_server

__all__ = ["CURL_LINES", "PORT_ENV", "WSDL", "start"]

PORT_ENV = "ROSETTA_DEMO_SOAP_PORT"
WSDL = Path(__file__).resolve().parents[2] / "wsdl" / "drug_catalog.wsdl"
CURL_LINES = [
    "curl -s -X POST {gateway}/v1/catalog/GetDrug -H 'Content-Type: application/json' -d '{{\"code\": \"AMX500\"}}'",
    "curl -s -X POST {gateway}/v1/catalog/SearchDrugs -H 'Content-Type: application/json' -d '{{\"term\": \"i\", \"maxResults\": 5}}'",
    "curl -s -X POST {gateway}/v1/catalog/PlaceOrder -H 'Content-Type: application/json' -d '{{\"code\": \"IBU200\", \"quantity\": 3, \"deliverBy\": \"2030-01-31\"}}'",
    "curl -s {gateway}/v1/drugs/LSN10",
    "curl -s -X POST {gateway}/v1/catalog/GetDrug -H 'Content-Type: application/json' -d '{{\"code\": \"NOPE\"}}'  # expect 422",
]

NS = "urn:rosetta:demo:catalog"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_MAX_QUANTITY = 10_000

_DRUGS: dict[str, dict[str, Any]] = {
    "AMX500": {"name": "Amoxicillin 500 mg", "price": "12.50", "inStock": 140, "prescriptionOnly": True,
               "expires": "2026-03-31", "strengths": ["250 mg", "500 mg"],
               "supplier": ("Medline", "US"), "recalled": None},
    "IBU200": {"name": "Ibuprofen 200 mg", "price": "4.99", "inStock": 1200, "prescriptionOnly": False,
               "expires": "2027-01-15", "strengths": ["200 mg"],
               "supplier": ("Bayer", "DE"), "recalled": None},
    "LSN10": {"name": "Lisinopril 10 mg", "price": "8.75", "inStock": 0, "prescriptionOnly": True,
              "expires": "2025-11-30", "strengths": [],
              "supplier": ("Teva", "IL"), "recalled": "2024-06-01T09:30:00Z"},
}  # fmt: skip


class CatalogFault(Exception):
    """A fault the service answers with: ``side`` is Client or Server."""

    def __init__(self, side: str, code: str, reason: str, retryable: bool = False) -> None:
        super().__init__(reason)
        self.side, self.code, self.reason, self.retryable = side, code, reason, retryable


def _q(local: str) -> str:
    return f"{{{NS}}}{local}"


def _add(parent: etree._Element, local: str, text: Any) -> etree._Element:
    child = etree.SubElement(parent, _q(local))
    if text is None:
        child.set(f"{{{_XSI}}}nil", "true")
    else:
        child.text = ("true" if text else "false") if isinstance(text, bool) else str(text)
    return child


def _drug(parent: etree._Element, tag: str, code: str) -> None:
    data = _DRUGS[code]
    node = etree.SubElement(parent, _q(tag))
    _add(node, "code", code)
    for key in ("name", "price", "inStock", "prescriptionOnly", "expires"):
        _add(node, key, data[key])
    for strength in data["strengths"]:
        _add(node, "strengths", strength)
    supplier = etree.SubElement(node, _q("supplier"))
    _add(supplier, "name", data["supplier"][0])
    _add(supplier, "country", data["supplier"][1])
    _add(node, "recalled", data["recalled"])


def _text(request: etree._Element, local: str) -> str:
    return (request.findtext(_q(local)) or "").strip()


def _known(code: str) -> str:
    if code not in _DRUGS:
        raise CatalogFault("Client", "UNKNOWN_CODE", f"no drug with code '{code}'")
    return code


def get_drug(request: etree._Element, response: etree._Element) -> None:
    _drug(response, "drug", _known(_text(request, "code")))


def search_drugs(request: etree._Element, response: etree._Element) -> None:
    term = _text(request, "term").lower()
    limit = int(_text(request, "maxResults") or len(_DRUGS))
    found = [code for code, data in _DRUGS.items() if term in data["name"].lower()]
    for code in found[:limit]:
        _drug(response, "drug", code)


_orders = itertools.count(1001)


def place_order(request: etree._Element, response: etree._Element) -> None:
    code = _known(_text(request, "code"))
    quantity = int(_text(request, "quantity"))
    if quantity > _MAX_QUANTITY:
        raise CatalogFault("Server", "WAREHOUSE_BUSY", "the warehouse cannot take orders this large now", True)
    if quantity <= 0:
        raise CatalogFault("Client", "BAD_QUANTITY", "quantity must be at least 1")
    if quantity > _DRUGS[code]["inStock"]:
        raise CatalogFault("Client", "OUT_OF_STOCK", f"only {_DRUGS[code]['inStock']} in stock", True)
    _add(response, "orderId", f"ORD-{next(_orders)}")
    _add(response, "total", Decimal(_DRUGS[code]["price"]) * quantity)
    _add(response, "deliverBy", _text(request, "deliverBy"))


_OPERATIONS = {"GetDrug": get_drug, "SearchDrugs": search_drugs, "PlaceOrder": place_order}


def answer(body: bytes) -> tuple[int, bytes]:
    """The HTTP status and SOAP envelope answering the request envelope ``body``."""
    try:
        request = _request_element(body)
        handler = _OPERATIONS[etree.QName(request).localname]
        envelope, payload = _envelope()
        handler(request, etree.SubElement(payload, _q(etree.QName(request).localname + "Response")))
        return 200, etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    except CatalogFault as fault:
        return 500, _fault(fault)
    except (etree.XMLSyntaxError, KeyError, ValueError, StopIteration) as exc:
        return 500, _fault(CatalogFault("Client", "BAD_REQUEST", f"cannot read the request: {exc}"))


def _request_element(body: bytes) -> etree._Element:
    root = etree.fromstring(body, _PARSER)
    payload = root.find(f"{{{SOAP}}}Body")
    if payload is None:
        raise ValueError("no soap:Body")
    return next(child for child in payload if isinstance(child.tag, str))


def _envelope() -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP, "c": NS, "xsi": _XSI})
    return envelope, etree.SubElement(envelope, f"{{{SOAP}}}Body")


def _fault(fault: CatalogFault) -> bytes:
    envelope, payload = _envelope()
    node = etree.SubElement(payload, f"{{{SOAP}}}Fault")
    etree.SubElement(node, "faultcode").text = f"soap:{fault.side}"
    etree.SubElement(node, "faultstring").text = fault.reason
    detail = etree.SubElement(etree.SubElement(node, "detail"), _q("CatalogFault"))
    _add(detail, "code", fault.code)
    _add(detail, "reason", fault.reason)
    _add(detail, "retryable", fault.retryable)
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def make_app() -> Sanic:
    """The catalogue's Sanic app: ``POST /soap`` and ``GET /soap?wsdl``."""
    app = Sanic(f"demo_catalog_{next(_names)}", configure_logging=False)
    app.config.MOTD = False
    app.config.ACCESS_LOG = False

    @app.post("/soap")
    async def soap(request: Request) -> HTTPResponse:
        status, body = answer(request.body)
        return raw(body, status=status, content_type="text/xml; charset=utf-8")

    @app.get("/soap")
    async def wsdl(request: Request) -> HTTPResponse:
        here = f"{request.scheme}://{request.host}/soap".encode()
        text = WSDL.read_bytes().replace(b"http://127.0.0.1:9102/soap", here)
        return raw(text, content_type="text/xml; charset=utf-8")

    return app


_names = itertools.count()


async def start(host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve the catalogue in this event loop; ``.port`` tells where."""
    return await start_server(make_app(), host, port)
