"""The demo's REST/XML backend: an inventory service that speaks only XML.

    GET  /orders/{id}     an order document (order 1 has one item: it still
                          comes out as a one-item JSON array through Rosetta)
    POST /orders          store an order sent as XML; answers it back with an id
"""

from __future__ import annotations

import itertools
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree
from sanic import Request, Sanic
from sanic.response import HTTPResponse

from gateway.app import RunningServer, start_server

__all__ = ["CURL_LINES", "PORT_ENV", "start"]

PORT_ENV = "ROSETTA_DEMO_XML_PORT"
CURL_LINES = [
    "curl -s {gateway}/v1/inventory/orders/1",
    "curl -s -X POST {gateway}/v1/inventory/orders -H 'Content-Type: application/json' "
    "-d '{{\"customer\": \"Ward 4\", \"rush\": true, \"items\": {{\"item\": [{{\"sku\": \"AMX-500\", \"qty\": 2, \"price\": \"3.10\"}}]}}}}'",
]

NS = "urn:rosetta:demo:inventory"
_XML = "application/xml; charset=utf-8"
_ORDERS: dict[int, dict[str, Any]] = {
    1: {"customer": "Ward 7", "placed": "2026-11-02", "rush": "false", "note": None,
        "items": [("AMX-500", 2, "3.10")]},
    2: {"customer": "Pharmacy Main St", "placed": "2026-11-20", "rush": "true", "note": "call first",
        "items": [("LIS-010", 10, "0.45"), ("MET-850", 30, "0.12"), ("AMX-500", 1, "3.10")]},
}
_names = itertools.count()
_parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _render(order_id: int, order: dict[str, Any]) -> bytes:
    items = "".join(
        f"<item><sku>{escape(sku)}</sku><qty>{qty}</qty><price>{price}</price></item>"
        for sku, qty, price in order["items"]
    )
    total = sum(qty * float(price) for _, qty, price in order["items"])
    note = (
        '<note xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>'
        if order["note"] is None else f"<note>{escape(order['note'])}</note>"
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><order xmlns="{NS}"><id>{order_id}</id>'
        f"<customer>{escape(order['customer'])}</customer><placed>{order['placed']}</placed>"
        f"<rush>{order['rush']}</rush><items>{items}</items><total>{total:.2f}</total>{note}</order>"
    ).encode()


def _parse(body: bytes) -> dict[str, Any]:
    root = etree.fromstring(body, _parser)
    q = f"{{{NS}}}"
    return {
        "customer": root.findtext(q + "customer", ""),
        "placed": root.findtext(q + "placed") or "2026-11-25",
        "rush": root.findtext(q + "rush", "false"),
        "note": root.findtext(q + "note"),
        "items": [
            (i.findtext(q + "sku", ""), int(i.findtext(q + "qty", "0")), i.findtext(q + "price", "0"))
            for i in root.iter(q + "item")
        ],
    }


def make_app() -> Sanic:
    """The inventory Sanic app."""
    app = Sanic(f"demo_inventory_{next(_names)}", configure_logging=False)
    app.config.MOTD = False
    orders = dict(_ORDERS)
    ids = itertools.count(100)

    @app.get("/orders/<order_id:int>")
    async def get_order(request: Request, order_id: int) -> HTTPResponse:
        if order_id not in orders:
            return HTTPResponse(f"<error>no order {order_id}</error>", status=404, content_type=_XML)
        return HTTPResponse(_render(order_id, orders[order_id]), content_type=_XML)

    @app.post("/orders")
    async def create(request: Request) -> HTTPResponse:
        try:
            order = _parse(request.body)
        except (etree.XMLSyntaxError, ValueError) as exc:
            return HTTPResponse(f"<error>{escape(str(exc))}</error>", status=400, content_type=_XML)
        order_id = next(ids)
        orders[order_id] = order
        return HTTPResponse(_render(order_id, order), status=201, content_type=_XML)

    return app


async def start(host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve the inventory in this event loop; ``.port`` tells where."""
    return await start_server(make_app(), host, port)
