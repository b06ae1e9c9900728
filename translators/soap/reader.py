"""XML elements → JSON, typed by the XSD model. Pure, no I/O.

* an element the model declares with ``maxOccurs > 1`` is always a JSON array
  (``[]`` when absent, one item too);
* simple values follow :mod:`translators.soap.simple` (numbers, booleans, a
  decimal string, ISO 8601 text, base64 text); ``xsi:nil`` is ``null``;
* attributes are ``"@name"`` keys, simple content is ``"#text"``;
* an element the model does not declare (``xs:any``, ``xs:anyType``, or a
  backend ahead of its WSDL) is converted generically: its text as a string,
  or an object of its children (a list when a name repeats).

Example::

    read_object(response_wrapper, operation.response)   # {"AddResult": 5}
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from translators.soap.simple import DecimalMode, SimpleType
from translators.soap.xsdmodel import ATTR, TEXT, ComplexType, FieldType

__all__ = ["read_generic", "read_object", "read_value"]

_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_NIL = f"{{{_XSI}}}nil"
_SKIPPED_ATTRIBUTE_NS = (f"{{{_XSI}}}", "{http://schemas.xmlsoap.org/soap/encoding/}",
                         "{http://www.w3.org/2003/05/soap-envelope}",
                         "{http://schemas.xmlsoap.org/soap/envelope/}")  # fmt: skip


def read_value(node: etree._Element, field_type: FieldType, decimal_as: DecimalMode = "string") -> Any:
    """The JSON value of one element of type ``field_type``."""
    if node.get(_NIL) in ("true", "1"):
        return None
    if field_type is None:
        return read_generic(node)
    if isinstance(field_type, SimpleType):
        return field_type.to_json(node.text, decimal_as)
    if field_type.array_item is not None:
        item = field_type.array_item.type
        return [read_value(child, item, decimal_as) for child in node if isinstance(child.tag, str)]
    return read_object(node, field_type, decimal_as)


def read_object(node: etree._Element, model: ComplexType, decimal_as: DecimalMode = "string") -> dict[str, Any]:
    """The children, attributes and text of ``node`` as one JSON object."""
    out: dict[str, Any] = {}
    by_tag = model.by_tag
    for child in node:
        tag = child.tag
        f = by_tag.get(tag)  # type: ignore[call-overload]
        if f is None:
            if not isinstance(tag, str):
                continue  # comments and processing instructions
            local = tag[tag.rfind("}") + 1 :]
            f = model.by_local.get(local)  # a namespace other than the schema's
            if f is None:
                _add(out, local, read_generic(child))
                continue
        if f.max_occurs == 1:
            out[f.key] = read_value(child, f.type, decimal_as)
        else:
            out.setdefault(f.key, []).append(read_value(child, f.type, decimal_as))
    for key in model.list_keys:
        if key not in out:
            out[key] = []
    if node.attrib:
        _read_attributes(node, model, out, decimal_as)
    if model.text is not None:
        out[TEXT] = model.text.to_json(node.text, decimal_as)
    return out


def _read_attributes(node: etree._Element, model: ComplexType, out: dict[str, Any],
                     decimal_as: DecimalMode) -> None:  # fmt: skip
    for name, value in node.attrib.items():
        f = model.by_attr.get(name)
        if f is not None:
            out[f.key] = f.type.to_json(value, decimal_as)  # type: ignore[union-attr]
        elif not name.startswith(_SKIPPED_ATTRIBUTE_NS):  # undeclared: never over a declared one
            out.setdefault(ATTR + name[name.rfind("}") + 1 :], value)


def read_generic(node: etree._Element) -> Any:
    """An element with no schema: text as a string, or an object of its children."""
    if node.get(_NIL) in ("true", "1"):
        return None
    children = [child for child in node if isinstance(child.tag, str)]
    attributes = {
        ATTR + k[k.rfind("}") + 1 :]: v
        for k, v in node.attrib.items()
        if not k.startswith(_SKIPPED_ATTRIBUTE_NS)
    }
    if not children and not attributes:
        return node.text or ""
    out: dict[str, Any] = dict(attributes)
    for child in children:
        tag = child.tag
        _add(out, tag[tag.rfind("}") + 1 :], read_generic(child))
    text = "".join([node.text or "", *(child.tail or "" for child in children)]).strip()
    if text:  # mixed content
        out[TEXT] = text
    return out


def _add(out: dict[str, Any], key: str, value: Any) -> None:
    if key not in out:
        out[key] = value
    elif isinstance(out[key], list):
        out[key].append(value)
    else:
        out[key] = [out[key], value]
