"""JSON Schemas (draft 2020-12) of an operation's request and response, from the XSD model.

Named XSD types become ``$defs`` (so recursive types work); anonymous ones are
inlined. Requests accept ``xs:decimal`` as a number or a string; responses
publish it as configured (``decimal_as``). Each value's ``description`` names
its XSD type, e.g. ``xsd:int``. Pure, no I/O::

    request_schema(op.request)
    # {"type": "object", "properties": {"intA": {"type": "integer", ...}}, "required": ["intA"], ...}
"""

from __future__ import annotations

from typing import Any

from translators.soap.simple import DecimalMode, SimpleType
from translators.soap.xsdmodel import TEXT, Choice, ComplexType, Field, FieldType

__all__ = ["DIALECT", "request_schema", "response_schema", "signature"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def request_schema(model: ComplexType) -> dict[str, Any]:
    """The JSON Schema of a request object."""
    return _Builder(None, request=True).document(model)


def response_schema(model: ComplexType, decimal_as: DecimalMode = "string") -> dict[str, Any]:
    """The JSON Schema of a response object: arrays and absent fields as Rosetta emits them."""
    return _Builder(decimal_as, request=False).document(model)


class _Builder:
    def __init__(self, decimal_as: DecimalMode | None, request: bool) -> None:
        self.decimal_as = decimal_as
        self.request = request
        self.defs: dict[str, Any] = {}
        self.names: dict[int, str] = {}

    def document(self, model: ComplexType) -> dict[str, Any]:
        schema = {"$schema": DIALECT, **self.object(model)}
        if self.defs:
            schema["$defs"] = self.defs
        return schema

    def type_schema(self, field_type: FieldType) -> dict[str, Any]:
        if field_type is None:
            return {"description": "xsd:anyType"}
        if isinstance(field_type, SimpleType):
            return field_type.json_schema(self.decimal_as)
        if field_type.array_item is not None:
            return {"type": "array", "items": self.type_schema(field_type.array_item.type)}
        if field_type.name is None:
            return self.object(field_type)
        return {"$ref": f"#/$defs/{self.define(field_type)}"}

    def define(self, model: ComplexType) -> str:
        name = self.names.get(id(model))
        if name is None:
            name = _unique(model.label.partition(":")[2] or "object", self.defs)
            self.names[id(model)] = name
            self.defs[name] = {}
            self.defs[name] = self.object(model)
        return name

    def object(self, model: ComplexType) -> dict[str, Any]:
        properties = {f.key: self.field(f) for f in (*model.attributes, *model.elements)}
        if model.text is not None:
            properties[TEXT] = model.text.json_schema(self.decimal_as)
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        required = [f.key for f in (*model.attributes, *model.elements) if self._required(f)]
        if required:
            schema["required"] = required
        schema["additionalProperties"] = model.open or not self.request
        choices = [_choice(c) for c in model.choices] if self.request else []
        if choices:
            schema["allOf"] = choices
        if model.label != "object":
            schema["description"] = model.label
        return schema

    def _required(self, f: Field) -> bool:
        return f.required or (not self.request and not f.attribute and f.repeated)

    def field(self, f: Field) -> dict[str, Any]:
        schema = self.type_schema(f.type)
        if f.nillable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        if not f.repeated:
            return schema
        array: dict[str, Any] = {"type": "array", "items": schema}
        if self.request and f.min_occurs:
            array["minItems"] = f.min_occurs
        if f.max_occurs is not None:
            array["maxItems"] = f.max_occurs
        return array


def _choice(choice: Choice) -> dict[str, Any]:
    """An xs:choice: exactly one branch (or none, when optional) has its keys present."""
    present = [{"required": list(branch)} for branch in choice.branches]
    if choice.required:
        return {"oneOf": present}
    return {"oneOf": [*present, {"not": {"anyOf": present}}]}


def _unique(name: str, taken: dict[str, Any]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}{n}", n + 1
    return candidate


def signature(model: ComplexType) -> str:
    """A one-line signature, e.g. ``intA: xsd:int, items: tns:Item[], note?: xsd:string``."""
    parts = []
    for f in (*model.attributes, *model.elements):
        mark = "" if f.required or f.repeated else "?"
        many = "[]" if f.repeated else ""
        parts.append(f"{f.key}{mark}: {f.xsd}{many}")
    return ", ".join(parts)
