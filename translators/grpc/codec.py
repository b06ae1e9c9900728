"""JSON <-> protobuf by the canonical proto3 JSON mapping (``json_format``). No I/O.

Output uses lowerCamelCase names unless ``preserve_proto_field_names``; input
accepts both spellings. int64 values are strings, enums names, well-known
types their JSON forms. Every problem with the caller's JSON is an
:class:`~gateway.errors.InvalidArguments` naming the field::

    options = JsonOptions()
    message = decode({"name": "shelves/1"}, GetShelfRequest, options)
    encode(message, options)                  # {"name": "shelves/1"}
    decode({"nmae": "x"}, GetShelfRequest, options)
    # InvalidArguments: unknown field 'nmae' (errors=[{"field": "nmae", ...}])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from gateway.errors import BadGateway, InvalidArguments, MalformedBody
from translators.grpc.fastjson import BASE64, MAX_DEPTH, Decoders, Encoders, Fallback
from translators.grpc.fielderrors import describe, describe_item, explain, invalid, packed_type

__all__ = [
    "Codec",
    "JsonOptions",
    "decode",
    "encode",
    "find_field",
    "loads",
    "param_value",
]


@dataclass(frozen=True, slots=True)
class JsonOptions:
    """How messages map to JSON for one upstream."""

    preserve_proto_field_names: bool = False
    emit_unpopulated: bool = True
    ignore_unknown_fields: bool = False
    pool: descriptor_pool.DescriptorPool | None = None  # resolves google.protobuf.Any


def loads(raw: bytes) -> Any:
    """Parse JSON bytes; malformed JSON is a :class:`MalformedBody` (400)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"the request body is not valid JSON: {exc}") from None


def decode(data: Any, cls: type[Message], options: JsonOptions) -> Message:
    """``data`` (parsed JSON, ``None`` for empty) as a ``cls`` message; 400 naming the field."""
    message = cls()
    if data is None:
        return message
    if not isinstance(data, dict) and not _is_wkt(cls.DESCRIPTOR):
        raise invalid("", f"the request must be a JSON object, not {_kind(data)}")
    if isinstance(data, dict) and not _is_wkt(cls.DESCRIPTOR):
        _check_shapes(data, cls.DESCRIPTOR, "")
    try:
        json_format.ParseDict(
            data,
            message,
            ignore_unknown_fields=options.ignore_unknown_fields,
            descriptor_pool=options.pool,
        )
    except json_format.ParseError as exc:
        raise explain(str(exc), cls.DESCRIPTOR, data) from None
    except _SLIPS:
        raise _slipped(data, cls.DESCRIPTOR, options, "") from None
    return message


# What json_format raises, instead of a ParseError, for some input it cannot read: ``null``
# for a repeated Value, ``"@type"`` not a string, an Any of a well-known type without "value".
_SLIPS = (AttributeError, KeyError, IndexError, TypeError, ValueError)


def _slipped(data: Any, message: Descriptor, options: JsonOptions, path: str) -> InvalidArguments:
    """The 400 for input json_format fails on with Python's own exception: the field, found by retrying."""
    for key, value in data.items() if isinstance(data, dict) else ():
        field = find_field(message, key)
        if field is None:
            continue
        where = f"{path}.{key}" if path else key
        try:
            alone = message_factory.GetMessageClass(message)()
            json_format.ParseDict({key: value}, alone, ignore_unknown_fields=True, descriptor_pool=options.pool)
        except _SLIPS:
            inner = field.message_type
            if isinstance(value, dict) and inner is not None and not field.is_repeated and not _is_wkt(inner):
                return _slipped(value, inner, options, where)
            return invalid(where, f"expected {describe(field)}")
        except json_format.ParseError:
            continue
    return invalid(path, f"expected {message.full_name} in its JSON form")


class Codec:
    """:func:`decode` and :func:`encode` for one upstream, on the compiled fast path when it applies.

    The fast path (:mod:`translators.grpc.fastjson`) gives the same results;
    whenever it is unsure, ``json_format`` does the work and writes the errors.
    """

    def __init__(self, options: JsonOptions) -> None:
        self.options = options
        self._encoders = Encoders(
            emit_unpopulated=options.emit_unpopulated,
            proto_names=options.preserve_proto_field_names,
            pool=options.pool,
        )
        self._decoders = Decoders(options.pool)

    def decode(self, data: Any, cls: type[Message]) -> Message:
        if type(data) is dict and not self.options.ignore_unknown_fields:
            message = cls()
            try:
                self._decoders.decode_into(data, message)
                return message
            except Fallback:
                pass
        return decode(data, cls, self.options)

    def encode(self, message: Message) -> Any:
        """``message`` as JSON-ready data; :class:`BadGateway` when a value has no JSON form
        (a Timestamp before year 1, say): the upstream sent what JSON cannot say."""
        try:
            return self._encoders.encode(message)
        except Fallback:
            try:
                return encode(message, self.options)
            except (json_format.SerializeToJsonError, ValueError, TypeError) as exc:
                raise BadGateway(f"the upstream's reply has no JSON form: {exc}") from None


