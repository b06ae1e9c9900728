"""XML names (XML 1.0 fifth edition, Namespaces in XML 1.0) and characters.

Pure predicates shared by the options model and the writer.
"""

from __future__ import annotations

import re

__all__ = [
    "XML_NS",
    "NameCache",
    "XMLNS_NS",
    "XSI_NS",
    "binds_reserved",
    "first_invalid_char",
    "is_ncname",
    "is_qname",
    "split_qname",
]

XML_NS = "http://www.w3.org/XML/1998/namespace"
XMLNS_NS = "http://www.w3.org/2000/xmlns/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

_START = (
    "A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff"
    "\u200c-\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
    "\U00010000-\U000effff"
)
_CHAR = _START + r"\-.0-9\u00b7\u0300-\u036f\u203f-\u2040"
_NCNAME = f"[{_START}][{_CHAR}]*"
_NCNAME_RE = re.compile(_NCNAME)
_QNAME_RE = re.compile(f"(?:{_NCNAME}:)?{_NCNAME}")
# Characters XML 1.0 cannot carry at all, not even as character references.
_INVALID_CHAR_RE = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def is_ncname(name: str) -> bool:
    """True for a name without a colon, e.g. ``item`` (an XML ``NCName``)."""
    return _NCNAME_RE.fullmatch(name) is not None


def is_qname(name: str) -> bool:
    """True for ``local`` or ``prefix:local`` with both parts ``NCName``\\ s."""
    return _QNAME_RE.fullmatch(name) is not None


def split_qname(name: str) -> tuple[str | None, str]:
    """``'soap:Body'`` → ``('soap', 'Body')``; ``'Body'`` → ``(None, 'Body')``."""
    prefix, colon, local = name.partition(":")
    return (prefix, local) if colon else (None, name)


def binds_reserved(prefix: str, uri: str) -> bool:
    """True if declaring ``prefix`` (``""``: the default) as ``uri`` is not allowed.

    Namespaces in XML 1.0 §3: ``xml`` is bound to its namespace and nothing else
    is; ``xmlns`` and the xmlns namespace are never declared. Parsers refuse a
    document that breaks this, so the writer must never produce one.
    """
    return prefix == "xmlns" or uri == XMLNS_NS or (prefix == "xml") != (uri == XML_NS)


def first_invalid_char(text: str) -> int:
    """Index of the first character XML 1.0 cannot represent, or -1."""
    match = _INVALID_CHAR_RE.search(text)
    return -1 if match is None else match.start()


class NameCache:
    """Resolved names for one set of options, shared by its parses.

    Bounded: a stream of documents with ever new names cannot grow it forever.
    """

    limit = 4096

    def __init__(self) -> None:
        self.elements: dict[str, tuple[str, str]] = {}
        self.attributes: dict[str, tuple[str, str, bool]] = {}

    def trim(self) -> None:
        """Forget everything once either table is over :attr:`limit`."""
        if len(self.elements) > self.limit or len(self.attributes) > self.limit:
            self.elements.clear()
            self.attributes.clear()
