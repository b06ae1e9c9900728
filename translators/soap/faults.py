"""SOAP Faults (1.1 and 1.2) → problem+json errors. Pure, no I/O.

The problem carries ``faultcode`` (the code's local name, e.g. ``Client`` or
``Client.Authentication``; ``Sender`` for SOAP 1.2), ``faultstring`` (the 1.1
faultstring or the 1.2 Reason text), ``faultactor`` (1.1 faultactor, 1.2 Role),
``faultdetail``: the fault's detail converted to JSON, typed when the WSDL
declares the fault's element (RFC 9457 reserves ``detail`` for the human
sentence), and for SOAP 1.2 the ``subcodes``. The HTTP status comes from
:data:`FAULT_STATUS`, overridable per upstream by ``fault_status``.

Example::

    error = fault_error(parse_fault(fault_element, "1.1"), operation, overrides={})
    error.http_status        # 422 for a Client fault
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from gateway.errors import GatewayError, UpstreamFault, UpstreamRejected
from translators.soap.binding import SOAP_ENV, OperationModel
from translators.soap.reader import read_generic, read_value
from translators.soap.simple import DecimalMode

__all__ = ["DEFAULT_FAULT_STATUS", "FAULT_STATUS", "SoapFault", "fault_error", "fault_status", "parse_fault"]

#: HTTP status of a fault, by the local name of its (top-level) fault code.
FAULT_STATUS: Mapping[str, int] = {
    # SOAP 1.1, W3C Note 08 May 2000, §4.4.1 "SOAP Fault Codes".
    "VersionMismatch": 502,  # the backend does not speak the envelope Rosetta sent
    "MustUnderstand": 502,  # a header Rosetta added (config) was not understood
    "Client": 422,  # "incorrectly formed or did not contain the appropriate information"
    "Server": 502,  # "could not be processed for reasons not directly attributable to the contents"
    # SOAP 1.2 Part 1, W3C Recommendation 27 April 2007, §5.4.6 "SOAP Fault Codes".
    "DataEncodingUnknown": 502,  # the encoding Rosetta used is not supported
    "Sender": 422,  # "incorrectly formed or did not contain the appropriate information"
    "Receiver": 502,  # "could not be processed for reasons attributable to the processing"
}
#: Any other fault code: the backend failed, not the caller (a Server/Receiver-like fault).
DEFAULT_FAULT_STATUS = 502


@dataclass(frozen=True, slots=True)
class SoapFault:
    """A parsed fault: ``code`` is a local name, ``subcodes`` (1.2) likewise."""

    version: str
    code: str
    code_ns: str | None
    subcodes: tuple[str, ...]
    reason: str
    actor: str | None
    node: str | None
    detail: etree._Element | None


def parse_fault(fault: etree._Element, version: str) -> SoapFault:
    """Read a soap:Fault element of either version (by its own namespace)."""
    ns = etree.QName(fault).namespace
    if ns == SOAP_ENV["1.2"]:
        return _parse_12(fault)
    code_ns, code = _qname(fault, fault.findtext("faultcode"))
    return SoapFault(
        version="1.1",
        code=code,
        code_ns=code_ns,
        subcodes=(),
        reason=(fault.findtext("faultstring") or "").strip(),
        actor=_strip(fault.findtext("faultactor")),
        node=None,
        detail=fault.find("detail"),
    )


def _parse_12(fault: etree._Element) -> SoapFault:
    env = f"{{{SOAP_ENV['1.2']}}}"
    code_ns, code = _qname(fault, fault.findtext(f"{env}Code/{env}Value"))
    subcodes = []
    node = fault.find(f"{env}Code/{env}Subcode")
    while node is not None:
        subcodes.append(_qname(node, node.findtext(f"{env}Value"))[1])
        node = node.find(f"{env}Subcode")
    return SoapFault(
        version="1.2",
        code=code,
        code_ns=code_ns,
        subcodes=tuple(subcodes),
        reason=(fault.findtext(f"{env}Reason/{env}Text") or "").strip(),
        actor=_strip(fault.findtext(f"{env}Role")),
        node=_strip(fault.findtext(f"{env}Node")),
        detail=fault.find(f"{env}Detail"),
    )


def _qname(context: etree._Element, text: str | None) -> tuple[str | None, str]:
    text = (text or "").strip()
    prefix, _, local = text.rpartition(":")
    return context.nsmap.get(prefix or None), local or "Server"


def _strip(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None


def fault_status(fault: SoapFault, overrides: Mapping[str, int]) -> int:
    """The HTTP status: an override for the code, a 1.2 subcode or the base code, else the table."""
    wanted = {key.rpartition(":")[2]: status for key, status in overrides.items()}
    base = fault.code.split(".", 1)[0]
    for code in (fault.code, *reversed(fault.subcodes), base):
        if code in wanted:
            return wanted[code]
    return FAULT_STATUS.get(base, DEFAULT_FAULT_STATUS) if fault.code_ns in _ENVELOPES else DEFAULT_FAULT_STATUS


_ENVELOPES = (None, *SOAP_ENV.values())


def fault_error(fault: SoapFault, operation: OperationModel | None, overrides: Mapping[str, int],
                decimal_as: DecimalMode = "string") -> GatewayError:  # fmt: skip
    """The gateway error for ``fault``: 4xx is UpstreamRejected, 5xx UpstreamFault."""
    status = fault_status(fault, overrides)
    cls = UpstreamRejected if status < 500 else UpstreamFault
    reason = fault.reason or "no reason given"
    extra: dict[str, Any] = {
        "faultcode": fault.code,
        "faultstring": fault.reason,
        "faultactor": fault.actor,
        "faultdetail": _detail(fault.detail, operation, decimal_as),
        "soap_version": fault.version,
    }
    if fault.subcodes:
        extra["subcodes"] = list(fault.subcodes)
    if fault.node:
        extra["faultnode"] = fault.node
    return cls(f"the SOAP backend answered with a {fault.code} fault: {reason}", status=status, **extra)


def _detail(detail: etree._Element | None, operation: OperationModel | None,
            decimal_as: DecimalMode) -> Any:  # fmt: skip
    if detail is None:
        return None
    known = operation.faults if operation is not None else {}
    out: dict[str, Any] = {}
    for child in detail:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        f = known.get(local)
        out[local] = read_value(child, f.type, decimal_as) if f is not None else read_generic(child)
    if not out:
        text = (detail.text or "").strip()
        return text or None
    return out
