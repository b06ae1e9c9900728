"""A faster path for the common shapes of the proto3 JSON mapping. No I/O.

``json_format`` walks descriptors on every call. This module compiles, once
per message type, small per-field converters for the shapes most messages
have (scalars, enums, nested and repeated messages, maps) and uses them to
encode and decode; well-known types inside a message are handed to
``json_format`` one field at a time, except that an ``Any`` of an ordinary
message is decoded here, by the same rules as the rest. Whatever else it is unsure of — bytes or
maps on input, ``null``, numbers given as text, proto2 extensions, unknown
enum numbers, any error — raises :class:`Fallback`, and the caller uses
``json_format`` for the whole message, which also writes every error
message. The two paths must agree; a property test holds them to it::

    encoders = Encoders(emit_unpopulated=True, proto_names=False)
    encoders.encode(message)         # == json_format.MessageToDict(message, ...)
    Decoders(pool).decode_into(data, cls())   # as json_format.ParseDict, or Fallback
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.internal import type_checkers
from google.protobuf.message import Message

__all__ = ["BASE64", "MAX_DEPTH", "Decoders", "Encoders", "Fallback"]

_F = FieldDescriptor
_INT64 = frozenset({_F.CPPTYPE_INT64, _F.CPPTYPE_UINT64})
_INT32 = frozenset({_F.CPPTYPE_INT32, _F.CPPTYPE_UINT32})
_MUTABLE = (list, dict)  # defaults copied for each message: [] and {}
_INTEGER_TEXT = re.compile(r"-?[0-9]+")
_FLOAT_MAX = type_checkers._FLOAT_MAX  # noqa: SLF001 - json_format checks the same bound


#: Messages nested this deep below the request are refused, as json_format's recursion
#: limit refuses them (and protobuf parsers' own limit would, upstream).
MAX_DEPTH = 100


class Fallback(Exception):  # noqa: N818 - a signal, not an error
    """This value (or message type) needs ``json_format`` itself."""


_WELL_KNOWN = frozenset(
    f"google.protobuf.{name}"
    for name in [
        "Any", "Duration", "FieldMask", "Struct", "ListValue", "Value", "Timestamp",
        "DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value",
        "UInt32Value", "BoolValue", "StringValue", "BytesValue",
    ]
)


def _well_known(descriptor: Descriptor) -> bool:
    return descriptor.full_name in _WELL_KNOWN


def _special(descriptor: Descriptor) -> bool:
    return _well_known(descriptor) or bool(descriptor.extension_ranges)


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


# -- encoding ---------------------------------------------------------------------------

Encode = Callable[[Any], Any]


class Encoders:
    """Message → JSON-ready data, with one compiled plan per message type."""

    def __init__(
        self,
        *,
        emit_unpopulated: bool,
        proto_names: bool,
        pool: descriptor_pool.DescriptorPool | None = None,
    ) -> None:
        self._emit = emit_unpopulated
        self._proto_names = proto_names
        self._pool = pool
        self._by_number: dict[str, dict[int, tuple[str, Encode]] | None] = {}  # number → (JSON key, converter)
        self._defaults: dict[str, list[tuple[str, Any]]] = {}  # (JSON key, default) of fields without presence

    def encode(self, message: Message) -> dict[str, Any]:
        """``message`` as a dict; :class:`Fallback` when its type is not covered.

        The populated fields come from ``ListFields`` (in field-number order);
        with ``emit_unpopulated``, every other field without presence follows
        with its default, in declaration order: json_format's own order.
        """
        name = message.DESCRIPTOR.full_name
        by_number = self._by_number[name] if name in self._by_number else self._compile(message)
        if by_number is None:
            raise Fallback(name)
        out: dict[str, Any] = {}
        for field, value in message.ListFields():
            key, convert = by_number[field.number]
            out[key] = convert(value)
        if self._emit:
            for key, default in self._defaults[name]:
                if key not in out:
                    out[key] = default.copy() if default.__class__ in _MUTABLE else default
        return out

    def _compile(self, message: Message) -> dict[int, tuple[str, Encode]] | None:
        """Converters by field number, and the JSON default of each field without presence."""
        descriptor = message.DESCRIPTOR
        if _special(descriptor):
            self._by_number[descriptor.full_name] = None
            return None
        key_of = (lambda f: f.name) if self._proto_names else (lambda f: f.json_name)
        by_number = {f.number: (key_of(f), self._field(f)) for f in descriptor.fields}
        empty = type(message)()
        self._defaults[descriptor.full_name] = [
            (key_of(f), by_number[f.number][1](getattr(empty, f.name)))
            for f in descriptor.fields
            if not f.has_presence
        ]
        self._by_number[descriptor.full_name] = by_number
        return by_number

    def _field(self, field: FieldDescriptor) -> Encode:
        if _is_map(field):
            value = self._single(field.message_type.fields_by_name["value"])
            key_type = field.message_type.fields_by_name["key"].type
            if key_type == _F.TYPE_BOOL:
                return lambda m: {("true" if k else "false"): value(v) for k, v in m.items()}
            return lambda m: {str(k): value(v) for k, v in m.items()}
        single = self._single(field)
        if field.is_repeated:
            return lambda items: [single(v) for v in items]
        return single

    def _single(self, field: FieldDescriptor) -> Encode:
        cpp = field.cpp_type
        if cpp == _F.CPPTYPE_MESSAGE:
            if _well_known(field.message_type):
                return self._well_known_field
            return self.encode
        if cpp == _F.CPPTYPE_ENUM:
            return _enum_encoder(field)
        if cpp in _INT64:
            return str
        if cpp == _F.CPPTYPE_FLOAT:
            return _float32
        if cpp == _F.CPPTYPE_DOUBLE:
            return _double
        if field.type == _F.TYPE_BYTES:
            return lambda b: base64.b64encode(b).decode("utf-8")
        return _same


    def _well_known_field(self, message: Message) -> Any:
        try:
            return json_format.MessageToDict(
                message,
                always_print_fields_with_no_presence=self._emit,
                preserving_proto_field_name=self._proto_names,
                descriptor_pool=self._pool,
            )
        except Exception:  # noqa: BLE001 - json_format fails it again, for the whole message, as its callers expect
            raise Fallback(message.DESCRIPTOR.full_name) from None


def _same(value: Any) -> Any:
    return value


def _double(value: float) -> Any:
    if math.isinf(value) or math.isnan(value):
        raise Fallback("non-finite")
    return value


def _float32(value: float) -> Any:
    if value == 0.0 and math.copysign(1.0, value) > 0:
        return 0.0
    if math.isinf(value) or math.isnan(value):
        raise Fallback("non-finite")
    return type_checkers.ToShortestFloat(value)


def _enum_encoder(field: FieldDescriptor) -> Encode:
    if field.enum_type.full_name == "google.protobuf.NullValue":
        raise Fallback("NullValue")
    names = {v.number: v.name for v in field.enum_type.values}

    def encode(number: int) -> str:
        name = names.get(number)
        if name is None:
            raise Fallback("unknown enum number")
        return name

    return encode


# -- decoding ---------------------------------------------------------------------------

Convert = Callable[[Any], Any]
_SCALAR, _SCALARS, _MESSAGE, _MESSAGES, _WELL_KNOWN_FIELD, _ANY = range(6)
# JSON key → (field name, oneof name or None, kind, converter for scalars)
_Plan = dict[str, tuple[str, str | None, int, Convert | None]]


class Decoders:
    """JSON data → message, with one compiled plan per message type (of one pool)."""

    def __init__(self, pool: descriptor_pool.DescriptorPool | None = None) -> None:
        self._pool = pool
        self._plans: dict[str, _Plan] = {}

    def decode_into(self, data: dict[str, Any], message: Message) -> None:
        """Fill ``message`` from ``data`` as json_format would; :class:`Fallback` when unsure.

        ``message`` may be partly filled when Fallback is raised: use a fresh one.
        """
        try:
            self._decode(data, message)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, json_format.ParseError) as exc:
            raise Fallback(str(exc)) from None  # json_format, for the whole message, says why

    def _plan(self, descriptor: Descriptor) -> _Plan:
        plan = self._plans.get(descriptor.full_name)
        if plan is None:
            if _special(descriptor):
                raise Fallback(descriptor.full_name)
            plan = {}
            for field in descriptor.fields:
                oneof = field.containing_oneof.name if field.containing_oneof is not None else None
                entry = (field.name, oneof, *_decoding_kind(field))
                plan[field.name] = plan[field.json_name] = entry
            self._plans[descriptor.full_name] = plan
        return plan

    def _decode(self, data: dict[str, Any], message: Message, depth: int = 0) -> None:
        if depth >= MAX_DEPTH:  # json_format (and then the caller) refuses it, naming the limit
            raise Fallback("too deep")
        plan = self._plan(message.DESCRIPTOR)
        oneofs: set[str] | None = None
        for key, value in data.items():
            entry = plan.get(key)
            if entry is None or value is None:
                raise Fallback(key)
            name, oneof, kind, convert = entry
            if key != name and name in data:  # both spellings of one field: json_format's error
                raise Fallback(key)
            if oneof is not None:
                oneofs = oneofs or set()
                if oneof in oneofs:
                    raise Fallback(key)
                oneofs.add(oneof)
            if kind == _SCALAR:
                setattr(message, name, convert(value))  # type: ignore[misc]
            elif kind == _SCALARS:
                if type(value) is not list:
                    raise Fallback(key)
                getattr(message, name).extend([convert(item) for item in value])  # type: ignore[misc]
            elif kind == _MESSAGE:
                if type(value) is not dict:
                    raise Fallback(key)
                sub = getattr(message, name)
                sub.SetInParent()
                self._decode(value, sub, depth + 1)
            elif kind == _MESSAGES:
                self._messages(getattr(message, name), key, value, depth + 1)
            elif kind == _FALLBACK_KIND:
                raise Fallback(key)
            elif kind == _ANY:
                self._any(getattr(message, name), value, depth + 1)
            else:
                if convert is not None:
                    convert(value)  # Rosetta's stricter reading, where it has one
                sub = getattr(message, name)
                sub.SetInParent()
                json_format.ParseDict(value, sub, descriptor_pool=self._pool)

    def _any(self, target: Any, value: Any, depth: int) -> None:
        """An Any of an ordinary message, decoded here (so read as strictly); others fall back."""
        type_url = value.get("@type") if type(value) is dict else None
        if type(type_url) is not str:
            raise Fallback("@type")
        pool = self._pool or descriptor_pool.Default()
        try:
            descriptor = pool.FindMessageTypeByName(type_url.rpartition("/")[2])
        except KeyError:
            raise Fallback(type_url) from None
        packed = message_factory.GetMessageClass(descriptor)()
        self._decode({k: v for k, v in value.items() if k != "@type"}, packed, depth)
        target.type_url = type_url  # as json_format sets them
        target.value = packed.SerializeToString()

    def _messages(self, target: Any, key: str, value: Any, depth: int) -> None:
        if type(value) is not list:
            raise Fallback(key)
        for item in value:
            if type(item) is not dict:
                raise Fallback(key)
            self._decode(item, target.add(), depth)


def _decoding_kind(field: FieldDescriptor) -> tuple[int, Convert | None]:
    if field.cpp_type != _F.CPPTYPE_MESSAGE:
        return (_SCALARS if field.is_repeated else _SCALAR), _converter(field)
    if _is_map(field) or (field.is_repeated and _special(field.message_type)):
        return _FALLBACK_KIND, None
    name = field.message_type.full_name
    if name == "google.protobuf.Any":
        return _ANY, None
    if _well_known(field.message_type):
        return _WELL_KNOWN_FIELD, _WELL_KNOWN_CHECKS.get(name)
    return (_MESSAGES if field.is_repeated else _MESSAGE), None


_FALLBACK_KIND = -1

#: The base64 Rosetta reads: standard or URL-safe alphabet, padding optional (as proto3 JSON
#: allows), nothing else (json_format drops other characters silently).
BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")


def _base64_text(value: Any) -> None:
    if type(value) is not str or not BASE64.fullmatch(value):
        raise Fallback("base64")


def _object(value: Any) -> None:
    if type(value) is not dict:
        raise Fallback("object")


# Well-known types Rosetta reads more strictly than json_format, as it reads bytes and messages.
_WELL_KNOWN_CHECKS: dict[str, Convert] = {
    "google.protobuf.BytesValue": _base64_text,
    "google.protobuf.Empty": _object,
}


def _refuse(value: Any) -> Any:
    raise Fallback(repr(value)[:40])


def _converter(field: FieldDescriptor) -> Convert:
    """The function turning a JSON value into what ``setattr`` takes for ``field``."""
    cpp = field.cpp_type
    if cpp == _F.CPPTYPE_STRING:
        return _exact(str) if field.type == _F.TYPE_STRING else _refuse
    if cpp == _F.CPPTYPE_BOOL:
        return _exact(bool)
    if cpp in _INT32:
        return _exact(int)
    if cpp in _INT64:
        return _int64
    if cpp == _F.CPPTYPE_DOUBLE:
        return _number
    if cpp == _F.CPPTYPE_FLOAT:
        return _float32_in
    names = {v.name: v.number for v in field.enum_type.values}

    def enum(value: Any) -> Any:
        number = names.get(value) if type(value) is str else None
        if number is None:
            raise Fallback(repr(value)[:40])
        return number

    return enum


def _exact(kind: type) -> Convert:
    def convert(value: Any) -> Any:
        if type(value) is not kind:
            raise Fallback(repr(value)[:40])
        return value

    return convert


def _int64(value: Any) -> Any:
    kind = type(value)
    if kind is int:
        return value
    if kind is str and _INTEGER_TEXT.fullmatch(value):
        return int(value)
    raise Fallback(repr(value)[:40])


def _number(value: Any) -> Any:
    kind = type(value)
    if kind is float or kind is int:
        return value
    raise Fallback(repr(value)[:40])


def _float32_in(value: Any) -> Any:
    kind = type(value)
    if (kind is float or kind is int) and -_FLOAT_MAX <= value <= _FLOAT_MAX:
        return value
    raise Fallback(repr(value)[:40])
