"""Real SOAP servers for the SOAP translator tests (all on 127.0.0.1).

* :func:`start_scripted` — our own lxml services on Sanic: ``/shapes``
  (wsdl/test/shapes.wsdl, SOAP 1.1 and 1.2, echoes), ``/ledger`` (rpc/literal),
  ``/words`` (rpc/encoded) and ``/canned`` (answers whatever the test sets,
  or hangs). Every request is recorded in ``backend.seen``.
* :func:`start_spyne` — a spyne service (document/literal wrapped, arrays,
  faults) in a thread, serving its own WSDL; SOAP 1.1 or 1.2.
* :func:`start_raw` — a TCP server that speaks broken HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from sanic import Request, Sanic
from sanic.response import HTTPResponse, raw

from gateway.app import RunningServer, start_server

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SHAPES = "urn:rosetta:test:shapes"
LEDGER = "urn:rosetta:test:ledger"
WORDS = "urn:rosetta:test:words"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SOAPENC = "http://schemas.xmlsoap.org/soap/encoding/"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_names = itertools.count()


@dataclass
class Canned:
    """What ``/canned`` answers."""

    status: int = 200
    content_type: str = "text/xml; charset=utf-8"
    body: bytes = b""
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Scripted:
    server: RunningServer
    canned: Canned = field(default_factory=Canned)
    seen: list[Seen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    async def stop(self) -> None:
        await self.server.stop()


# -- SOAP plumbing ----------------------------------------------------------------
def envelope(ns: str, *children: etree._Element) -> bytes:
    env = etree.Element(f"{{{ns}}}Envelope", nsmap={"env": ns, "xsi": XSI})
    body = etree.SubElement(env, f"{{{ns}}}Body")
    body.extend(children)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def fault(ns: str, side: str, reason: str, detail: etree._Element | None = None) -> bytes:
    """A Client/Server fault (1.1) or Sender/Receiver fault (1.2) in envelope version ``ns``."""
    if ns == SOAP11:
        node = etree.Element(f"{{{ns}}}Fault")
        etree.SubElement(node, "faultcode").text = f"env:{side}"
        etree.SubElement(node, "faultstring").text = reason
        etree.SubElement(node, "faultactor").text = "urn:rosetta:test:actor"
        if detail is not None:
            etree.SubElement(node, "detail").append(detail)
        return envelope(ns, node)
    node = etree.Element(f"{{{ns}}}Fault")
    code = etree.SubElement(node, f"{{{ns}}}Code")
    etree.SubElement(code, f"{{{ns}}}Value").text = "env:" + {"Client": "Sender", "Server": "Receiver"}[side]
    sub = etree.SubElement(code, f"{{{ns}}}Subcode")
    etree.SubElement(sub, f"{{{ns}}}Value", nsmap={"app": SHAPES}).text = "app:Limit"
    reason_node = etree.SubElement(node, f"{{{ns}}}Reason")
    etree.SubElement(reason_node, f"{{{ns}}}Text", {"{http://www.w3.org/XML/1998/namespace}lang": "en"}).text = reason
    etree.SubElement(node, f"{{{ns}}}Role").text = "urn:rosetta:test:actor"
    if detail is not None:
        etree.SubElement(node, f"{{{ns}}}Detail").append(detail)
    return envelope(ns, node)


def request_payload(body: bytes) -> tuple[str, etree._Element]:
    root = etree.fromstring(body, _PARSER)
    ns = etree.QName(root).namespace
    payload = root.find(f"{{{ns}}}Body")
    assert payload is not None
    return ns, next(child for child in payload if isinstance(child.tag, str))


# -- /shapes: document/literal, SOAP 1.1 and 1.2 -----------------------------------
def _s(local: str) -> str:
    return f"{{{SHAPES}}}{local}"


def answer_shapes(body: bytes) -> tuple[int, bytes]:
    ns, request = request_payload(body)
    name = etree.QName(request).localname
    if name == "Echo":
        shape = request.find(_s("shape"))
        assert shape is not None
        if shape.findtext(_s("id")) in ("-1", "-2"):
            side = "Client" if shape.findtext(_s("id")) == "-1" else "Server"
            detail = etree.Element(_s("ShapeFault"))
            etree.SubElement(detail, _s("field")).text = "id"
            etree.SubElement(detail, _s("limit")).text = "0"
            return 500, fault(ns, side, "id must be positive", detail)
        reply = etree.Element(_s("EchoResponse"))
        reply.append(shape)
        return 200, envelope(ns, reply)
    if name == "Pick":
        reply = etree.Element(_s("PickResponse"))
        by_id, by_name = request.findtext(_s("byId")), request.findtext(_s("byName"))
        etree.SubElement(reply, _s("found")).text = f"id:{by_id}" if by_id else f"name:{by_name}"
        return 200, envelope(ns, reply)
    if name == "MeasureRequest":
        radius = float(request.findtext(_s("radius")) or 0)
        area = etree.Element(_s("Area"))
        area.text = repr(math.pi * radius * radius)
        return 200, envelope(ns, area)
    reply = etree.Element(_s("PingResponse"))
    etree.SubElement(reply, _s("at")).text = "2024-05-06T07:08:09Z"
    return 200, envelope(ns, reply)


# -- /ledger: rpc/literal ----------------------------------------------------------
_BALANCES = {"alice": "100.00", "bob": "20.50"}


def answer_ledger(body: bytes) -> tuple[int, bytes]:
    ns, request = request_payload(body)
    name = etree.QName(request).localname
    account = request.findtext("account") or request.findtext("from") or ""
    if account not in _BALANCES:
        return 500, fault(ns, "Client", f"unknown account '{account}'")
    reply = etree.Element(f"{{{LEDGER}}}{name}Response")
    if name == "Transfer":
        receipt = etree.SubElement(reply, "receipt")
        etree.SubElement(receipt, "id").text = "R-" + (request.findtext("memo/text") or "")
        etree.SubElement(receipt, "at").text = "2024-01-02T03:04:05Z"
    etree.SubElement(reply, "balance").text = _BALANCES[account]
    return 200, envelope(ns, reply)


# -- /words: rpc/encoded -----------------------------------------------------------
def answer_words(body: bytes) -> tuple[int, bytes]:
    ns, request = request_payload(body)
    name = etree.QName(request).localname
    reply = etree.Element(f"{{{WORDS}}}{name}Response", nsmap={"enc": SOAPENC, "xsd": "http://www.w3.org/2001/XMLSchema"})
    if name == "Join":
        words = [item.text or "" for item in request.find("words")]
        joined = (request.findtext("separator") or "").join(words)
        etree.SubElement(reply, "joined", {f"{{{XSI}}}type": "xsd:string"}).text = joined
        etree.SubElement(reply, "count", {f"{{{XSI}}}type": "xsd:int"}).text = str(len(words))
    else:
        parts = (request.findtext("text") or "").split()
        array = etree.SubElement(reply, "words", {f"{{{XSI}}}type": "enc:Array",
                                                  f"{{{SOAPENC}}}arrayType": f"xsd:string[{len(parts)}]"})
        for part in parts:
            etree.SubElement(array, "item", {f"{{{XSI}}}type": "xsd:string"}).text = part
    return 200, envelope(ns, reply)


_ANSWERS: dict[str, Callable[[bytes], tuple[int, bytes]]] = {
    "shapes": answer_shapes, "ledger": answer_ledger, "words": answer_words,
}


async def start_scripted() -> Scripted:
    """Serve /shapes, /ledger, /words and /canned on a free port."""
    app = Sanic(f"soap_scripted_{next(_names)}", configure_logging=False)
    app.config.MOTD = False
    app.config.ACCESS_LOG = False
    state: dict[str, Scripted] = {}

    @app.post("/<service>")
    async def serve(request: Request, service: str) -> HTTPResponse:
        backend = state["backend"]
        backend.seen.append(Seen(service, {k.lower(): v for k, v in request.headers.items()}, request.body))
        if service == "canned":
            canned = backend.canned
            if canned.delay:
                await asyncio.sleep(canned.delay)
            return raw(canned.body, status=canned.status, content_type=canned.content_type, headers=canned.headers)
        status, body = _ANSWERS[service](request.body)
        kind = "application/soap+xml" if SOAP12.encode() in body[:400] else "text/xml"
        return raw(body, status=status, content_type=f"{kind}; charset=utf-8")

    backend = Scripted(await start_server(app))
    state["backend"] = backend
    return backend


# -- spyne ---------------------------------------------------------------------------
@dataclass
class SpyneServer:
    port: int
    wsdl: bytes
    stop: Callable[[], None]


def start_spyne(version: str = "1.1") -> SpyneServer:
    """A spyne service in a thread: Add, Divide (fault), Items (array), Stats (nested)."""
    import urllib.request
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from spyne import (
        Application,
        Array,
        ComplexModel,
        Decimal,
        Fault,
        Integer,
        ServiceBase,
        Unicode,
        rpc,
    )
    from spyne.protocol.soap import Soap11, Soap12
    from spyne.server.wsgi import WsgiApplication

    class Item(ComplexModel):
        __namespace__ = "urn:rosetta:test:spyne"
        name = Unicode
        qty = Integer
        price = Decimal

    class Calculator(ServiceBase):
        @rpc(Integer(min_occurs=1, nillable=False), Integer(min_occurs=1, nillable=False), _returns=Integer)
        def Add(ctx: Any, intA: int, intB: int) -> int:  # noqa: N802, N803 - SOAP names
            return intA + intB

        @rpc(Integer(min_occurs=1, nillable=False), Integer(min_occurs=1, nillable=False), _returns=Integer)
        def Divide(ctx: Any, intA: int, intB: int) -> int:  # noqa: N802, N803
            if intB == 0:
                raise Fault(faultcode="Client.DivideByZero", faultstring="cannot divide by zero",
                            detail={"dividend": str(intA)})
            if intA < 0:
                raise Fault(faultcode="Server", faultstring="negative dividends are not implemented")
            return intA // intB

        @rpc(Unicode, Integer, _returns=Array(Item))
        def Items(ctx: Any, prefix: str, count: int) -> list[Item]:  # noqa: N802
            return [Item(name=f"{prefix}{i}", qty=i, price="1.10") for i in range(count or 0)]

    protocol = Soap12 if version == "1.2" else Soap11
    app = Application([Calculator], "urn:rosetta:test:spyne",
                      in_protocol=protocol(validator="lxml"), out_protocol=protocol())

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server: WSGIServer = make_server("127.0.0.1", 0, WsgiApplication(app), handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    port = server.server_address[1]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/?wsdl", timeout=30) as reply:  # noqa: S310 - loopback
        wsdl = reply.read()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return SpyneServer(port, wsdl, stop)


# -- raw TCP -----------------------------------------------------------------------
RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def start_raw(handler: RawHandler) -> tuple[int, asyncio.Server]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server.sockets[0].getsockname()[1], server
