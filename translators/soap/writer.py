"""JSON arguments → XML elements, checked against the XSD model on the way. Pure, no I/O.

Every problem is collected (up to :data:`MAX_ERRORS`) and reported at once as
an :class:`~gateway.errors.InvalidArguments` naming each field and the XSD type
it expects, before anything is sent::

    {"field": "items[2].qty", "expected": "xsd:int", "message": "expected an integer"}

Example::

    body = etree.Element("{urn:calc}Add")
    write_arguments(body, operation.request, {"intA": 1, "intB": 2})
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from gateway.errors import InvalidArguments
from translators.soap.simple import SimpleType, TypeMismatch
from translators.soap.xsdmodel import ATTR, TEXT, ComplexType, Field
from translators.xmljson.names import is_ncname

__all__ = ["MAX_ERRORS", "XSI", "write_arguments"]

MAX_ERRORS = 20
MAX_DEPTH = 100  # nested objects in a request, as the XML↔JSON converter's max_depth
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
_NIL = f"{{{XSI}}}nil"
_XSI_TYPE = f"{{{XSI}}}type"
_MISSING: Any = object()
# Characters XML 1.0 cannot carry at all (§2.2), not even as references.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(slots=True)
class _Context:
    lenient: Collection[str]  # dotted keys that came from the query string or path
    encoded: bool  # add xsi:type (SOAP 1.1 §5 encoding)
    errors: list[dict[str, str]] = field(default_factory=list)
    depth: int = 0  # objects open around the value being written

    def enter(self, path: str) -> bool:
        """Open one more nested object; ``False`` (and an error) past MAX_DEPTH."""
        if self.depth >= MAX_DEPTH:
            self.fail(path, f"at most {MAX_DEPTH} nested objects", f"nested more than {MAX_DEPTH} objects deep")
            return False
        self.depth += 1
        return True

    def fail(self, path: str, expected: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"field": path or "(body)", "expected": expected, "message": message})


def write_arguments(
    parent: etree._Element,
    model: ComplexType,
    arguments: dict[str, Any],
    lenient: Collection[str] = (),
    encoded: bool = False,
) -> None:
    """Write ``arguments`` as children of ``parent``; raise InvalidArguments on any mismatch.

    ``lenient`` names the (dotted) keys whose string values are parsed as their
    XSD type, because they came from the query string or the path.
    """
    ctx = _Context(lenient=lenient, encoded=encoded)
    _write_object(parent, model, arguments, "", ctx)
    if ctx.errors:
        raise InvalidArguments(_summary(ctx.errors), errors=ctx.errors)


def _summary(errors: list[dict[str, str]]) -> str:
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"field '{first['field']}': {first['message']} ({first['expected']}){more}"


def _write_object(node: etree._Element, model: ComplexType, value: dict[str, Any], path: str,
                  ctx: _Context) -> None:  # fmt: skip
    if not ctx.enter(path):
        return
    _check_keys(model, value, path, ctx)
    for choice in model.choices:
        _check_choice(choice.branches, choice.required, value, path, ctx)
    for attr in model.attributes:
        _write_attribute(node, attr, value.get(attr.key, _MISSING), _join(path, attr.key), ctx)
    if model.text is not None:
        _write_text(node, model.text, value.get(TEXT, _MISSING), _join(path, TEXT), ctx)
    for element in model.elements:
        _write_field(node, element, value.get(element.key, _MISSING), _join(path, element.key), ctx)
    if model.open:
        _write_extra(node, model, value, path, ctx)
    ctx.depth -= 1


def _check_keys(model: ComplexType, value: dict[str, Any], path: str, ctx: _Context) -> None:
    if model.open:
        return
    for key in value:
        if key not in model.by_key and not (key == TEXT and model.text is not None):
            known = ", ".join(model.by_key) or "none"
            ctx.fail(_join(path, key), "no such field", f"unknown field (known: {known})")


def _check_choice(branches: tuple[tuple[str, ...], ...], required: bool, value: dict[str, Any],
                  path: str, ctx: _Context) -> None:  # fmt: skip
    given = [b for b in branches if any(value.get(k) is not None for k in b)]
    options = " | ".join(", ".join(b) for b in branches)
    if len(given) > 1:
        ctx.fail(path, f"one of: {options}", "give only one of these alternatives (xs:choice)")
    elif required and not given:
        ctx.fail(path, f"one of: {options}", "missing: one of these alternatives is required")


def _write_attribute(node: etree._Element, attr: Field, value: Any, path: str, ctx: _Context) -> None:
    if value is _MISSING or value is None:
        if attr.required:
            ctx.fail(path, attr.xsd, "missing required attribute")
        return
    text = _simple_text(attr.type, value, path, ctx)  # type: ignore[arg-type]
    if text is not None:
        node.set(attr.tag, text)


def _write_text(node: etree._Element, st: SimpleType, value: Any, path: str, ctx: _Context) -> None:
    if value is _MISSING or value is None:
        return
    text = _simple_text(st, value, path, ctx)
    if text is not None:
        node.text = text


def _write_field(node: etree._Element, f: Field, value: Any, path: str, ctx: _Context) -> None:
    if value is _MISSING or (value is None and not f.nillable):
        if f.required:
            ctx.fail(path, f.xsd, "missing required field")
        return
    if not f.repeated:
        _write_element(node, f, value, path, ctx)
        return
    if isinstance(value, str) and _dotted(path) in ctx.lenient:
        value = [value]
    if not isinstance(value, list):
        ctx.fail(path, f"array of {f.xsd}", "expected an array")
        return
    _check_count(f, len(value), path, ctx)
    for index, item in enumerate(value):
        _write_element(node, f, item, f"{path}[{index}]", ctx)


def _check_count(f: Field, count: int, path: str, ctx: _Context) -> None:
    if count < f.min_occurs:
        ctx.fail(path, f"array of {f.xsd}", f"needs at least {f.min_occurs} items")
    elif f.max_occurs is not None and count > f.max_occurs:
        ctx.fail(path, f"array of {f.xsd}", f"takes at most {f.max_occurs} items")


def _write_element(node: etree._Element, f: Field, value: Any, path: str, ctx: _Context) -> None:
    child = etree.SubElement(node, f.tag)
    if value is None:
        if not f.nillable:
            ctx.fail(path, f.xsd, "must not be null")
        child.set(_NIL, "true")
        return
    if f.type is None:
        _write_any(child, value, path, ctx)
    elif isinstance(f.type, SimpleType):
        child.text = _simple_text(f.type, value, path, ctx)
        if ctx.encoded:
            child.set(_XSI_TYPE, _xsi_name(child, f.type))
    elif f.type.array_item is not None:
        _write_array(child, f.type.array_item, value, path, ctx)
    elif isinstance(value, dict):
        _write_object(child, f.type, value, path, ctx)
    else:
        ctx.fail(path, f.xsd, "expected an object")


def _write_array(node: etree._Element, item: Field, value: Any, path: str, ctx: _Context) -> None:
    """A SOAP-encoded array (SOAP 1.1 §5.4.2): ``soapenc:arrayType="xsd:int[3]"``."""
    if not isinstance(value, list):
        ctx.fail(path, f"array of {item.xsd}", "expected an array")
        return
    item_type = item.type.xsd if isinstance(item.type, SimpleType) else "xsd:anyType"
    node.set(_XSI_TYPE, _prefixed(node, SOAP_ENC, "Array"))
    node.set(f"{{{SOAP_ENC}}}arrayType", f"{_prefixed(node, XSD, item_type[4:])}[{len(value)}]")
    plain = Field(item.key, item.local, item.type, 0, 1, True)
    for index, entry in enumerate(value):
        _write_element(node, plain, entry, f"{path}[{index}]", ctx)


def _simple_text(st: SimpleType, value: Any, path: str, ctx: _Context) -> str | None:
    try:
        text = st.to_text(value, lenient=bool(ctx.lenient) and _dotted(path) in ctx.lenient)
    except TypeMismatch as exc:
        ctx.fail(path, st.xsd, str(exc))
        return None
    return _xml_text(text, path, st.xsd, ctx)


def _xml_text(text: str, path: str, expected: str, ctx: _Context) -> str | None:
    bad = _NOT_XML.search(text)
    if bad is None:
        return text
    ctx.fail(path, expected, f"contains U+{ord(bad.group()):04X}, which XML 1.0 cannot carry")
    return None


def _write_extra(node: etree._Element, model: ComplexType, value: dict[str, Any], path: str,
                 ctx: _Context) -> None:  # fmt: skip
    """Keys an open type (xs:any) does not declare become unqualified elements or attributes."""
    for key, item in value.items():
        if key == TEXT and model.text is None:
            ctx.fail(_join(path, key), "no such field", "this type has no text content (only elements)")
        elif key not in model.by_key and key != TEXT:
            _write_named(node, key, item, _join(path, key), ctx)


def _write_named(node: etree._Element, key: str, item: Any, path: str, ctx: _Context) -> None:
    """One undeclared key: ``@name`` an attribute, else one element per item of a list."""
    name = key[1:] if key.startswith(ATTR) else key
    if not _is_name(name) or key == ATTR + "xmlns":  # "@xmlns" would re-namespace the children
        ctx.fail(path, "an XML name", "this key cannot be an XML element or attribute name")
    elif key.startswith(ATTR):
        text = _scalar_text(item, path, "xsd:anySimpleType", ctx)
        if text is not None:  # null leaves the attribute out
            node.set(name, text)
    elif isinstance(item, list):
        for index, entry in enumerate(item):
            _write_any(etree.SubElement(node, key), entry, f"{path}[{index}]", ctx)
    else:
        _write_any(etree.SubElement(node, key), item, path, ctx)


def _write_any(node: etree._Element, value: Any, path: str, ctx: _Context) -> None:
    """An xs:anyType element: an object's keys as :func:`_write_named`, a scalar as text."""
    if isinstance(value, dict):
        if not ctx.enter(path):
            return
        for key, item in value.items():
            if key == TEXT:
                node.text = _scalar_text(item, _join(path, key), "xsd:anySimpleType", ctx)
            else:
                _write_named(node, key, item, _join(path, key), ctx)
        ctx.depth -= 1
    elif value is None:
        node.set(_NIL, "true")
    else:
        node.text = _scalar_text(value, path, "xsd:anyType", ctx)


