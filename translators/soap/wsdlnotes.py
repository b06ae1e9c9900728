"""What zeep drops from a WSDL but Rosetta shows: documentation and ``use="encoded"``.

Read from the WSDL documents the loader already holds in memory (no I/O here)::

    notes = read_notes(loader.documents.values())
    notes.docs["Add"]                      # "Adds two integers."
    ("{urn:calc}CalcSoap", "Add") in notes.encoded
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

__all__ = ["WsdlNotes", "read_notes"]

_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_SOAP_BINDINGS = ("http://schemas.xmlsoap.org/wsdl/soap/", "http://schemas.xmlsoap.org/wsdl/soap12/")


@dataclass(slots=True)
class WsdlNotes:
    """Operation documentation by name, and the (binding, operation) pairs that use encoding."""

    docs: dict[str, str] = field(default_factory=dict)
    encoded: set[tuple[str, str]] = field(default_factory=set)


def read_notes(documents: Iterable[bytes]) -> WsdlNotes:
    """Collect notes from every WSDL among ``documents`` (XSDs and unparsable bytes are skipped)."""
    notes = WsdlNotes()
    # A parser per call: start-up runs this in worker threads, and lxml parsers are per thread.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
    for content in documents:
        try:
            root = etree.fromstring(content, parser)
        except etree.XMLSyntaxError:
            continue
        if root.tag == f"{{{_WSDL}}}definitions":
            _collect(root, notes)
    return notes


def _collect(root: etree._Element, notes: WsdlNotes) -> None:
    tns = root.get("targetNamespace") or ""
    for op in root.iterfind(f"{{{_WSDL}}}portType/{{{_WSDL}}}operation"):
        text = _doc(op)
        if text and op.get("name"):
            notes.docs.setdefault(op.get("name", ""), text)
    for binding in root.iterfind(f"{{{_WSDL}}}binding"):
        name = f"{{{tns}}}{binding.get('name')}"
        for op in binding.iterfind(f"{{{_WSDL}}}operation"):
            if _uses_encoding(op):
                notes.encoded.add((name, op.get("name", "")))
            text = _doc(op)
            if text:
                notes.docs.setdefault(op.get("name", ""), text)


def _doc(node: etree._Element) -> str:
    doc = node.find(f"{{{_WSDL}}}documentation")
    if doc is None:
        return ""
    return " ".join("".join(doc.itertext()).split())


def _uses_encoding(op: etree._Element) -> bool:
    for ns in _SOAP_BINDINGS:
        body = op.find(f"{{{_WSDL}}}input/{{{ns}}}body")
        if body is not None and body.get("use") == "encoded":
            return True
    return False
