"""JSON Schemas (draft 2020-12) of messages, by the proto3 JSON mapping. No I/O.

Property names are lowerCamelCase (or the proto names when the upstream
preserves them); 64-bit integers are strings; enums list their names;
well-known types take their JSON forms. Every message type reachable from
the root gets a ``$defs`` entry, so recursive messages are fine::

    message_schema(Shelf.DESCRIPTOR)
    # {"$ref": "#/$defs/library.Shelf", "$defs": {"library.Shelf": {"type": "object", ...}}}
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

__all__ = ["message_schema"]

_F = FieldDescriptor
_INT32 = {_F.TYPE_INT32, _F.TYPE_SINT32, _F.TYPE_SFIXED32}
_UINT32 = {_F.TYPE_UINT32, _F.TYPE_FIXED32}
_INT64 = {_F.TYPE_INT64, _F.TYPE_SINT64, _F.TYPE_SFIXED64}
_UINT64 = {_F.TYPE_UINT64, _F.TYPE_FIXED64}

_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {"type": "string", "description": "Comma-separated field paths."},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.Empty": {"type": "object", "additionalProperties": False},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
    },
    "google.protobuf.NullValue": {"type": "null"},
}


def message_schema(message: Descriptor, *, proto_names: bool = False) -> dict[str, Any]:
    """The schema of ``message``: a ``$ref`` to it plus ``$defs`` for every message it uses."""
    defs: dict[str, Any] = {}
    root = _message_ref(message, defs, proto_names)
    return {**root, "$defs": defs} if defs else root


def _message_ref(message: Descriptor, defs: dict[str, Any], proto_names: bool) -> dict[str, Any]:
    name = message.full_name
    if name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[name])
    wrapped = _wrapped(message)
    if wrapped is not None:
        return {"anyOf": [_field_type(wrapped, defs, proto_names), {"type": "null"}]}
    if name not in defs:
        defs[name] = {}  # placeholder first: a recursive message refers to itself
        defs[name] = _object(message, defs, proto_names)
    return {"$ref": f"#/$defs/{name}"}


def _object(message: Descriptor, defs: dict[str, Any], proto_names: bool) -> dict[str, Any]:
    properties = {
        (field.name if proto_names else field.json_name): _field(field, defs, proto_names)
        for field in message.fields
    }
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    oneofs = [o for o in message.oneofs if len(o.fields) > 1 or not o.name.startswith("_")]
    if oneofs:
        schema["description"] = "; ".join(
            f"at most one of {', '.join(f.json_name for f in o.fields)}" for o in oneofs
        )
    return schema


def _field(field: FieldDescriptor, defs: dict[str, Any], proto_names: bool) -> dict[str, Any]:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value = field.message_type.fields_by_name["value"]
        return {"type": "object", "additionalProperties": _field_type(value, defs, proto_names)}
    item = _field_type(field, defs, proto_names)
    return {"type": "array", "items": item} if field.is_repeated else item


def _field_type(field: FieldDescriptor, defs: dict[str, Any], proto_names: bool) -> dict[str, Any]:
    kind = field.type
    if kind == _F.TYPE_MESSAGE or kind == _F.TYPE_GROUP:
        return _message_ref(field.message_type, defs, proto_names)
    if kind == _F.TYPE_ENUM:
        if field.enum_type.full_name == "google.protobuf.NullValue":
            return {"type": "null"}
        return {"type": "string", "enum": [v.name for v in field.enum_type.values]}
    return dict(_scalar(kind))


def _scalar(kind: int) -> dict[str, Any]:
    if kind in _INT32:
        return {"type": "integer", "format": "int32"}
    if kind in _UINT32:
        return {"type": "integer", "format": "uint32", "minimum": 0}
    if kind in _INT64:
        return {"type": "string", "format": "int64", "pattern": r"^-?[0-9]+$"}
    if kind in _UINT64:
        return {"type": "string", "format": "uint64", "pattern": r"^[0-9]+$"}
    if kind == _F.TYPE_FLOAT:
        return {"type": "number", "format": "float"}
    if kind == _F.TYPE_DOUBLE:
        return {"type": "number", "format": "double"}
    if kind == _F.TYPE_BOOL:
        return {"type": "boolean"}
    if kind == _F.TYPE_BYTES:
        return {"type": "string", "contentEncoding": "base64"}
    return {"type": "string"}


def _wrapped(message: Descriptor) -> FieldDescriptor | None:
    name = message.full_name
    if name.startswith("google.protobuf.") and name.endswith("Value") and name != "google.protobuf.ListValue":
        return message.fields_by_name.get("value")
    return None
