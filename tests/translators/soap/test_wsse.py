"""WS-Security UsernameToken (text and digest, with timestamp) as the backend receives it."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

from lxml import etree

from gateway.testing import make_call
from tests.translators.soap.conftest import WSDL, MakeTranslator
from tests.translators.soap.servers import SOAP11, SOAP12, Scripted
from translators.soap.settings import WsseSettings
from translators.soap.wsse import (
    PASSWORD_DIGEST,
    PASSWORD_TEXT,
    WSSE,
    WSU,
    password_digest,
    security_header,
)

NS = {"wsse": WSSE, "wsu": WSU}


def received_security(scripted: Scripted) -> etree._Element:
    root = etree.fromstring(scripted.seen[-1].body)
    found = root.find(f"{{{etree.QName(root).namespace}}}Header/{{{WSSE}}}Security")
    assert found is not None
    return found


async def ping(make: MakeTranslator, scripted: Scripted, port: str | None = None, **wsse: object) -> etree._Element:
    translator = await make(wsdl=str(WSDL / "test" / "shapes.wsdl"), address=f"{scripted.url}/shapes",
                            port=port, wsse={"username": "svc", "password": "pa55", **wsse})
    await translator.handle(make_call(translator.operation("Ping"), body=json.dumps({}).encode()))
    return received_security(scripted)


async def test_a_text_password_token_reaches_the_backend(make_translator: MakeTranslator, scripted: Scripted) -> None:
    security = await ping(make_translator, scripted)
    assert security.findtext("wsse:UsernameToken/wsse:Username", namespaces=NS) == "svc"
    password = security.find("wsse:UsernameToken/wsse:Password", namespaces=NS)
    assert password is not None and password.get("Type") == PASSWORD_TEXT and password.text == "pa55"
    assert security.get(f"{{{SOAP11}}}mustUnderstand") == "1"


async def test_a_digest_token_verifies_with_the_shared_password(make_translator: MakeTranslator, scripted: Scripted) -> None:
    security = await ping(make_translator, scripted, digest=True)
    token = security.find("wsse:UsernameToken", namespaces=NS)
    assert token is not None
    nonce = base64.b64decode(token.findtext("wsse:Nonce", namespaces=NS) or "")
    created = token.findtext("wsu:Created", namespaces=NS) or ""
    expected = base64.b64encode(hashlib.sha1(nonce + created.encode() + b"pa55").digest()).decode()
    password = token.find("wsse:Password", namespaces=NS)
    assert password is not None and password.get("Type") == PASSWORD_DIGEST
    assert password.text == expected and b"pa55" not in scripted.seen[-1].body


async def test_each_call_gets_a_fresh_nonce(make_translator: MakeTranslator, scripted: Scripted) -> None:
    first = (await ping(make_translator, scripted, digest=True)).findtext(".//wsse:Nonce", namespaces=NS)
    second = (await ping(make_translator, scripted, digest=True)).findtext(".//wsse:Nonce", namespaces=NS)
    assert first != second


async def test_the_timestamp_expires_after_the_ttl(make_translator: MakeTranslator, scripted: Scripted) -> None:
    security = await ping(make_translator, scripted, ttl=60)
    created = security.findtext("wsu:Timestamp/wsu:Created", namespaces=NS) or ""
    expires = security.findtext("wsu:Timestamp/wsu:Expires", namespaces=NS) or ""
    parse = lambda text: datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")  # noqa: E731
    assert parse(expires) - parse(created) == timedelta(seconds=60)


async def test_soap_1_2_marks_the_header_must_understand_true(make_translator: MakeTranslator, scripted: Scripted) -> None:
    security = await ping(make_translator, scripted, port="ShapesSoap12")
    assert security.get(f"{{{SOAP12}}}mustUnderstand") == "true"


def test_the_header_is_reproducible_from_clock_and_nonce() -> None:
    settings = WsseSettings(username="u", password="p", digest=True, timestamp=False)  # type: ignore[arg-type]
    now = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    header = security_header(settings, SOAP11, now, b"0123456789abcdef")
    assert header.find("wsu:Timestamp", namespaces=NS) is None
    assert header.findtext(".//wsu:Created", namespaces=NS) == "2024-01-02T03:04:05.678Z"
    assert header.findtext(".//wsse:Password", namespaces=NS) == password_digest(
        b"0123456789abcdef", "2024-01-02T03:04:05.678Z", "p"
    )
