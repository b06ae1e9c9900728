"""``json_format`` parse errors as 400s that name the field the caller wrote. No I/O.

json_format reports problems as nested sentences ("Failed to parse items
field: Failed to parse level field: invalid literal for int() …"). This
module recovers the field path (``items.level``) and replaces Python's own
wording with what the field expects (``expected an integer (int32)``)::

    explain(str(parse_error), Everything.DESCRIPTOR)
    # InvalidArguments("field 'items.level': expected an integer (int32)")
"""

from __future__ import annotations

import re

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway.errors import InvalidArguments

__all__ = ["describe", "describe_item", "explain", "invalid"]


def invalid(field: str, message: str) -> InvalidArguments:
    """The 400 for one bad field (``field`` empty: the request as a whole)."""
    detail = f"field '{field}': {message}" if field else message
    return InvalidArguments(detail, errors=[{"field": field, "message": message}])


_UNKNOWN = re.compile(r'has no field named "(?P<name>[^"]+)" at "(?P<path>[^"]*)"')
_MULTIPLE = re.compile(r'should not have multiple "(?P<name>[^"]+)" (?:oneof )?fields at "(?P<path>[^"]*)"')
_CHAIN = re.compile(r"Failed to parse (\S+) field: ")
_AT = re.compile(r"^(?P<reason>.*?) at (?P<path>[\w.\[\]-]+?)\.*$", re.DOTALL)
# Python's own wording, which says nothing useful to a caller: replaced by the field's type.
_GENERIC = (
    "invalid literal for",
    "argument must be",
    "unhashable type",
    "list indices must be",
    "does not match format",
    "object is not iterable",
    "expected string or bytes-like",
    "could not convert",
    "must be in [] which is",
    "must be in a dict which is",
    "object has no attribute",
    "has type",
    "not a valid",
    "expected true or false",
    "couldn't parse integer",
    "couldn't parse float",
    "couldn't parse non-integer",
)


def explain(text: str, root: Descriptor) -> InvalidArguments:
    """json_format's error ``text`` for a message of type ``root`` as a 400."""
    for pattern, reason in ((_UNKNOWN, "unknown field"), (_MULTIPLE, "given more than once")):
        found = pattern.search(text)
        if found:
            return invalid(_join(_strip_root(found["path"], root.name), found["name"]), reason)
    chain = _CHAIN.findall(text)
    inner = _CHAIN.sub("", text.strip()).rstrip(".")
    path = ".".join(chain)
    at = _AT.match(inner)
    if at:
        inner = at["reason"]
        # " at X" names the message holding the field, which the chain may already pass
        # (``book`` for ``book.tags``): keep whichever of the two says more.
        located = _strip_root(at["path"], root.name)
        if located and (not path or located.startswith(path)):
            path = located
    return invalid(path, _reason(inner, _field_at(root, path)))


def _strip_root(path: str, root: str) -> str:
    if path == root:
        return ""
    return path[len(root) + 1 :] if path.startswith(root + ".") else path


def _join(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


def _reason(text: str, field: FieldDescriptor | None) -> str:
    text, lowered = text.rstrip("."), text.lower()
    if field is not None and _is_map(field):
        field = field.message_type.fields_by_name["value"]
    if "out of range" in lowered:
        kind = _TYPE_NAMES.get(field.type) if field is not None else None
        return "value out of range for its type" + (f" ({kind})" if kind else "")
    if text.startswith("Invalid enum value"):
        return text.split(" for enum type ")[0].replace("Invalid enum value", "unknown enum value")
    if field is not None and any(g in lowered for g in _GENERIC):
        return "expected " + describe(field)
    return text[:1].lower() + text[1:]


def _field_at(root: Descriptor, path: str) -> FieldDescriptor | None:
    """The field a json_format path names (``items[0].level``, ``counts.key``)."""
    message: Descriptor | None = root
    field: FieldDescriptor | None = None
    parts = [p for p in re.sub(r"\[[^\]]*\]", "", path).split(".") if p]
    for part in parts:
        if message is None:
            return None
        if field is not None and _is_map(field):
            field = message.fields_by_name["value"]
        else:
            field = message.fields_by_name.get(part) or next(
                (f for f in message.fields if f.json_name == part), None
            )
        if field is None:
            return None
        message = field.message_type
    return field


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


_TYPE_NAMES = {
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_SINT32: "sint32",
    FieldDescriptor.TYPE_SFIXED32: "sfixed32",
    FieldDescriptor.TYPE_UINT32: "uint32",
    FieldDescriptor.TYPE_FIXED32: "fixed32",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_SINT64: "sint64",
    FieldDescriptor.TYPE_SFIXED64: "sfixed64",
    FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_FIXED64: "fixed64",
    FieldDescriptor.TYPE_FLOAT: "float",
    FieldDescriptor.TYPE_DOUBLE: "double",
}

_WKT_WORDS = {
    "google.protobuf.Timestamp": 'an RFC 3339 timestamp string, e.g. "2024-01-31T12:00:00Z"',
    "google.protobuf.Duration": 'a duration string, e.g. "1.5s"',
    "google.protobuf.FieldMask": 'a comma-separated field mask string, e.g. "name,nested.note"',
    "google.protobuf.Struct": "a JSON object",
    "google.protobuf.ListValue": "a JSON array",
    "google.protobuf.Value": "any JSON value",
    "google.protobuf.Any": 'an object with "@type"',
}


def describe(field: FieldDescriptor) -> str:
    """What JSON ``field`` takes, in words: ``an integer (int32)``, ``an array of strings`` …"""
    if _is_map(field):
        return f"an object (values: {describe_item(field.message_type.fields_by_name['value'])})"
    if field.is_repeated:
        return f"an array (items: {describe_item(field)})"
    return describe_item(field)


def describe_item(field: FieldDescriptor) -> str:
    """What one value of ``field`` takes (an item, for a repeated field): ``an integer (int32)`` …"""
    kind = field.type
    if kind == FieldDescriptor.TYPE_MESSAGE:
        name = field.message_type.full_name
        if name in _WKT_WORDS:
            return _WKT_WORDS[name]
        inner = field.message_type.fields_by_name.get("value")
        if name.startswith("google.protobuf.") and name.endswith("Value") and inner is not None:
            return describe_item(inner) + " or null"
        return "an object"
    if kind == FieldDescriptor.TYPE_ENUM:
        names = [v.name for v in field.enum_type.values][:10]
        return "one of " + ", ".join(names)
    if kind == FieldDescriptor.TYPE_BOOL:
        return "true or false"
    if kind == FieldDescriptor.TYPE_STRING:
        return "a string"
    if kind == FieldDescriptor.TYPE_BYTES:
        return "a base64 string"
    if kind in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return f"a number ({_TYPE_NAMES[kind]})"
    return f"an integer ({_TYPE_NAMES[kind]})"

