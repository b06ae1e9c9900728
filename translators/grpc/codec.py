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
from google.protobuf import descriptor_pool, json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from gateway.errors import MalformedBody
from translators.grpc.fastjson import Decoders, Encoders, Fallback
from translators.grpc.fielderrors import explain, invalid

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
        _check_objects(data, cls.DESCRIPTOR, "")
    try:
        json_format.ParseDict(
            data,
            message,
            ignore_unknown_fields=options.ignore_unknown_fields,
            descriptor_pool=options.pool,
        )
    except json_format.ParseError as exc:
        raise explain(str(exc), cls.DESCRIPTOR) from None
    return message


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
        try:
            return self._encoders.encode(message)
        except Fallback:
            return encode(message, self.options)


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


def _check_objects(data: dict[str, Any], message: Descriptor, path: str) -> None:
    """Refuse a message field given anything but an object (or null), at any depth.

    json_format reads any iterable as a message: ``[]`` would pass as an empty
    one and ``"text"`` as its letters' field names. Well-known types are left
    to json_format, which checks them (``Value`` takes any JSON).
    """
    for key, value in data.items():
        field = find_field(message, key)
        if field is None or value is None or field.message_type is None or _is_wkt(field.message_type):
            continue
        where = f"{path}.{key}" if path else key
        if field.message_type.GetOptions().map_entry:
            _check_map_values(value, field.message_type.fields_by_name["value"], where)
        elif field.is_repeated:
            for index, item in enumerate(value if isinstance(value, list) else ()):
                if item is not None:  # json_format refuses a null item itself
                    _check_object(item, field.message_type, f"{where}[{index}]")
        else:
            _check_object(value, field.message_type, where)


def _check_map_values(value: Any, field: FieldDescriptor, where: str) -> None:
    if isinstance(value, dict) and field.message_type is not None and not _is_wkt(field.message_type):
        for key, item in value.items():
            if item is not None:
                _check_object(item, field.message_type, f"{where}.{key}")


def _check_object(value: Any, message: Descriptor, where: str) -> None:
    if not isinstance(value, dict):
        raise invalid(where, f"expected an object, not {_kind(value)}")
    _check_objects(value, message, where)


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")
