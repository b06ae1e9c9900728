"""Rosetta's JSON converters against json_format, on random messages and random JSON.

Encoding: :class:`Codec` must give exactly what ``json_format.MessageToDict``
gives with the same options (or fail as it fails). Decoding: :class:`Codec`
must accept exactly what ``json_format.ParseDict`` accepts, giving the same
message, and refuse the rest with a 400 naming a field the caller wrote. The
only differences allowed are those docs/grpc.md documents, where Rosetta is
stricter: a field under both its names, a message given another JSON shape,
bytes outside the base64 alphabets, ``true`` for an enum (at any depth, inside
a BytesValue, an Empty and an Any's message too). They are recognised here by
:func:`_documented_refusal`, written apart from Rosetta's own checks.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import any_pb2, json_format, message_factory, struct_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.errors import BadGateway, InvalidArguments, MalformedBody
from translators.grpc.codec import Codec, JsonOptions, loads
from translators.grpc.descriptors import compile_protos, load_services
from translators.grpc.fastjson import Decoders

F = FieldDescriptor
EXAMPLES = int(os.environ.get("ROSETTA_DIFF_EXAMPLES", "80"))  # raise it for a longer hunt
POOL = load_services(compile_protos([Path(__file__).with_name("differential.proto")])).pool
PACKAGE = "rosetta.differential.v1"


def _class(name: str) -> Any:
    return message_factory.GetMessageClass(POOL.FindMessageTypeByName(name))


TYPES = [_class(f"{PACKAGE}.{name}") for name in ("Scalars", "Repeats", "Maps", "Known", "Nulls")]
Scalars, Repeats, Maps, Known, Nulls = TYPES
Leaf = _class(f"{PACKAGE}.Leaf")

# -- random messages ---------------------------------------------------------------------

_RANGES = {
    F.TYPE_INT32: (-(2**31), 2**31 - 1), F.TYPE_SINT32: (-(2**31), 2**31 - 1), F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    F.TYPE_UINT32: (0, 2**32 - 1), F.TYPE_FIXED32: (0, 2**32 - 1),
    F.TYPE_INT64: (-(2**63), 2**63 - 1), F.TYPE_SINT64: (-(2**63), 2**63 - 1), F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    F.TYPE_UINT64: (0, 2**64 - 1), F.TYPE_FIXED64: (0, 2**64 - 1),
}


def _integers(kind: int) -> st.SearchStrategy[int]:
    low, high = _RANGES[kind]
    extremes = [low, high, 0, -1 if low else 1] + ([2**53 + 1] if high > 2**53 else [])
    return st.integers(low, high) | st.sampled_from(extremes)


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind in _RANGES:
        return _integers(kind)
    if kind == F.TYPE_FLOAT:
        return st.floats(width=32) | st.sampled_from([-0.0, 1e-45, 3.4028234663852886e38, math.inf, math.nan])
    if kind == F.TYPE_DOUBLE:
        return st.floats() | st.sampled_from([-0.0, 5e-324, 1.7976931348623157e308, -math.inf, 2.0**63])
    if kind == F.TYPE_BOOL:
        return st.booleans()
    if kind == F.TYPE_STRING:
        return st.text(max_size=6)
    if kind == F.TYPE_BYTES:
        return st.binary(max_size=7)
    numbers = [v.number for v in field.enum_type.values]
    return st.sampled_from(numbers) | st.sampled_from([5, -7, 2**31 - 1])  # unknown numbers too


_TIMESTAMPS = st.builds(
    lambda s, n: {"seconds": s, "nanos": n},
    st.integers(-62135596800, 253402300799) | st.sampled_from([-62135596801, 253402300800]),
    st.sampled_from([0, 1, 1000, 1000000, 999999999]) | st.integers(0, 999999999),
)
_DURATIONS = st.integers(-315576000000, 315576000000).flatmap(
    lambda s: st.builds(
        lambda n: {"seconds": s, "nanos": n},
        st.integers(-999999999 if s <= 0 else 0, 999999999 if s >= 0 else 0),
    )
)
_PATHS = st.lists(st.from_regex(r"[a-z]{1,3}(_[a-z0-9]{1,2})?(\.[a-z]{1,3})?", fullmatch=True), max_size=3)
_JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=6,
)


def _value(data: Any) -> struct_pb2.Value:
    value = struct_pb2.Value()
    json_format.ParseDict(data, value)
    return value


@st.composite
def _any(draw: st.DrawFn) -> any_pb2.Any:
    packed = any_pb2.Any()
    inner = draw(st.sampled_from(["leaf", "timestamp", "value", "unknown"]))
    if inner == "leaf":
        packed.Pack(draw(messages(Leaf.DESCRIPTOR, 0)))
    elif inner == "timestamp":
        packed.Pack(draw(messages(POOL.FindMessageTypeByName("google.protobuf.Timestamp"), 0)))
    elif inner == "value":
        packed.Pack(_value(draw(_JSON)))
    else:
        packed.type_url = "type.googleapis.com/rosetta.Unknown"
    return packed


def _well_known(descriptor: Descriptor) -> st.SearchStrategy[Any] | None:
    """Field values (as kwargs) for a well-known type, or None when it is an ordinary message."""
    name = descriptor.full_name
    if name == "google.protobuf.Timestamp":
        return _TIMESTAMPS
    if name == "google.protobuf.Duration":
        return _DURATIONS
    if name == "google.protobuf.FieldMask":
        return _PATHS.map(lambda paths: {"paths": paths})
    if name in ("google.protobuf.Struct", "google.protobuf.ListValue", "google.protobuf.Value"):
        shape = {"Struct": st.dictionaries(st.text(max_size=3), _JSON, max_size=3), "ListValue": st.lists(_JSON, max_size=3)}
        return shape.get(descriptor.name, _JSON).map(lambda data: ("json", data))
    if name == "google.protobuf.Any":
        return _any().map(lambda packed: ("message", packed))
    if name.startswith("google.protobuf.") and "value" in descriptor.fields_by_name:
        return _scalar(descriptor.fields_by_name["value"]).map(lambda v: {"value": v})
    if name == "google.protobuf.Empty":
        return st.just({})
    return None


@st.composite
def messages(draw: st.DrawFn, descriptor: Descriptor, depth: int = 2) -> Message:
    """A random message of ``descriptor``'s type: any subset of its fields, any values."""
    built = _class(descriptor.full_name)()
    known = _well_known(descriptor)
    if known is not None:
        return _fill_well_known(built, draw(known))
    fields = [f for f in descriptor.fields if depth or f.message_type is None or f.message_type.name != descriptor.name]
    for field in draw(st.lists(st.sampled_from(fields), unique=True, max_size=6)):
        _set(draw, built, field, depth)
    return built


