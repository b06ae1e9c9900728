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
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from gateway.errors import InvalidArguments

__all__ = ["describe", "describe_item", "explain", "invalid", "packed_type"]


def invalid(field: str, message: str) -> InvalidArguments:
    """The 400 for one bad field (``field`` empty: the request as a whole)."""
    detail = f"field '{field}': {message}" if field else message
    return InvalidArguments(detail, errors=[{"field": field, "message": message}])


# Greedy, so that a key holding quotes (or nothing at all) is still found whole.
_UNKNOWN = re.compile(r'has no field named "(?P<name>.*)" at "(?P<path>[^"]*)"\.(?:\n|$)', re.DOTALL)
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
    "has no len()",
    "incorrect padding",
    "invalid base64",
    "json value not a string",
    "invalid value for",
)


def explain(text: str, root: Descriptor, data: Any = None) -> InvalidArguments:
    """json_format's error ``text`` for a message of type ``root`` as a 400.

    ``data``, the JSON that failed, restores the keys json_format leaves out
    of its chain (a message field of a ``oneof``).
    """
    for pattern, reason in ((_UNKNOWN, "unknown field"), (_MULTIPLE, "given more than once")):
        found = pattern.search(text)
        if found:
            return invalid(_join(_strip_root(found["path"], root.name), found["name"]), reason)
    chain = _CHAIN.findall(text)
    inner = _CHAIN.sub("", text.strip()).rstrip(".")
    path = ".".join(_through_oneofs(chain, root, data))
    at = _AT.match(inner)
    if at:
        inner = at["reason"]
        # " at X" names the message holding the field, which the chain may already pass
        # (``book`` for ``book.tags``): keep whichever of the two says more.
        located = _strip_root(at["path"], root.name)
        if located and (not path or located.startswith(path)):
            path = located
    return invalid(path, _reason(inner, _field_at(root, path, data)))


def _through_oneofs(chain: list[str], root: Descriptor, data: Any) -> list[str]:
    """``chain`` with the caller's keys for the oneof message fields json_format does not name."""
    out: list[str] = []
    here: Any = data
    message: Descriptor | None = root
    for index, name in enumerate(chain):
        if message is not None and message.full_name == "google.protobuf.Any":
            message = packed_type(here, root)
        hops = _oneof_hops(here, message, name, _ONEOF_DEPTH) if message and isinstance(here, dict) else None
        if message is None or hops is None:
            return out + chain[index:]
        for key in [*hops, name]:
            field = _lookup(message, key) if message is not None else None
            out.append(key)
            here, message = here[key], field.message_type if field is not None else None
    return out


_ONEOF_DEPTH = 8  # oneof message fields nested in one another, looked through for one chain link


def _oneof_hops(here: dict[str, Any], message: Descriptor, name: str, depth: int) -> list[str] | None:
    """The keys of oneof message fields leading from ``here`` to an object that has ``name``."""
    if name in here:
        return []
    for key, value in here.items():
        field = _lookup(message, key) if depth and isinstance(value, dict) else None
        if field is not None and field.containing_oneof is not None and field.message_type is not None:
            rest = _oneof_hops(value, field.message_type, name, depth - 1)
            if rest is not None:
                return [key, *rest]
    return None


def _lookup(message: Descriptor, name: str) -> FieldDescriptor | None:
    return message.fields_by_name.get(name) or next((f for f in message.fields if f.json_name == name), None)


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


def _field_at(root: Descriptor, path: str, data: Any = None) -> FieldDescriptor | None:
    """The field a json_format path names (``items[0].level``, ``counts.key``, ``detail.note``).

    Inside an ``Any`` the field belongs to the type its ``"@type"`` in ``data`` names.
    """
    message: Descriptor | None = root
    field: FieldDescriptor | None = None
    here = data
    for part in re.split(r"\.|(?=\[)", path):
        if part.startswith("["):  # an index: step into the list, if the data has it
            index = part[1:-1]
            here = here[int(index)] if isinstance(here, list) and index.isdigit() and int(index) < len(here) else None
            continue
        if not part:
            continue
        if message is None:
            return None
        if message.full_name == "google.protobuf.Any":
            message = packed_type(here, root)
            if message is None:
                return None
        if field is not None and _is_map(field):
            field = message.fields_by_name["value"]
        else:
            field = _lookup(message, part)
        if field is None:
            return None
        message = field.message_type
        here = here.get(part) if isinstance(here, dict) else None
    return field


def packed_type(data: Any, beside: Descriptor) -> Descriptor | None:
    """The message type named by ``data["@type"]`` (an Any's JSON), in ``beside``'s pool; else None."""
    type_url = data.get("@type") if isinstance(data, dict) else None
    if not isinstance(type_url, str):
        return None
    try:
        return beside.file.pool.FindMessageTypeByName(type_url.rpartition("/")[2])
    except KeyError:
        return None


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

