"""JSON <-> protobuf mapping (pure): canonical output, both spellings in, 400s that name the field."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import InvalidArguments, MalformedBody
from tests.translators.grpc.servers import message, services
from translators.grpc.codec import (
    Codec,
    JsonOptions,
    decode,
    encode,
    find_field,
    loads,
    param_value,
)
from translators.grpc.fielderrors import describe, explain

Everything = message("Everything")
OPTIONS = JsonOptions(pool=services().pool, emit_unpopulated=False)


def field(name: str):
    return Everything.DESCRIPTOR.fields_by_name[name]


def test_int64_is_written_as_a_string_and_read_from_either():
    assert encode(decode({"int64Value": 5}, Everything, OPTIONS), OPTIONS) == {"int64Value": "5"}
    assert decode({"int64_value": "-7"}, Everything, OPTIONS).int64_value == -7


def test_enums_are_written_by_name_and_read_by_name_or_number():
    assert encode(decode({"color": 2}, Everything, OPTIONS), OPTIONS) == {"color": "GREEN"}


def test_none_is_an_empty_message():
    assert decode(None, Everything, OPTIONS) == Everything()


def test_a_non_object_request_is_a_400():
    with pytest.raises(InvalidArguments):
        decode("text", Everything, OPTIONS)


def test_malformed_json_is_a_400():
    with pytest.raises(MalformedBody):
        loads(b"{")


def test_an_unknown_field_is_refused_unless_ignored():
    with pytest.raises(InvalidArguments) as caught:
        decode({"child": {"nope": 1}}, Everything, OPTIONS)
    assert caught.value.extra["errors"] == [{"field": "child.nope", "message": "unknown field"}]
    lenient = JsonOptions(ignore_unknown_fields=True)
    assert decode({"nope": 1, "name": "x"}, Everything, lenient).name == "x"


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        ({"nested": []}, "nested", "expected an object, not an array"),
        ({"nested": "text"}, "nested", "expected an object, not a string"),
        ({"nested": 5}, "nested", "expected an object, not a number"),
        ({"nested": True}, "nested", "expected an object, not a boolean"),
        ({"child": {"nested": []}}, "child.nested", "expected an object, not an array"),
        ({"items": [[]]}, "items[0]", "expected an object, not an array"),
        ({"child": {"items": [{}, "x"]}}, "child.items[1]", "expected an object, not a string"),
        ({"tags": "a"}, "tags", "expected an array (items: a string), not a string"),
        ({"child": {"tags": {"a": 1}}}, "child.tags", "expected an array (items: a string), not an object"),
        ({"counts": []}, "counts", "expected an object (values: an integer (int32)), not an array"),
        ({"counts": {"a": 1.5}}, "counts[a]", "expected an integer (int32)"),
        ({"detail": []}, "detail", 'expected an object with "@type"'),
        ({"bytesValue": "!!!"}, "bytesValue", "expected a base64 string"),
        ({"when": "2024-01-01"}, "when", 'expected an RFC 3339 timestamp string, e.g. "2024-01-31T12:00:00Z"'),
        ({"child": {"bytes_value": 5}}, "child.bytes_value", "expected a base64 string"),
        ({"color": True}, "color", "expected one of COLOR_UNSPECIFIED, RED, GREEN, not a boolean"),
        ({"int32_value": 1, "int32Value": 2}, "int32_value", "given more than once (as 'int32_value' and 'int32Value')"),
        ({"int64Value": [1]}, "int64Value", "expected an integer (int64)"),
        ({"child": {"int32_value": {"a": 1}}}, "child.int32_value", "expected an integer (int32)"),
    ],
)
def test_a_value_of_the_wrong_shape_is_a_400_naming_its_field(data, where, message):
    """json_format reads any iterable as a message ([] as empty, "text" as keys) and blames the
    parent of a repeated field: Rosetta names the field and what it takes."""
    with pytest.raises(InvalidArguments) as caught:
        decode(data, Everything, OPTIONS)
    assert caught.value.extra["errors"] == [{"field": where, "message": message}]


def test_null_still_leaves_a_message_field_unset():
    assert decode({"nested": None, "items": []}, Everything, OPTIONS) == Everything()


def test_both_spellings_of_one_field_are_refused_on_the_fast_path_too():
    with pytest.raises(InvalidArguments) as caught:
        Codec(OPTIONS).decode({"name": "x", "child": {"int64_value": 1, "int64Value": 2}}, Everything)
    assert caught.value.extra["errors"][0]["field"] == "child.int64_value"
    assert Codec(OPTIONS).decode({"int64Value": 2, "name": "x"}, Everything).int64_value == 2


@pytest.mark.parametrize("depth", [100, 1020])
def test_messages_nested_as_deep_as_json_formats_limit_are_a_400_on_either_path(depth):
    """1,020 levels parse as JSON (orjson stops at 1,024) and used to exhaust Python's stack: a 500."""
    data = orjson.loads(b'{"child":' * depth + b'{"name": "x"}' + b"}" * depth)
    for decoding in (lambda d: decode(d, Everything, OPTIONS), lambda d: Codec(OPTIONS).decode(d, Everything)):
        with pytest.raises(InvalidArguments) as caught:
            decoding(data)
        assert "nested 100 or more deep" in caught.value.detail
    deep = orjson.loads(b'{"child":' * 99 + b'{"name": "x"}' + b"}" * 99)
    assert Codec(OPTIONS).decode(deep, Everything).child.child.name == ""  # 99 levels still fit


