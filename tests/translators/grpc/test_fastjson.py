"""The compiled JSON path agrees with json_format: same output, same messages, never more lenient."""

from __future__ import annotations

import math

import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.translators.grpc.servers import message, services
from translators.grpc.fastjson import Decoders, Encoders, Fallback

Everything = message("Everything")
POOL = services().pool
KEYS = sorted({k for f in Everything.DESCRIPTOR.fields for k in (f.name, f.json_name)} | {"unknownKey"})

_int64 = st.integers(-(2**63), 2**63 - 1)
_text = st.text(max_size=8)
_timestamps = st.integers(0, 2**33).map(lambda s: {"seconds": s})


@st.composite
def messages(draw, depth=2):
    fields = {
        "name": _text, "int32_value": st.integers(-(2**31), 2**31 - 1), "int64_value": _int64,
        "uint64_value": st.integers(0, 2**64 - 1), "double_value": st.floats(allow_nan=True, allow_infinity=True),
        "float_value": st.floats(width=32, allow_nan=False, allow_infinity=False), "bool_value": st.booleans(),
        "bytes_value": st.binary(max_size=8), "color": st.sampled_from([0, 1, 2, 7]), "tags": st.lists(_text, max_size=3),
        "counts": st.dictionaries(_text, st.integers(-5, 5), max_size=2), "numbers": st.lists(_int64, max_size=3),
        "when": _timestamps, "nickname": _text, "text": _text, "number": st.integers(-5, 5),
        "nested": st.fixed_dictionaries({"note": _text, "level": st.integers(-5, 5)}),
        "maybe_count": _int64.map(lambda v: {"value": v}),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=8))
    built = Everything()
    for name in chosen:
        value = draw(fields[name])
        if name in ("tags", "numbers"):
            getattr(built, name).extend(value)
        elif name == "counts":
            built.counts.update(value)
        elif name in ("when", "nested", "maybe_count"):
            getattr(built, name).CopyFrom(type(getattr(built, name))(**value))
        else:
            setattr(built, name, value)
    if depth and draw(st.booleans()):
        built.child.CopyFrom(draw(messages(depth=depth - 1)))
        built.items.append(draw(messages(depth=0)).nested)
    return built


@settings(max_examples=150, deadline=None)
@given(messages(), st.booleans(), st.booleans())
def test_encoding_matches_json_format(original, emit, proto_names):
    expected = json_format.MessageToDict(
        original, always_print_fields_with_no_presence=emit, preserving_proto_field_name=proto_names, descriptor_pool=POOL
    )
    try:
        got = Encoders(emit_unpopulated=emit, proto_names=proto_names, pool=POOL).encode(original)
    except Fallback:
        return
    assert _same(got, expected)


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    return a == b and type(a) is type(b)


_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**65), 2**65) | st.floats() | st.text(max_size=6)
    | st.sampled_from(["RED", "BLUE", "12", "-3", "1e3", "2024-01-01T00:00:00Z", "1.5s", "AQI="]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), _values, max_size=5))
def test_decoding_never_accepts_what_json_format_refuses_and_agrees_otherwise(data):
    try:
        expected = json_format.ParseDict(data, Everything(), descriptor_pool=POOL)
    except (json_format.ParseError, ValueError, TypeError, AttributeError, KeyError):
        expected = None
    got = Everything()
    try:
        Decoders(POOL).decode_into(data, got)
    except Fallback:
        return
    assert expected is not None, f"fast path accepted what json_format refuses: {data!r}"
    assert got == expected


@pytest.mark.parametrize(
    "data",
    [
        {"name": "a", "int64Value": "12", "color": "GREEN", "nested": {"level": 3}, "items": [{"note": "x"}], "numbers": [1, "2"]},
        {"when": "2024-01-01T00:00:00Z", "maybeCount": "5", "extra": {"a": 1}},
    ],
)
def test_common_requests_take_the_fast_path(data):
    got = Everything()
    Decoders(POOL).decode_into(data, got)
    assert got == json_format.ParseDict(data, Everything(), descriptor_pool=POOL)


def test_a_message_with_a_well_known_field_encodes_on_the_fast_path():
    built = json_format.ParseDict({"name": "a", "when": "2024-01-01T00:00:00Z", "extra": {"k": [1]}}, Everything(), descriptor_pool=POOL)
    encoders = Encoders(emit_unpopulated=False, proto_names=False, pool=POOL)
    assert encoders.encode(built) == {"name": "a", "when": "2024-01-01T00:00:00Z", "extra": {"k": [1]}}
