"""Which port Rosetta calls, and each of its operations as Rosetta sees it.

Built once from a loaded WSDL (no I/O). The JSON face of an operation:

* document/literal **wrapped** (one part, an element named like the operation,
  of a complex type): the request is the wrapper's children by name, the
  response the response wrapper's children (``{"AddResult": 5}``);
* document/literal **bare**: the request and response are the parts' elements
  by element name (``{"TradePriceRequest": {...}}``);
* **rpc** (literal or encoded): the parts by part name, inside the
  operation-named wrapper the SOAP binding prescribes.

Example::

    port = choose_port(document, service=None, port=None)
    ops = describe_port(port, notes)
    ops["Add"].request.by_key["intA"].xsd   # "xsd:int"
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from zeep.wsdl import Document
from zeep.wsdl.bindings.soap import Soap11Binding, Soap12Binding, SoapBinding
from zeep.xsd import ComplexType as ZeepComplex
from zeep.xsd.elements import Element as ZeepElement

from translators.soap.wsdlnotes import WsdlNotes
from translators.soap.xsdmodel import ComplexType, Field, compile_type

__all__ = ["OperationModel", "PortChoice", "Style", "choose_port", "describe_port"]

Style = Literal["wrapped", "bare", "rpc"]
SOAP_ENV = {"1.1": "http://schemas.xmlsoap.org/soap/envelope/",
            "1.2": "http://www.w3.org/2003/05/soap-envelope"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PortChoice:
    """The wsdl:port Rosetta talks to."""

    service: str
    port: str
    binding: SoapBinding
    version: Literal["1.1", "1.2"]
    address: str | None


@dataclass(eq=False, slots=True)
class OperationModel:
    """One operation of the chosen port: its JSON request/response types and wire details."""

    name: str
    style: Style
    version: Literal["1.1", "1.2"]
    action: str | None
    request: ComplexType
    response: ComplexType
    request_wrapper: str | None = None  # Clark tag wrapping the request parts
    response_wrapped: bool = False  # the response parts sit under one wrapper element
    response_wrapper: str | None = None  # its local name, where the WSDL fixes it (document style)
    encoded: bool = False  # use="encoded" (SOAP 1.1 §5 encoding)
    one_way: bool = False
    faults: dict[str, Field] = field(default_factory=dict)  # detail element local name -> field
    documentation: str = ""

    @property
    def envelope_ns(self) -> str:
        return SOAP_ENV[self.version]


def choose_port(document: Document, service: str | None, port: str | None) -> PortChoice:
    """The named port, else the first SOAP 1.1 port, else the first SOAP 1.2 one."""
    candidates = list(_soap_ports(document))
    if not candidates:
        raise ValueError("the WSDL has no SOAP 1.1 or 1.2 port")
    chosen = [c for c in candidates if (service is None or c.service == service)]
    chosen = [c for c in chosen if (port is None or c.port == port)]
    if not chosen:
        known = ", ".join(f"{c.service}/{c.port}" for c in candidates)
        wanted = "/".join(x for x in (service, port) if x)
        raise ValueError(f"no SOAP port '{wanted}' in the WSDL (available: {known})")
    return next((c for c in chosen if c.version == "1.1"), chosen[0])


def _soap_ports(document: Document) -> Iterable[PortChoice]:
    for service in document.services.values():
        for port in service.ports.values():
            binding = port.binding
            if isinstance(binding, Soap12Binding | Soap11Binding):
                version: Literal["1.1", "1.2"] = "1.2" if isinstance(binding, Soap12Binding) else "1.1"
                address = port.binding_options.get("address")
                yield PortChoice(service.name, port.name, binding, version, address)


def describe_port(choice: PortChoice, notes: WsdlNotes) -> dict[str, OperationModel]:
    """Every operation of the port, by name, in WSDL order."""
    memo: dict[int, ComplexType] = {}
    binding_name = choice.binding.name.text
    return {
        name: _describe(op, choice.version, notes, binding_name, memo)
        for name, op in choice.binding._operations.items()
    }


def _describe(op: Any, version: Literal["1.1", "1.2"], notes: WsdlNotes, binding: str,
              memo: dict[int, ComplexType]) -> OperationModel:  # fmt: skip
    style: Style = "rpc" if op.style == "rpc" else "bare"
    request, wrapper = _request(op, style, memo)
    if style == "bare" and wrapper is not None:
        style = "wrapped"
    response, response_wrapped = _response(op, style, memo)
    # An rpc response wrapper's name is not significant (WSDL 1.1 §3.5); a document one is the part's element.
    fixed = style == "wrapped" and response_wrapped and op.output.body.qname is not None
    return OperationModel(
        name=op.name,
        style=style,
        version=version,
        action=op.soapaction or None,
        request=request,
        response=response,
        request_wrapper=wrapper,
        response_wrapped=response_wrapped,
        response_wrapper=op.output.body.qname.localname if fixed else None,
        encoded=(binding, op.name) in notes.encoded,
        one_way=op.output is None or op.output.body is None,
        faults=_faults(op, memo),
        documentation=notes.docs.get(op.name, ""),
    )


def _request(op: Any, style: Style, memo: dict[int, ComplexType]) -> tuple[ComplexType, str | None]:
    message = op.input
    if message is None or message.body is None:
        return _object([]), (op.name if style == "rpc" else None)
    if style == "rpc":
        return _as_object(compile_type(message.body.type, memo)), message.body.qname.text
    parts = _parts(message)
    if len(parts) == 1 and _is_wrapper(parts[0], op.name, memo):
        return _as_object(compile_type(parts[0].type, memo)), parts[0].qname.text
    return _object([_part_field(p, memo) for p in parts]), None


def _response(op: Any, style: Style, memo: dict[int, ComplexType]) -> tuple[ComplexType, bool]:
    message = op.output
    if message is None or message.body is None:
        return _object([]), False
    if style == "rpc":
        return _as_object(compile_type(message.body.type, memo)), True
    parts = _parts(message)
    if style == "wrapped" and len(parts) == 1 and _is_wrapper(parts[0], None, memo):
        return _as_object(compile_type(parts[0].type, memo)), True
    return _object([_part_field(p, memo) for p in parts]), False


def _parts(message: Any) -> list[ZeepElement]:
    if message._is_body_wrapped:  # several parts under soap:Body
        return [element for _, element in message.body.type.elements]
    return [message.body]


def _is_wrapper(element: ZeepElement, operation: str | None, memo: dict[int, ComplexType]) -> bool:
    zeep_type = element.type
    if not isinstance(zeep_type, ZeepComplex) or zeep_type.attributes:
        return False
    if operation is not None and element.qname.localname != operation:
        return False
    model = compile_type(zeep_type, memo)
    return isinstance(model, ComplexType) and model.text is None and model.array_item is None


def _part_field(element: ZeepElement, memo: dict[int, ComplexType]) -> Field:
    key = element.qname.localname if element.qname is not None else element.attr_name
    tag = element.qname.text if element.qname is not None else key
    return Field(key=key, tag=tag, type=compile_type(element.type, memo), nillable=bool(element.nillable))


def _as_object(model: Any) -> ComplexType:
    return model if isinstance(model, ComplexType) else _object([])


def _object(fields: list[Field]) -> ComplexType:
    model = ComplexType(name=None, label="object", elements=fields)
    model.index()
    return model


def _faults(op: Any, memo: dict[int, ComplexType]) -> dict[str, Field]:
    found: dict[str, Field] = {}
    for message in op.faults.values():
        abstract = getattr(message, "abstract", None)
        for part in (abstract.parts.values() if abstract is not None else ()):
            element = part.element
            if isinstance(element, ZeepElement) and element.qname is not None:
                found[element.qname.localname] = _part_field(element, memo)
    return found