def _fill_well_known(built: Message, value: Any) -> Message:
    if isinstance(value, tuple) and value[0] == "json":
        json_format.ParseDict(value[1], built)
    elif isinstance(value, tuple):
        built.MergeFromString(value[1].SerializeToString())  # google.protobuf's Any into the pool's
    else:
        for name, item in value.items():
            if name == "paths":
                built.paths.extend(item)  # type: ignore[attr-defined]
            else:
                setattr(built, name, item)
    return built


def _one(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.message_type is not None:
        return messages(field.message_type, depth - 1 if depth else 0)
    return _scalar(field)


def _set(draw: st.DrawFn, built: Message, field: FieldDescriptor, depth: int) -> None:
    target = getattr(built, field.name)
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
        for k in draw(st.lists(_scalar(key), max_size=3, unique=True)):
            item = draw(_one(value, depth))
            if value.message_type is not None:
                target[k].CopyFrom(item)
            else:
                target[k] = item
    elif field.is_repeated:
        items = draw(st.lists(_one(field, depth), max_size=3))
        if field.message_type is not None:
            for item in items:
                target.add().CopyFrom(item)
        else:
            target.extend(items)
    elif field.message_type is not None:
        target.CopyFrom(draw(_one(field, depth)))
        target.SetInParent()
    else:
        setattr(built, field.name, draw(_one(field, depth)))


def _outcome(function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the failure itself is compared
        return type(exc)


def _same(a: Any, b: Any) -> bool:
    """Equal JSON data, types included (1 is not 1.0), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return bool(a == b)


# -- encoding ----------------------------------------------------------------------------


def _expected_json(built: Message, emit: bool, proto_names: bool) -> Any:
    return json_format.MessageToDict(
        built, always_print_fields_with_no_presence=emit, preserving_proto_field_name=proto_names, descriptor_pool=POOL
    )


def _assert_encodes_like_json_format(built: Message, emit: bool, proto_names: bool) -> None:
    expected = _outcome(_expected_json, built, emit, proto_names)
    codec = Codec(JsonOptions(preserve_proto_field_names=proto_names, emit_unpopulated=emit, pool=POOL))
    got = _outcome(codec.encode, built)
    if isinstance(expected, type):  # json_format finds no JSON form: for Rosetta, the upstream's fault
        assert got is BadGateway, f"{built!r}: Rosetta {got!r}, json_format raised {expected!r}"
        return
    assert _same(got, expected), f"{built!r}: Rosetta {got!r}, json_format {expected!r}"


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.DESCRIPTOR.name)
def test_rosetta_encodes_random_messages_exactly_as_json_format(cls):
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(messages(cls.DESCRIPTOR), st.booleans(), st.booleans())
    def check(built, emit, proto_names):
        _assert_encodes_like_json_format(built, emit, proto_names)

    check()


# -- decoding ----------------------------------------------------------------------------

_NEAR_MISSES = [
    None, [], {}, "text", True, False, 0, -0.0, 1.5, 1e3, "1e3", "1.0", "-0", "0x10", " 1", "1_0", "",
    2**63, 2**64, -(2**63) - 1, 2**31, -(2**31) - 1, 3.5e38, "NaN", "Infinity", "-Infinity", "nan",
    "2024-01-01T00:00:00Z", "1.5s", "a,b.c", "AQI=", "AQI", "-_8=", "+/8", "a b", "@@", "DARK", "LIGHT", "dark",
    1, -1, 2, 5, "5", "true", {"@type": "type.googleapis.com/google.protobuf.Empty"}, [None], [1, "x"], {"x": None},
]


def _other_spelling(key: str) -> str:
    if "_" in key:
        head, *rest = key.split("_")
        return head + "".join(part[:1].upper() + part[1:] for part in rest)
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def _spellings(value: Any) -> list[Any]:
    """Near-misses derived from a valid value: numbers as text and text as numbers, base64 variants."""
    if isinstance(value, bool):
        return [str(value).lower(), int(value)]
    if isinstance(value, int):
        return [str(value), float(value), f"{value}e0", f"{value}.0", value + 0.5]
    if isinstance(value, float):
        return [str(value), repr(value), int(value) if math.isfinite(value) else value]
    if isinstance(value, str):
        variants: list[Any] = [value.rstrip("="), value.replace("+", "-").replace("/", "_"), value + "="]
        with contextlib.suppress(ValueError):
            variants.append(json.loads(value))
        return variants
    return []


@st.composite
def _mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """``value`` with near-misses put in at random places, at any depth."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(_NEAR_MISSES + _spellings(value)))
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            choice = draw(st.integers(0, 12))
            if choice == 0:
                continue
            if choice == 1:
                key = _other_spelling(key)
            elif choice == 2:
                out[_other_spelling(key)] = item
            out[key] = draw(_mutated(item, depth + 1))
        if draw(st.integers(0, 9)) == 0:
            out[draw(st.sampled_from(["unknownKey", "@type", "1", "", 'a"b', "a\nb"]))] = draw(st.sampled_from(_NEAR_MISSES))
        return out
    if isinstance(value, list):
        return [draw(_mutated(item, depth + 1)) for item in value]
    return value


@st.composite
def requests(draw: st.DrawFn, cls: Any) -> dict[str, Any]:
    """Valid JSON for ``cls`` (either spelling), then near-misses; passed through orjson as a body is."""
    built = draw(messages(cls.DESCRIPTOR))
    valid = _outcome(json_format.MessageToDict, built, preserving_proto_field_name=draw(st.booleans()), descriptor_pool=POOL)
    if not isinstance(valid, dict):
        valid = {}
    data = draw(_mutated(valid))
    if not isinstance(data, dict):  # a body that is not an object is a request-level 400 (test_codec)
        data = valid
    try:
        return loads(json.dumps(data).encode())
    except MalformedBody:  # NaN and friends are not JSON: no caller can send them
        return valid


def _message_field(field: FieldDescriptor) -> bool:
    return field.message_type is not None and not field.message_type.full_name.startswith("google.protobuf.")


_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")


def _refused_base64(value: Any) -> bool:
    return not isinstance(value, str) or not set(value.rstrip("=")) <= _ALPHABET or len(value) - len(value.rstrip("=")) > 2


def _refused_well_known(value: Any, descriptor: Descriptor) -> bool:
    """Bytes in a BytesValue, Empty's object and an Any's message follow the rules of their kind."""
    name = descriptor.full_name
    if name == "google.protobuf.BytesValue":
        return _refused_base64(value)
    if name == "google.protobuf.Empty":
        return not isinstance(value, dict)
    if name == "google.protobuf.Any" and isinstance(value, dict) and isinstance(value.get("@type"), str):
        try:
            packed = POOL.FindMessageTypeByName(value["@type"].rpartition("/")[2])
        except KeyError:
            return False
        rest = {k: v for k, v in value.items() if k != "@type"}
        return not packed.full_name.startswith("google.protobuf.") and _documented_refusal(rest, packed)
    return False


def _documented_refusal(data: Any, descriptor: Descriptor) -> bool:
    """True when ``data`` holds something docs/grpc.md says Rosetta refuses though json_format may not."""
    if not isinstance(data, dict):
        return False
    for key, value in data.items():
        field = descriptor.fields_by_name.get(key) or next((f for f in descriptor.fields if f.json_name == key), None)
        if field is None or value is None:
            continue
        if field.name != field.json_name and field.name in data and field.json_name in data:
            return True
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            items = list(value.values()) if isinstance(value, dict) else []
            field = entry.fields_by_name["value"]
        elif field.is_repeated:
            items = value if isinstance(value, list) else []
        else:
            items = [value]
        if any(item is not None and _refused_value(item, field) for item in items):
            return True
    return False


def _refused_value(value: Any, field: FieldDescriptor) -> bool:
    if _message_field(field):
        return not isinstance(value, dict) or _documented_refusal(value, field.message_type)
    if field.message_type is not None:
        return _refused_well_known(value, field.message_type)
    if field.type == F.TYPE_BYTES:
        return _refused_base64(value)
    return field.enum_type is not None and isinstance(value, bool)


_RAW = ("Failed to parse", "Available Fields", "argument must be", "invalid literal", "object has no attribute")


def _wire(message: Message) -> bytes:
    return message.SerializeToString(deterministic=True)


def _assert_decodes_like_json_format(data: dict[str, Any], cls: Any, ignore_unknown: bool) -> None:
    expected = _outcome(json_format.ParseDict, data, cls(), ignore_unknown_fields=ignore_unknown, descriptor_pool=POOL)
    codec = Codec(JsonOptions(ignore_unknown_fields=ignore_unknown, pool=POOL))
    try:
        got = codec.decode(data, cls)
    except InvalidArguments as exc:
        field = exc.extra["errors"][0]["field"]
        assert field.split(".")[0].split("[")[0] in data, f"{data!r}: the 400 names {field!r}"
        assert not any(raw in exc.detail for raw in _RAW), f"{data!r}: json_format's own words in {exc.detail!r}"
        assert isinstance(expected, type) or _documented_refusal(data, cls.DESCRIPTOR), (
            f"{data!r}: Rosetta refused ({exc}), json_format accepted {expected!r}"
        )
        return
    assert not isinstance(expected, type), f"{data!r}: Rosetta accepted {got!r}, json_format refused ({expected.__name__})"
    assert not _documented_refusal(data, cls.DESCRIPTOR), f"{data!r}: Rosetta accepted what its docs say it refuses"
    assert _wire(got) == _wire(expected), f"{data!r}: Rosetta {got!r}, json_format {expected!r}"


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.DESCRIPTOR.name)
def test_rosetta_decodes_random_json_exactly_as_json_format_or_documents_why_not(cls):
    @settings(max_examples=EXAMPLES * 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(requests(cls), st.booleans())
    def check(data, ignore_unknown):
        _assert_decodes_like_json_format(data, cls, ignore_unknown)

    check()


# -- what the property tests found, kept as examples ---------------------------------------

_ANY = "type.googleapis.com/"
CODEC = Codec(JsonOptions(pool=POOL))


def _refusal(data: dict[str, Any], cls: Any) -> dict[str, str]:
    with pytest.raises(InvalidArguments) as caught:
        CODEC.decode(data, cls)
    return caught.value.extra["errors"][0]


def _too_early(cls: Any, name: str) -> Message:
    built = cls()
    target = getattr(built, name)
    stamp = target.add() if name == "r_time" else target["k"] if name == "v_time" else target
    stamp.seconds = -62135596801  # before 0001-01-01: no RFC 3339 text
    return built


@pytest.mark.parametrize(("cls", "name"), [(Scalars, "p_time"), (Repeats, "r_time"), (Maps, "v_time")])
def test_a_well_known_value_json_cannot_express_is_a_502_for_the_whole_message(cls, name):
    for emit in (False, True):
        _assert_encodes_like_json_format(_too_early(cls, name), emit, proto_names=False)


@pytest.mark.parametrize(
    ("data", "cls", "field", "message"),
    [
        ({"p_leaf": {"count": []}}, Scalars, "p_leaf.count", "expected an integer (int64)"),
        ({"child": {"pLeaf": {"count": "x"}}}, Scalars, "child.pLeaf.count", "expected an integer (int64)"),
        ({"wAny": {"@type": f"{_ANY}{PACKAGE}.Scalars", "pLeaf": {"count": "x"}}}, Known, "wAny.pLeaf.count", "expected an integer (int64)"),
        ({"w_any": {"@type": f"{_ANY}{PACKAGE}.Leaf", "count": []}}, Known, "w_any.count", "expected an integer (int64)"),
        ({"w_time": 5}, Known, "w_time", 'expected an RFC 3339 timestamp string, e.g. "2024-01-31T12:00:00Z"'),
        ({"w_bytes": True}, Known, "w_bytes", "expected a base64 string"),
    ],
)
def test_a_400_names_the_field_through_oneofs_and_anys_in_rosettas_words(data, cls, field, message):
    assert _refusal(data, cls) == {"field": field, "message": message}
    _assert_decodes_like_json_format(data, cls, ignore_unknown=False)


@pytest.mark.parametrize(
    ("data", "field"),
    [({"": 1}, ""), ({"p_leaf": {'a"b': 1}}, 'p_leaf.a"b'), ({"child": {"a\nb": None}}, "child.a\nb")],
)
def test_an_unknown_key_is_named_whatever_characters_it_holds(data, field):
    assert _refusal(data, Scalars) == {"field": field, "message": "unknown field"}


@pytest.mark.parametrize(
    ("data", "cls", "field"),
    [
        ({"r_value": None}, Repeats, "r_value"),
        ({"w_any": {"@type": None}}, Known, "w_any"),
        ({"w_any": {"@type": 5}}, Known, "w_any"),
        ({"w_any": {"@type": f"{_ANY}google.protobuf.Timestamp"}}, Known, "w_any"),
    ],
)
def test_input_json_format_fails_on_with_pythons_own_exception_is_a_400_naming_the_field(data, cls, field):
    with pytest.raises(Exception) as raised:  # noqa: PT011 - json_format's slip is not one type
        json_format.ParseDict(data, cls(), descriptor_pool=POOL)
    assert not isinstance(raised.value, json_format.ParseError)
    assert _refusal(data, cls)["field"] == field


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"w_bytes": "QU!J"}, "w_bytes"),  # json_format drops the "!" and reads b"AB"
        ({"w_empty": []}, "w_empty"),
        ({"w_any": {"@type": f"{_ANY}{PACKAGE}.Leaf", "shade": True}}, "w_any.shade"),
        ({"w_any": {"@type": f"{_ANY}{PACKAGE}.Scalars", "fLeaf": []}}, "w_any.fLeaf"),
        ({"w_any": {"@type": f"{_ANY}{PACKAGE}.Scalars", "f_bytes": "QU!J"}}, "w_any.f_bytes"),
    ],
)
def test_inside_well_known_types_rosetta_refuses_what_it_refuses_elsewhere(data, field):
    json_format.ParseDict(data, Known(), descriptor_pool=POOL)  # which json_format takes
    assert _refusal(data, Known)["field"] == field


def test_an_any_of_an_ordinary_message_is_read_on_the_fast_path_as_json_format_reads_it():
    data = {"w_any": {"@type": f"{_ANY}{PACKAGE}.Scalars", "fLeaf": {"note": "x", "shade": "DARK"}, "f_int64": "7"}}
    fast = Known()
    Decoders(POOL).decode_into(data, fast)  # no Fallback
    assert _wire(fast) == _wire(json_format.ParseDict(data, Known(), descriptor_pool=POOL))