def test_base64_is_read_padded_or_not_and_in_either_alphabet():
    assert decode({"bytesValue": "YWJj"}, Everything, OPTIONS).bytes_value == b"abc"
    assert decode({"bytesValue": "YWI"}, Everything, OPTIONS).bytes_value == b"ab"
    assert decode({"bytesValue": "_-8="}, Everything, OPTIONS).bytes_value == b"\xff\xef"


def test_explain_reads_json_format_wording_without_a_location():
    error = explain("Failed to parse items field: Failed to parse level field: invalid literal for int() with base 10: 'z'..", Everything.DESCRIPTOR)
    assert error.extra["errors"] == [{"field": "items.level", "message": "expected an integer (int32)"}]


def test_describe_says_what_a_field_takes():
    assert describe(field("tags")) == "an array (items: a string)"
    assert describe(field("counts")) == "an object (values: an integer (int32))"
    assert describe(field("when")).startswith("an RFC 3339 timestamp")
    assert describe(field("maybe_count")) == "an integer (int64) or null"
    assert describe(field("color")) == "one of COLOR_UNSPECIFIED, RED, GREEN"


def test_find_field_knows_both_spellings():
    assert find_field(Everything.DESCRIPTOR, "int32Value") is find_field(Everything.DESCRIPTOR, "int32_value")
    assert find_field(Everything.DESCRIPTOR, "nope") is None


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("bool_value", "true", True),
        ("bool_value", "0", False),
        ("int64_value", "12", "12"),
        ("when", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),
        ("maybe_flag", "false", False),
        ("color", "RED", "RED"),
    ],
)
def test_parameters_become_the_json_value_their_field_takes(name, raw, value):
    assert param_value(field(name), raw, name) == value


@pytest.mark.parametrize(("name", "raw"), [("bool_value", "yes"), ("nested", "x"), ("extra", "{}")])
def test_parameters_a_field_cannot_take_are_a_400(name, raw):
    with pytest.raises(InvalidArguments) as caught:
        param_value(field(name), raw, name)
    assert caught.value.extra["errors"][0]["field"] == name


_int64 = st.integers(-(2**63), 2**63 - 1)
_text = st.text(max_size=20)
_messages = st.builds(
    lambda name, i64, u64, flag, tags, color, note, counts: Everything(
        name=name, int64_value=i64, uint64_value=u64, bool_value=flag, tags=tags, color=color,
        nested={"note": note}, counts=counts,
    ),
    _text, _int64, st.integers(0, 2**64 - 1), st.booleans(), st.lists(_text, max_size=3),
    st.sampled_from([0, 1, 2]), _text, st.dictionaries(_text, st.integers(-(2**31), 2**31 - 1), max_size=3),
)


@settings(max_examples=60, deadline=None)
@given(_messages, st.booleans())
def test_encoding_then_decoding_gives_the_same_message(original, proto_names):
    options = JsonOptions(preserve_proto_field_names=proto_names)
    assert decode(encode(original, options), Everything, options) == original
