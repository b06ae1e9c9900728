"""SOAP envelopes: build a request from JSON, turn a response into JSON. Pure, no I/O.

Responses are parsed safely by :func:`~translators.soap.safexml.parse_xml` (no
DTD, no entities, no network, libxml2's default depth limit), in a size the
caller already bounded.

Example::

    body = build_request(op, {"intA": 1, "intB": 2})
    result = read_response(op, Raw(200, "text/xml", answer))    # {"AddResult": 3}
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree
from zeep.wsdl.messages.multiref import process_multiref

from gateway.errors import BadGateway, GatewayError, ServiceUnavailable, UpstreamFault
from translators.soap.binding import SOAP_ENV, OperationModel
from translators.soap.faults import fault_error, parse_fault
from translators.soap.reader import read_object
from translators.soap.safexml import parse_xml
from translators.soap.simple import DecimalMode
from translators.soap.writer import SOAP_ENC, XSD, XSI, write_arguments

__all__ = ["Raw", "build_request", "parse_xml", "read_response"]

_ENVELOPES = {f"{{{ns}}}Envelope": version for version, ns in SOAP_ENV.items()}
_BODIES = {f"{{{ns}}}Envelope": f"{{{ns}}}Body" for ns in SOAP_ENV.values()}
_FAULTS = frozenset(f"{{{ns}}}Fault" for ns in SOAP_ENV.values())


@dataclass(frozen=True, slots=True)
class Raw:
    """A backend's HTTP answer, read whole (and bounded) by the transport."""

    status: int
    content_type: str
    content: bytes
    retry_after: str | None = None  #: the answer's ``Retry-After``, if any


def build_request(
    op: OperationModel,
    arguments: dict[str, Any],
    headers: Sequence[etree._Element] = (),
    lenient: Collection[str] = (),
) -> bytes:
    """The request envelope for ``arguments``; InvalidArguments when they do not fit the XSD."""
    env = op.envelope_ns
    nsmap = {"soap": env, "xsi": XSI, "xsd": XSD}
    if op.encoded:
        nsmap["soapenc"] = SOAP_ENC
    envelope = etree.Element(f"{{{env}}}Envelope", nsmap=nsmap)
    if headers:
        header = etree.SubElement(envelope, f"{{{env}}}Header")
        header.extend(copy.deepcopy(h) for h in headers)
    body = etree.SubElement(envelope, f"{{{env}}}Body")
    target = body if op.request_wrapper is None else etree.SubElement(body, op.request_wrapper)
    if op.encoded:
        target.set(f"{{{env}}}encodingStyle", SOAP_ENC)
    write_arguments(target, op.request, arguments, lenient, op.encoded)
    return etree.tostring(envelope, encoding="utf-8", xml_declaration=True)


def read_response(op: OperationModel, raw: Raw, overrides: dict[str, int] | Any = None,
                  decimal_as: DecimalMode = "string") -> dict[str, Any]:  # fmt: skip
    """The JSON object of a backend's answer; a fault or a non-SOAP answer raises a gateway error.

    A 503 that carries no SOAP fault (a load balancer's or a maintenance page) is
    :class:`ServiceUnavailable` with the answer's ``Retry-After``: the backend did
    not take the call, so retries and fallbacks treat it like a connection refused.
    """
    try:
        return _read_response(op, raw, overrides, decimal_as)
    except UpstreamFault:
        raise
    except (BadGateway, etree.XMLSyntaxError):
        if raw.status != 503:
            raise
        headers = {"Retry-After": raw.retry_after} if raw.retry_after and raw.retry_after.isdigit() else None
        raise ServiceUnavailable("the SOAP backend answered HTTP 503 without a SOAP fault", headers=headers) from None


def _read_response(op: OperationModel, raw: Raw, overrides: dict[str, int] | Any,
                   decimal_as: DecimalMode) -> dict[str, Any]:  # fmt: skip
    if not raw.content.strip():
        if raw.status in (200, 202, 204) and op.one_way:
            return {}
        raise BadGateway(f"the SOAP backend sent an empty body (HTTP {raw.status})")
    if raw.content_type.lower().startswith("multipart/"):
        media = raw.content_type.split(";", 1)[0].strip()
        raise BadGateway(f"the SOAP backend answered with {media} (MTOM/XOP or SOAP with attachments), "
                         "which Rosetta does not read")
    root = _envelope(parse_xml(raw.content, raw.content_type), raw)
    body = _body(root)
    first = next((child for child in body if isinstance(child.tag, str)), None)
    if first is not None and first.tag in _FAULTS:
        raise _fault(first, op, root, overrides or {}, decimal_as)
    if _version(root) != op.version:
        raise BadGateway(f"the SOAP backend answered with SOAP {_version(root)} to a SOAP {op.version} request")
    if raw.status >= 300:
        raise BadGateway(f"the SOAP backend answered HTTP {raw.status} without a SOAP fault")
    if op.encoded:
        process_multiref(body)
    if not op.response_wrapped:
        return read_object(body, op.response, decimal_as)
    if first is None:
        # Nothing lost when the response declares nothing required (a "void" wrapper some
        # servers leave out); otherwise a 200 {} would hide that the answer is missing.
        required = [f.key for f in op.response.elements if f.required]
        if not required:
            return {}
        raise BadGateway(f"the SOAP backend's response has no {op.response_wrapper or op.name + ' response'} "
                         f"element (it must carry {', '.join(required[:5])})")
    if op.response_wrapper is not None and not first.tag.endswith("}" + op.response_wrapper) and first.tag != op.response_wrapper:
        found = first.tag[first.tag.rfind("}") + 1 :]
        raise BadGateway(f"the SOAP backend answered with a {found} element where {op.response_wrapper} belongs")
    return read_object(first, op.response, decimal_as)


def _envelope(root: etree._Element, raw: Raw) -> etree._Element:
    if root.tag in _ENVELOPES:
        return root
    media = raw.content_type.split(";", 1)[0].strip() or "no content type"
    raise BadGateway(
        f"the SOAP backend answered HTTP {raw.status} with {media} that is not a SOAP envelope "
        f"(root element <{etree.QName(root).localname}>)"
    )


def _version(root: etree._Element) -> str:
    return _ENVELOPES[root.tag]


def _body(root: etree._Element) -> etree._Element:
    tag = _BODIES[root.tag]
    for child in root:
        if child.tag == tag:
            return child
    raise BadGateway("the SOAP backend's envelope has no Body")


def _fault(node: etree._Element, op: OperationModel, root: etree._Element,
           overrides: dict[str, int], decimal_as: DecimalMode) -> GatewayError:  # fmt: skip
    fault = parse_fault(node, op.version)
    if fault.version != op.version:
        return BadGateway(
            f"the SOAP backend answered a SOAP {op.version} request with a SOAP {fault.version} "
            f"{fault.code} fault: {fault.reason or 'no reason given'}",
            faultcode=fault.code,
            faultstring=fault.reason,
            soap_version=fault.version,
        )
    return fault_error(fault, op, overrides, decimal_as)
