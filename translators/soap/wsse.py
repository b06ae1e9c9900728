"""WS-Security UsernameToken headers (OASIS WSS 1.1 UsernameToken Profile). Pure, no I/O.

``PasswordDigest = Base64(SHA-1(nonce + created + password))`` (profile §3.1);
the text form sends the password as is. Both may carry a ``wsu:Timestamp``.
The caller supplies the clock and the nonce, so a header is reproducible in tests::

    header = security_header(settings, SOAP_ENV["1.1"], now=datetime.now(UTC), nonce=os.urandom(16))
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

from lxml import etree

from translators.soap.settings import WsseSettings

__all__ = ["PASSWORD_DIGEST", "PASSWORD_TEXT", "WSSE", "WSU", "password_digest", "security_header"]

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_TEXT = f"{_PROFILE}#PasswordText"
PASSWORD_DIGEST = f"{_PROFILE}#PasswordDigest"
_BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """Base64(SHA-1(nonce + created + password)), per the UsernameToken Profile §3.1."""
    digest = hashlib.sha1(nonce + created.encode() + password.encode()).digest()  # noqa: S324 - the profile's algorithm
    return base64.b64encode(digest).decode()


def security_header(settings: WsseSettings, envelope_ns: str, now: datetime, nonce: bytes) -> etree._Element:
    """A ``wsse:Security`` header block with a UsernameToken (and a Timestamp when configured)."""
    security = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    must = "true" if envelope_ns.endswith("2003/05/soap-envelope") else "1"
    security.set(f"{{{envelope_ns}}}mustUnderstand", must)
    created = _stamp(now)
    if settings.timestamp:
        timestamp = etree.SubElement(security, f"{{{WSU}}}Timestamp")
        etree.SubElement(timestamp, f"{{{WSU}}}Created").text = created
        etree.SubElement(timestamp, f"{{{WSU}}}Expires").text = _stamp(now + timedelta(seconds=settings.ttl))
    token = etree.SubElement(security, f"{{{WSSE}}}UsernameToken")
    etree.SubElement(token, f"{{{WSSE}}}Username").text = settings.username
    password = settings.password.get_secret_value()
    element = etree.SubElement(token, f"{{{WSSE}}}Password")
    if settings.digest:
        element.set("Type", PASSWORD_DIGEST)
        element.text = password_digest(nonce, created, password)
        nonce_element = etree.SubElement(token, f"{{{WSSE}}}Nonce", EncodingType=_BASE64)
        nonce_element.text = base64.b64encode(nonce).decode()
        etree.SubElement(token, f"{{{WSU}}}Created").text = created
    else:
        element.set("Type", PASSWORD_TEXT)
        element.text = password
    return security


def _stamp(moment: datetime) -> str:
    """UTC, millisecond precision, ``Z`` suffix: the form WSS examples and most servers use."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