def _scalar_text(value: Any, path: str, expected: str, ctx: _Context) -> str | None:
    """The text of a string, number or boolean (``None`` for null); an array or object has no XML form."""
    if value is None:
        return None
    if isinstance(value, list | dict):
        kind = "an array" if isinstance(value, list) else "an object"
        ctx.fail(path, expected, f"expected a string, number or boolean here, not {kind}")
        return None
    return _xml_text(_plain(value), path, expected, ctx)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _is_name(name: str) -> bool:
    return is_ncname(name)


def _xsi_name(node: etree._Element, st: SimpleType) -> str:
    return _prefixed(node, XSD, st.name if st.item is None else "string")


def _prefixed(node: etree._Element, namespace: str, local: str) -> str:
    for prefix, uri in node.nsmap.items():
        if uri == namespace and prefix:
            return f"{prefix}:{local}"
    raise LookupError(f"no prefix for {namespace} in scope")  # envelopes declare xsd and soapenc


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _dotted(path: str) -> str:
    """``a[0].b`` → ``a.b``: the query-string spelling of a path."""
    if "[" not in path:
        return path
    out, skip = [], False
    for char in path:
        if char == "[":
            skip = True
        elif char == "]":
            skip = False
        elif not skip:
            out.append(char)
    return "".join(out)
