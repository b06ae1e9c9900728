"""Parse a SOAP backend's XML safely. Pure, no I/O.

* **No DTD.** SOAP 1.1 §3 and SOAP 1.2 Part 1 §5 forbid one, and refusing it
  stops entity bombs and external entities. A DTD can only stand in the prolog,
  so only the prolog is looked at: ``<!DOCTYPE`` inside a CDATA section or a
  comment (an HTML page a service returns as text) is content, not a DTD. For
  encodings whose prolog cannot be read as ASCII bytes (UTF-16, UTF-32), the
  parsed document is checked instead; the parser never expands entities nor
  loads anything, so nothing a DTD declares has been used by then.
* **The declared encoding.** A byte order mark, then the XML declaration's
  ``encoding`` decide; when there is neither, the ``charset`` of the
  Content-Type does (RFC 7303 §3.2), else UTF-8.
* No entity expansion, no network, libxml2's default depth and size limits.

Example::

    root = parse_xml(b"<a>caf\\xe9</a>", "text/xml; charset=ISO-8859-1")   # root.text == "café"
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from gateway.errors import BadGateway

__all__ = ["parse_xml"]

_OPTIONS = {"resolve_entities": False, "no_network": True, "huge_tree": False, "remove_comments": True,
            "remove_pis": True}  # fmt: skip
# Used on the event loop's thread only (lxml parsers must not be shared between threads).
_PARSER = etree.XMLParser(**_OPTIONS)  # type: ignore[arg-type]
_BY_CHARSET: dict[str, etree.XMLParser] = {}
# What may precede the root element besides a DTD (XML 1.0 §2.8): space, the declaration, PIs, comments.
_PROLOG = re.compile(rb"(?:[ \t\r\n]+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*?\sencoding\s*=")
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_REFUSED = "the SOAP backend's response contains a DTD or entity declarations; refused"


def parse_xml(content: bytes, content_type: str = "") -> etree._Element:
    """The root element of ``content``; BadGateway for a DTD, lxml's XMLSyntaxError when malformed."""
    if _prolog_has_dtd(content):
        raise BadGateway(_REFUSED)
    root = etree.fromstring(content, _parser(content, content_type))
    if root.getroottree().docinfo.internalDTD is not None:
        raise BadGateway(_REFUSED)
    return root


def _prolog_has_dtd(content: bytes) -> bool:
    """A ``<!DOCTYPE`` before the root element of an ASCII-compatible document."""
    start = len(_UTF8_BOM) if content.startswith(_UTF8_BOM) else 0
    prolog = _PROLOG.match(content, start)
    return prolog is not None and content.startswith(b"<!DOCTYPE", prolog.end())


def _parser(content: bytes, content_type: str) -> etree.XMLParser:
    """The default parser, or one for the Content-Type's charset when the document names none."""
    match = _CHARSET.search(content_type)
    if match is None or content.startswith((_UTF8_BOM, *_OTHER_BOMS)):
        return _PARSER
    if _DECLARED_ENCODING.match(content.lstrip(b" \t\r\n")):
        return _PARSER
    try:
        name = codecs.lookup(match.group(1)).name
    except LookupError:
        return _PARSER  # a charset Python does not know: read it as the XML says (UTF-8)
    if name == "utf-8":
        return _PARSER
    if name not in _BY_CHARSET:
        _BY_CHARSET[name] = etree.XMLParser(encoding=name, **_OPTIONS)  # type: ignore[arg-type]
    return _BY_CHARSET[name]
