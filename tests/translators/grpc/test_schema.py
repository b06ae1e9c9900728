"""JSON Schemas from message descriptors (pure), by the proto3 JSON mapping."""

from __future__ import annotations

from tests.translators.grpc.servers import message
from translators.grpc.schema import message_schema

EVERYTHING = message("Everything").DESCRIPTOR


def props(schema, name="rosetta.testing.v1.Everything"):
    return schema["$defs"][name]["properties"]


def test_a_message_is_a_ref_into_defs():
    schema = message_schema(EVERYTHING)
    assert schema["$ref"] == "#/$defs/rosetta.testing.v1.Everything"
    assert schema["$defs"]["rosetta.testing.v1.Everything"]["type"] == "object"


def test_scalars_follow_the_json_mapping():
    p = props(message_schema(EVERYTHING))
    assert p["int32Value"] == {"type": "integer", "format": "int32"}
    assert p["int64Value"]["type"] == "string" and p["uint64Value"]["format"] == "uint64"
    assert p["boolValue"] == {"type": "boolean"}
    assert p["bytesValue"]["contentEncoding"] == "base64"
    assert p["color"] == {"type": "string", "enum": ["COLOR_UNSPECIFIED", "RED", "GREEN"]}


def test_repeated_maps_and_well_known_types():
    p = props(message_schema(EVERYTHING))
    assert p["tags"] == {"type": "array", "items": {"type": "string"}}
    assert p["counts"] == {"type": "object", "additionalProperties": {"type": "integer", "format": "int32"}}
    assert p["when"] == {"type": "string", "format": "date-time"}
    assert p["maybeCount"]["anyOf"][1] == {"type": "null"}
    assert p["extra"] == {"type": "object"}


def test_recursive_messages_refer_to_their_own_definition():
    p = props(message_schema(EVERYTHING))
    assert p["child"] == {"$ref": "#/$defs/rosetta.testing.v1.Everything"}
    assert p["nested"] == {"$ref": "#/$defs/rosetta.testing.v1.Nested"}


def test_proto_names_can_be_kept():
    assert "int32_value" in props(message_schema(EVERYTHING, proto_names=True))


def test_oneofs_are_described():
    schema = message_schema(EVERYTHING)["$defs"]["rosetta.testing.v1.Everything"]
    assert "at most one of text, number" in schema["description"]