def encode(message: Message, options: JsonOptions) -> Any:
    """``message`` as JSON-ready Python data."""
    return json_format.MessageToDict(
        message,
        always_print_fields_with_no_presence=options.emit_unpopulated,
        preserving_proto_field_name=options.preserve_proto_field_names,
        descriptor_pool=options.pool,
    )


_WKT_SCALARS = frozenset(
    {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
)


def _is_wkt(descriptor: Descriptor) -> bool:
    return descriptor.full_name.startswith("google.protobuf.")


def find_field(message: Descriptor, name: str) -> FieldDescriptor | None:
    """The field of ``message`` called ``name`` (proto or JSON spelling)."""
    field = message.fields_by_name.get(name)
    if field is not None:
        return field
    return next((f for f in message.fields if f.json_name == name), None)


_TRUE = frozenset({"true", "1", "t"})
_FALSE = frozenset({"false", "0", "f"})


def param_value(field: FieldDescriptor, raw: str, where: str) -> Any:
    """A path or query parameter's text as the JSON value ``field`` takes.

    Numbers, enums, strings and bytes go through as text (the JSON mapping
    accepts them quoted); booleans are parsed here; Timestamp, Duration,
    FieldMask and the wrapper types take their scalar form. Any other message
    cannot come from a parameter: a 400 naming ``where``.
    """
    if field.type == FieldDescriptor.TYPE_BOOL:
        return _bool(raw, where)
    if field.type != FieldDescriptor.TYPE_MESSAGE:
        return raw
    name = field.message_type.full_name
    if name in _WKT_SCALARS:
        return raw
    if name.endswith("Value") and name.startswith("google.protobuf.") and "value" in field.message_type.fields_by_name:
        inner = field.message_type.fields_by_name["value"]
        return param_value(inner, raw, where)
    raise invalid(where, f"a {name} cannot be given as a parameter; name one of its fields")


def _bool(raw: str, where: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise invalid(where, f"expected true or false, not {raw!r}")


def _check_shapes(data: dict[str, Any], message: Descriptor, path: str, depth: int = 0) -> None:
    """Refuse what json_format would take silently or explain in Python's words, at any depth.

    json_format reads any iterable as a message (``[]`` as an empty one,
    ``"text"`` as its letters' field names), drops characters outside the
    base64 alphabet, takes ``true`` as enum number 1 and keeps the last of a
    field given under both its names. Well-known types are left to it.
    """
    if depth >= MAX_DEPTH:
        raise invalid(path, f"messages are nested {MAX_DEPTH} or more deep")
    for key, value in data.items():
        field = find_field(message, key)
        if field is None or value is None:
            continue
        where = f"{path}.{key}" if path else key
        other = field.json_name if key == field.name else field.name
        if other != key and other in data:
            raise invalid(where, f"given more than once (as '{key}' and '{other}')")
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            if not isinstance(value, dict):
                raise invalid(where, f"expected {describe(field)}, not {_kind(value)}")
            for name, item in value.items():
                if item is not None:
                    _check_value(item, entry.fields_by_name["value"], f"{where}.{name}", depth)
        elif field.is_repeated:
            if not isinstance(value, list):
                raise invalid(where, f"expected {describe(field)}, not {_kind(value)}")
            for index, item in enumerate(value):
                if item is not None:  # json_format refuses a null item itself
                    _check_value(item, field, f"{where}[{index}]", depth)
        else:
            _check_value(value, field, where, depth)


def _check_value(value: Any, field: FieldDescriptor, where: str, depth: int) -> None:
    """One (non-null) value of ``field``, or one item of a repeated field or map."""
    message = field.message_type
    if message is not None:
        if _is_wkt(message):
            _check_well_known(value, message, where, depth)
            return
        if not isinstance(value, dict):
            raise invalid(where, f"expected an object, not {_kind(value)}")
        _check_shapes(value, message, where, depth + 1)
    elif field.type == FieldDescriptor.TYPE_BYTES:
        if not isinstance(value, str) or not BASE64.fullmatch(value):
            raise invalid(where, "expected a base64 string")
    elif field.enum_type is not None and isinstance(value, bool):
        raise invalid(where, f"expected {describe_item(field)}, not a boolean")


def _check_well_known(value: Any, message: Descriptor, where: str, depth: int) -> None:
    """The same rules inside the well-known types that hold bytes, nothing, or a message of any type."""
    name = message.full_name
    if name == "google.protobuf.BytesValue":
        if not isinstance(value, str) or not BASE64.fullmatch(value):
            raise invalid(where, "expected a base64 string")
    elif name == "google.protobuf.Empty" and not isinstance(value, dict):
        raise invalid(where, f"expected an object, not {_kind(value)}")
    elif name == "google.protobuf.Any" and isinstance(value, dict):
        packed = packed_type(value, message)
        if packed is not None and not _is_wkt(packed):
            _check_shapes({k: v for k, v in value.items() if k != "@type"}, packed, where, depth + 1)


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", dict: "an object"}.get(type(value), "a number")
