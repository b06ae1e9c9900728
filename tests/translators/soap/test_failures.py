"""Bad input and misbehaving backends: each becomes its problem, never a hang or a stack trace."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from gateway.errors import GatewayError
from gateway.testing import free_port, make_call
from tests.translators.soap.conftest import WSDL, MakeTranslator
from tests.translators.soap.servers import (
    SHAPES,
    SOAP11,
    SOAP12,
    Canned,
    Scripted,
    envelope,
    fault,
    start_raw,
)
from translators.soap import SoapTranslator

SHAPES_WSDL = str(WSDL / "test" / "shapes.wsdl")


@pytest_asyncio.fixture
async def canned(make_translator: MakeTranslator, scripted: Scripted) -> AsyncIterator[tuple[SoapTranslator, Canned]]:
    scripted.canned = Canned()
    translator = await make_translator(wsdl=SHAPES_WSDL, address=f"{scripted.url}/canned", timeout=1,
                                       max_response_bytes=4096)
    yield translator, scripted.canned


async def failure(translator: SoapTranslator, operation: str = "Ping", body: bytes = b"", **kwargs: Any) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        await translator.handle(make_call(translator.operation(operation), body=body, **kwargs))
    return caught.value


def ping_reply(ns: str = SOAP11) -> bytes:
    from lxml import etree

    reply = etree.Element(f"{{{SHAPES}}}PingResponse")
    etree.SubElement(reply, f"{{{SHAPES}}}at").text = "2024-05-06T07:08:09Z"
    return envelope(ns, reply)


# -- bad input from the caller --------------------------------------------------------
async def test_wrong_json_types_name_each_field_and_its_xsd_type(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, _ = canned
    body = {"shape": {"id": "x", "active": "yes", "day": "2024-13-01", "scores": 5, "blob": "%%%"}}
    error = await failure(translator, "Echo", json.dumps(body).encode())
    assert error.http_status == 400 and error.type == "urn:rosetta:problem:invalid-arguments"
    fields = {e["field"]: e["expected"] for e in error.extra["errors"]}
    assert fields == {
        "shape.id": "xsd:long",
        "shape.active": "xsd:boolean",
        "shape.day": "xsd:date",
        "shape.scores": "array of xsd:int",
        "shape.blob": "xsd:base64Binary",
    }


async def test_a_missing_required_field_is_a_400_naming_it(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, _ = canned
    error = await failure(translator, "Echo", json.dumps({"shape": {"label": "no id"}}).encode())
    assert error.extra["errors"] == [{"field": "shape.id", "expected": "xsd:long", "message": "missing required field"}]


async def test_an_unknown_field_is_a_400(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, _ = canned
    error = await failure(translator, "Echo", json.dumps({"shape": {"id": 1}, "shapes": []}).encode())
    assert error.extra["errors"][0]["field"] == "shapes"
    assert "unknown field" in error.extra["errors"][0]["message"]


async def test_both_branches_of_a_choice_are_refused(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, _ = canned
    error = await failure(translator, "Pick", json.dumps({"byId": 1, "byName": "x"}).encode())
    assert error.http_status == 400 and "only one" in error.extra["errors"][0]["message"]
    error = await failure(translator, "Pick", b"{}")
    assert "one of these alternatives is required" in error.extra["errors"][0]["message"]


async def test_a_body_that_is_not_an_object_is_a_400(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, _ = canned
    error = await failure(translator, "Echo", b"[1, 2]")
    assert error.http_status == 400 and "JSON object" in error.detail


async def test_malformed_json_is_a_400(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, _ = canned
    error = await failure(translator, "Echo", b'{"shape": ')
    assert error.http_status == 400 and error.type == "urn:rosetta:problem:malformed-body"


async def test_an_unknown_operation_is_a_404(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, _ = canned
    with pytest.raises(GatewayError) as caught:
        translator.operation("Explode")
    assert caught.value.http_status == 404 and "Echo" in caught.value.detail


async def test_nothing_is_sent_when_the_arguments_are_invalid(canned: tuple[SoapTranslator, Canned], scripted: Scripted) -> None:
    translator, _ = canned
    before = len(scripted.seen)
    await failure(translator, "Echo", b'{"shape": {"id": true}}')
    assert len(scripted.seen) == before


# -- bad answers from the backend --------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "content_type", "body", "words"),
    [
        (200, "text/html", b"<html><body><h1>Welcome to nginx</h1></body></html>", "text/html"),
        (500, "text/html", b"<html><body>Internal Server Error<br></body></html>", "malformed XML"),
        (200, "text/xml", b"", "empty body"),
        (200, "text/xml", b"<Envelope><Body/>", "malformed XML"),
        (200, "application/json", b'{"not": "soap"}', "malformed XML"),
        (200, "text/xml", envelope(SOAP11), "no PingResponse element"),
        (200, 'multipart/related; type="application/xop+xml"; boundary="uuid:1"',
         b"--uuid:1\r\nContent-Type: application/xop+xml\r\n\r\n" + envelope(SOAP11) + b"\r\n--uuid:1--",
         "multipart/related (MTOM/XOP or SOAP with attachments), which Rosetta does not read"),
    ],
)
async def test_a_non_soap_answer_is_a_502_with_a_clear_detail(
    canned: tuple[SoapTranslator, Canned], status: int, content_type: str, body: bytes, words: str
) -> None:
    translator, answer = canned
    answer.status, answer.content_type, answer.body = status, content_type, body
    error = await failure(translator)
    assert error.http_status == 502 and error.type == "urn:rosetta:problem:upstream-protocol"
    assert words in error.detail


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"),
        ("text/xml", envelope(SOAP11)),
    ],
    ids=["maintenance-page", "envelope-without-fault"],
)
async def test_a_503_without_a_soap_fault_is_a_503_with_the_backends_retry_after(
    canned: tuple[SoapTranslator, Canned], content_type: str, body: bytes
) -> None:
    """A load balancer or maintenance page: the backend did not take the call, so retries
    and fallbacks may treat it like a refused connection."""
    translator, answer = canned
    answer.status, answer.content_type, answer.body = 503, content_type, body
    answer.headers["Retry-After"] = "30"
    error = await failure(translator)
    assert error.http_status == 503 and error.type == "urn:rosetta:problem:upstream-unreachable"
    assert "HTTP 503 without a SOAP fault" in error.detail and error.headers == {"Retry-After": "30"}


async def test_an_xml_bomb_is_refused(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, answer = canned
    answer.body = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<lolz>&lol2;</lolz>"
    )
    error = await failure(translator)
    assert error.http_status == 502 and "DTD" in error.detail


async def test_a_response_over_the_size_limit_is_a_502(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, answer = canned
    answer.body = ping_reply().replace(b"</env:Body>", b"<!--" + b"x" * 10_000 + b"--></env:Body>")
    error = await failure(translator)
    assert error.http_status == 502 and "size limit" in error.detail


async def test_a_soap_1_2_fault_to_a_1_1_port_is_a_502_that_still_tells_the_fault(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, answer = canned
    answer.status, answer.body = 500, fault(SOAP12, "Client", "wrong version")
    error = await failure(translator)
    assert error.http_status == 502 and error.type == "urn:rosetta:problem:upstream-protocol"
    assert "SOAP 1.2" in error.detail and error.extra["faultstring"] == "wrong version"


async def test_a_soap_1_2_answer_to_a_1_1_request_is_a_502(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, answer = canned
    answer.body = ping_reply(SOAP12)
    error = await failure(translator)
    assert error.http_status == 502 and "SOAP 1.2" in error.detail


async def test_a_backend_that_hangs_is_a_504_within_the_timeout(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, answer = canned
    answer.delay, answer.body = 30, ping_reply()
    started = asyncio.get_running_loop().time()
    error = await failure(translator)
    assert error.http_status == 504 and error.type == "urn:rosetta:problem:upstream-timeout"
    assert asyncio.get_running_loop().time() - started < 5


async def test_the_calls_deadline_bounds_the_wait(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, answer = canned
    answer.delay, answer.body = 30, ping_reply()
    deadline = asyncio.get_running_loop().time() + 0.2
    error = await failure(translator, deadline=deadline)
    assert error.http_status == 504


async def test_a_refused_connection_is_a_503(make_translator: MakeTranslator) -> None:
    translator = await make_translator(wsdl=SHAPES_WSDL, address=f"http://127.0.0.1:{free_port()}/shapes")
    error = await failure(translator)
    assert error.http_status == 503 and error.type == "urn:rosetta:problem:upstream-unreachable"


async def test_garbage_instead_of_http_is_a_502(make_translator: MakeTranslator) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SOAP/9.9 banana\r\n\r\n")
        await writer.drain()

    port, server = await start_raw(garbage)
    try:
        translator = await make_translator(wsdl=SHAPES_WSDL, address=f"http://127.0.0.1:{port}/shapes")
        error = await failure(translator)
        assert error.http_status == 502 and "HTTP protocol" in error.detail
    finally:
        server.close()


async def test_a_reset_mid_answer_is_a_502(make_translator: MakeTranslator) -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n<soap:Env")
        await writer.drain()
        writer.transport.abort()

    port, server = await start_raw(reset)
    try:
        translator = await make_translator(wsdl=SHAPES_WSDL, address=f"http://127.0.0.1:{port}/shapes")
        error = await failure(translator)
        assert error.http_status == 502
    finally:
        server.close()


async def test_a_one_way_style_empty_202_is_an_empty_object_only_for_one_way_operations(
    canned: tuple[SoapTranslator, Canned]
) -> None:
    translator, answer = canned
    answer.status, answer.body = 202, b""
    error = await failure(translator)
    assert error.http_status == 502 and "empty body" in error.detail


async def test_the_upstream_serves_again_after_a_call_timed_out(canned: tuple[SoapTranslator, Canned]) -> None:
    translator, answer = canned
    answer.delay, answer.body = 30, ping_reply()
    deadline = asyncio.get_running_loop().time() + 0.2
    assert (await failure(translator, deadline=deadline)).http_status == 504
    answer.delay = 0
    reply = await translator.handle(make_call(translator.operation("Ping"), body=b"{}"))
    assert reply.json == {"at": "2024-05-06T07:08:09Z"}


def _ping_with_text(text: str) -> str:
    return (f'<env:Envelope xmlns:env="{SOAP11}"><env:Body><p:PingResponse xmlns:p="{SHAPES}">'
            f"{text}<p:at>2024-05-06T07:08:09Z</p:at></p:PingResponse></env:Body></env:Envelope>")


@pytest.mark.parametrize(
    "inside",
    ["<![CDATA[<!DOCTYPE html><html></html>]]>", "<!-- no <!ENTITY here -->"],
)
async def test_doctype_words_inside_cdata_or_a_comment_are_not_a_dtd(
    canned: tuple[SoapTranslator, Canned], inside: str
) -> None:
    """Services that return HTML pages in CDATA are common; only a real DTD is refused."""
    translator, answer = canned
    answer.body = _ping_with_text(inside).encode()
    reply = await translator.handle(make_call(translator.operation("Ping"), body=b"{}"))
    assert reply.json == {"at": "2024-05-06T07:08:09Z"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
async def test_a_dtd_in_a_utf16_or_utf32_response_is_refused_too(
    canned: tuple[SoapTranslator, Canned], encoding: str
) -> None:
    translator, answer = canned
    dtd = '<!DOCTYPE env:Envelope [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    answer.body = (f'<?xml version="1.0" encoding="{encoding.upper()}"?>{dtd}' + _ping_with_text("&x;")).encode(encoding)
    error = await failure(translator)
    assert error.http_status == 502 and "DTD" in error.detail


async def test_the_content_type_charset_is_used_when_the_xml_declares_none(canned: tuple[SoapTranslator, Canned]) -> None:
    """RFC 7303 §3.2: without a BOM or an encoding declaration, the charset parameter tells."""
    translator, answer = canned
    answer.content_type = "text/xml; charset=ISO-8859-1"
    answer.body = _ping_with_text("<p:note>café</p:note>").encode("latin-1")
    reply = await translator.handle(make_call(translator.operation("Ping"), body=b"{}"))
    assert reply.json == {"at": "2024-05-06T07:08:09Z", "note": "café"}
