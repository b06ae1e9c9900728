"""GrpcTranslator.handle against a real grpc.aio TestService: unary calls, HTTP rules, metadata."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway.errors import (
    GatewayError,
    GatewayTimeout,
    InvalidArguments,
    MalformedBody,
    ServiceUnavailable,
)
from gateway.plugin import NOTHING
from gateway.testing import free_port, make_call
from tests.translators.grpc.conftest import SERVICE, op


def body(data: object) -> bytes:
    return json.dumps(data).encode()


async def test_a_unary_call_answers_with_the_canonical_json_mapping(translator):
    call = make_call(op(translator, "Echo"), body=body({"name": "a", "int64Value": 7, "color": "RED", "nested": {"note": "n"}}))
    reply = await translator.handle(call)
    assert reply.status == 200
    assert reply.json["name"] == "a"
    assert reply.json["int64Value"] == "7"  # int64 as a string
    assert reply.json["color"] == "RED"
    assert reply.json["nested"] == {"note": "n", "level": 0}


async def test_both_proto_and_camel_case_names_are_accepted(translator):
    call = make_call(op(translator, "Echo"), body=body({"int32_value": 1, "doubleValue": 2.5}))
    reply = await translator.handle(call)
    assert (reply.json["int32Value"], reply.json["doubleValue"]) == (1, 2.5)


async def test_proto_field_names_are_kept_when_configured(make_translator):
    translator = await make_translator(preserve_proto_field_names=True)
    reply = await translator.handle(make_call(op(translator, "Echo"), body=body({"int32Value": 3})))
    assert reply.json["int32_value"] == 3 and "int32Value" not in reply.json


async def test_unpopulated_fields_are_left_out_when_configured(make_translator):
    translator = await make_translator(emit_unpopulated=False)
    reply = await translator.handle(make_call(op(translator, "Echo"), body=body({"name": "x"})))
    assert reply.json == {"name": "x"}


async def test_well_known_types_use_their_json_forms(translator):
    sent = {
        "when": "2024-01-31T12:00:00Z",
        "wait": "1.500s",
        "mask": "name,nested.note",
        "extra": {"a": [1, "b", None]},
        "maybeCount": "12",
        "maybeFlag": False,
        "detail": {"@type": "type.googleapis.com/rosetta.testing.v1.Nested", "note": "inside"},
    }
    reply = await translator.handle(make_call(op(translator, "Echo"), body=body(sent)))
    assert reply.json["when"] == "2024-01-31T12:00:00Z"
    assert reply.json["wait"] == "1.500s"
    assert reply.json["mask"] == "name,nested.note"
    assert reply.json["extra"] == {"a": [1, "b", None]}
    assert reply.json["maybeCount"] == "12" and reply.json["maybeFlag"] is False
    assert reply.json["detail"] == {"@type": "type.googleapis.com/rosetta.testing.v1.Nested", "note": "inside", "level": 0}


async def test_an_empty_body_is_an_empty_request(translator):
    reply = await translator.handle(make_call(op(translator, "Echo")))
    assert reply.json["name"] == ""


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"nmae": "x"}, "nmae"),
        ({"nested": {"nope": 1}}, "nested.nope"),
        ({"int32Value": "abc"}, "int32Value"),
        ({"int32Value": True}, "int32Value"),
        ({"name": 5}, "name"),
        ({"boolValue": "yes"}, "boolValue"),
        ({"tags": "one"}, "tags"),
        ({"child": {"tags": "one"}}, "child.tags"),
        ({"nested": [1]}, "nested"),
        ({"items": ["x"]}, "items[0]"),
        ({"int32Value": [1]}, "int32Value"),
        ({"items": [{"level": "high"}]}, "items.level"),
        ({"int64Value": "9223372036854775808"}, "int64Value"),
        ({"int64Value": 99999999999999999999999}, "int64Value"),
        ({"int32Value": 2147483648}, "int32Value"),
        ({"uint64Value": -1}, "uint64Value"),
        ({"color": "BLUE"}, "color"),
        ({"when": "yesterday"}, "when"),
        ({"text": "a", "number": 1}, "choice"),
    ],
)
async def test_bad_json_values_are_a_400_naming_the_field(translator, sent, field):
    with pytest.raises(InvalidArguments) as caught:
        await translator.handle(make_call(op(translator, "Echo"), body=body(sent)))
    assert caught.value.http_status == 400
    assert caught.value.extra["errors"][0]["field"] == field
    assert field in caught.value.detail


async def test_unknown_fields_can_be_ignored_when_configured(make_translator):
    translator = await make_translator(ignore_unknown_fields=True)
    reply = await translator.handle(make_call(op(translator, "Echo"), body=body({"nmae": "x", "name": "y"}), query="zzz=1"))
    assert reply.json["name"] == "y"


async def test_malformed_json_is_a_400(translator):
    with pytest.raises(MalformedBody):
        await translator.handle(make_call(op(translator, "Echo"), body=b'{"name": '))


async def test_a_body_that_is_not_an_object_is_a_400(translator):
    with pytest.raises(InvalidArguments):
        await translator.handle(make_call(op(translator, "Echo"), body=b"[1, 2]"))


@pytest.mark.parametrize("path", [None, "/v1/echo"])
async def test_a_null_body_is_a_400_not_an_empty_message(translator, path):
    with pytest.raises(InvalidArguments) as caught:
        await translator.handle(make_call(op(translator, "Echo", "POST", path), body=b" null "))
    assert "not null" in caught.value.detail


async def test_a_null_body_field_leaves_that_field_unset(translator):
    operation = op(translator, "Echo", "PUT", "/v1/books/{name=shelves/*/books/*}")
    reply = await translator.handle(make_call(operation, body=b"null", path_params={"name": "shelves/1/books/2"}))
    assert reply.json["name"] == "shelves/1/books/2" and "nested" not in reply.json


async def test_the_default_route_takes_query_parameters_over_the_body(translator):
    call = make_call(op(translator, "Echo"), body=body({"name": "body", "tags": ["b"]}), query="name=query&tags=x&tags=y&nested.level=4")
    reply = await translator.handle(call)
    assert reply.json["name"] == "query"
    assert reply.json["tags"] == ["x", "y"]
    assert reply.json["nested"]["level"] == 4


async def test_a_get_binding_fills_the_path_variable_and_the_rest_from_the_query(translator):
    operation = op(translator, "Echo", "GET", "/v1/echo/{name}")
    call = make_call(operation, path_params={"name": "ana"}, query="int64Value=5&boolValue=true&color=GREEN&when=2024-01-31T12:00:00Z&maybeCount=3")
    reply = await translator.handle(call)
    assert reply.json["name"] == "ana"
    assert reply.json["int64Value"] == "5" and reply.json["boolValue"] is True
    assert reply.json["color"] == "GREEN" and reply.json["when"] == "2024-01-31T12:00:00Z"
    assert reply.json["maybeCount"] == "3"


async def test_dotted_path_variables_set_nested_fields(translator):
    operation = op(translator, "Echo", "GET", "/v1/echo/{nested.note}/level/{nested.level}")
    reply = await translator.handle(make_call(operation, path_params={"nested.note": "hi", "nested.level": "3"}))
    assert reply.json["nested"] == {"note": "hi", "level": 3}


async def test_a_multi_segment_variable_and_a_body_field(translator):
    operation = op(translator, "Echo", "PUT", "/v1/books/{name=shelves/*/books/*}")
    assert operation.extra == {"body": "nested", "response_body": "", "binding": 3}
    call = make_call(operation, path_params={"name": "shelves/1/books/2"}, body=body({"note": "in body", "level": 1}), query="tags=q")
    reply = await translator.handle(call)
    assert reply.json["name"] == "shelves/1/books/2"
    assert reply.json["nested"] == {"note": "in body", "level": 1}
    assert reply.json["tags"] == ["q"]


@pytest.mark.parametrize("sent", [b"[]", b'"text"', b"7"])
async def test_a_body_field_of_a_message_type_takes_only_an_object(translator, sent):
    operation = op(translator, "Echo", "PUT", "/v1/books/{name=shelves/*/books/*}")
    with pytest.raises(InvalidArguments) as caught:
        await translator.handle(make_call(operation, path_params={"name": "shelves/1/books/2"}, body=sent))
    assert caught.value.extra["errors"][0]["field"] == "nested"
    assert caught.value.extra["errors"][0]["message"].startswith("expected an object, not ")


async def test_a_dotted_body_field_fills_the_nested_field(translator):
    operation = op(translator, "Echo", "POST", "/v1/echo/{name}/child-nested")
    call = make_call(operation, path_params={"name": "n"}, body=body({"note": "deep", "level": 2}), query="child.name=c")
    reply = await translator.handle(call)
    assert reply.json["name"] == "n"
    assert reply.json["child"]["name"] == "c"
    assert reply.json["child"]["nested"] == {"note": "deep", "level": 2}


@pytest.mark.parametrize("sent", [b"", b"  ", b"{}", b" { } "])
async def test_a_binding_without_body_takes_an_empty_one(translator, sent):
    operation = op(translator, "Echo", "DELETE", "/v1/echo-delete/{name}")
    reply = await translator.handle(make_call(operation, path_params={"name": "x"}, body=sent, query="tags=q"))
    assert reply.json["name"] == "x" and reply.json["tags"] == ["q"]


@pytest.mark.parametrize("sent", [b'{"tags": ["a"]}', b"[]", b'"x"'])
async def test_a_binding_without_body_refuses_one_with_content(translator, sent):
    """grpc-gateway drops such a body unread; Rosetta says so instead of losing what was sent."""
    operation = op(translator, "Echo", "DELETE", "/v1/echo-delete/{name}")
    with pytest.raises(InvalidArguments) as caught:
        await translator.handle(make_call(operation, path_params={"name": "x"}, body=sent))
    assert "takes no request body" in caught.value.detail


async def test_a_body_field_of_a_repeated_type_takes_an_array(translator):
    operation = op(translator, "Echo", "PATCH", "/v1/numbers/{int64_value}")
    reply = await translator.handle(make_call(operation, path_params={"int64_value": "9"}, body=b'["a", "b"]'))
    assert reply.json["int64Value"] == "9" and reply.json["tags"] == ["a", "b"]


async def test_response_body_selects_one_field_of_the_response(translator):
    operation = op(translator, "Echo", "POST", "/v1/echo/{name}:shout")
    reply = await translator.handle(make_call(operation, path_params={"name": "x"}, body=body({"nested": {"note": "only"}})))
    assert reply.json == {"note": "only", "level": 0}


async def test_the_path_variable_wins_over_the_body(translator):
    operation = op(translator, "Echo", "POST", "/v1/echo/{name}:shout")
    call = make_call(operation, path_params={"name": "path"}, body=body({"name": "body"}))
    reply = await translator.handle(call)
    assert reply.json == {}  # response_body: nested (unset)
    operation = op(translator, "Echo", "GET", "/v1/echo/{name}")
    reply = await translator.handle(make_call(operation, path_params={"name": "path"}, query="name=query"))
    assert reply.json["name"] == "path"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("nope=1", "nope"),
        ("nested.nope=1", "nested.nope"),
        ("int32Value=abc", "int32Value"),
        ("boolValue=maybe", "boolValue"),
        ("color=BLUE", "color"),
        ("int64Value=1&int64Value=2", "int64Value"),
        ("nested=1", "nested"),
        ("counts=1", "counts"),
    ],
)
async def test_bad_query_parameters_are_a_400_naming_them(translator, query, field):
    operation = op(translator, "Echo", "GET", "/v1/echo/{name}")
    with pytest.raises(InvalidArguments) as caught:
        await translator.handle(make_call(operation, path_params={"name": "a"}, query=query))
    assert caught.value.extra["errors"][0]["field"] == field


async def test_a_bad_path_variable_is_a_400_naming_it(translator):
    operation = op(translator, "Echo", "GET", "/v1/echo/{nested.note}/level/{nested.level}")
    with pytest.raises(InvalidArguments) as caught:
        await translator.handle(make_call(operation, path_params={"nested.note": "a", "nested.level": "high"}))
    assert caught.value.extra["errors"][0]["field"] == "nested.level"


async def test_a_body_star_binding_refuses_query_parameters(translator):
    operation = op(translator, "Echo", "POST", "/v1/echo")
    with pytest.raises(InvalidArguments) as caught:
        await translator.handle(make_call(operation, body=body({"name": "a"}), query="tags=x"))
    assert caught.value.extra["errors"][0]["field"] == "tags"


async def test_the_request_id_and_configured_metadata_reach_the_server(make_translator, server):
    translator = await make_translator(metadata={"x-api-key": "k1"}, forward_headers=["accept-language"])
    call = make_call(op(translator, "Metadata"), headers=[("Accept-Language", "pt-BR"), ("X-Other", "no")], request_id="rid-42")
    reply = await translator.handle(call)
    seen = reply.json["metadata"]
    assert seen["x-request-id"] == "rid-42"
    assert seen["x-api-key"] == "k1"
    assert seen["accept-language"] == "pt-BR"
    assert "x-other" not in seen


async def test_configured_response_metadata_and_trailers_come_back_as_headers(make_translator):
    translator = await make_translator(response_metadata=["x-served-by", "x-trailer"])
    reply = await translator.handle(make_call(op(translator, "Metadata")))
    assert ("x-served-by", "test-server") in reply.headers
    assert ("x-trailer", "done") in reply.headers
    assert all(name != "x-ignored" for name, _ in reply.headers)


async def test_a_call_past_its_deadline_is_a_504(translator):
    loop = asyncio.get_running_loop()
    call = make_call(op(translator, "Sleep"), body=body({"seconds": 2}), deadline=loop.time() + 0.2)
    with pytest.raises(GatewayTimeout) as caught:
        await translator.handle(call)
    assert caught.value.http_status == 504
    assert caught.value.extra["grpc_status"] == "DEADLINE_EXCEEDED"


async def test_the_upstream_timeout_setting_is_the_deadline(make_translator):
    translator = await make_translator(timeout=0.2)
    with pytest.raises(GatewayTimeout):
        await translator.handle(make_call(op(translator, "Sleep"), body=body({"seconds": 2})))


async def test_a_call_with_no_time_left_is_a_504_without_calling(translator):
    call = make_call(op(translator, "Echo"), deadline=asyncio.get_running_loop().time() - 1)
    with pytest.raises(GatewayTimeout):
        await translator.handle(call)


async def test_a_server_that_is_down_is_a_503(make_translator):
    translator = await make_translator(target=f"127.0.0.1:{free_port()}")
    with pytest.raises(ServiceUnavailable) as caught:
        await translator.handle(make_call(op(translator, "Echo"), body=b"{}"))
    assert caught.value.http_status == 503
    assert caught.value.extra["grpc_status"] == "UNAVAILABLE"


async def test_readiness_uses_the_health_service(translator, server):
    assert await translator.ready() is True
    await server.health.set("", 2)  # NOT_SERVING
    try:
        assert await translator.ready() is False
    finally:
        await server.health.set("", 1)


async def test_readiness_is_false_when_the_server_is_down(make_translator):
    translator = await make_translator(target=f"127.0.0.1:{free_port()}", timeout=0.5)
    assert await translator.ready() is False


async def test_an_unknown_operation_is_a_404(translator):
    operation = op(translator, "Echo")
    from dataclasses import replace

    with pytest.raises(GatewayError) as caught:
        await translator.handle(make_call(replace(operation, name=f"{SERVICE}/Nope")))
    assert caught.value.http_status == 404


async def test_every_method_and_binding_is_an_operation(translator):
    ops = [(o.name.rsplit("/", 1)[1], o.method, o.path) for o in translator.operations()]
    assert ("Echo", "POST", f"/{SERVICE}/Echo") in ops
    assert ("Echo", "GET", "/v1/echo/{name}") in ops
    assert ("Echo", "HEAD", "/v1/echo-head/{name}") in ops
    assert ("Count", "GET", "/v1/count/{n}") in ops
    assert sum(1 for name, *_ in ops if name == "Echo") == 10
    assert translator.operation(f"{SERVICE}/Echo").method == "POST"
    count = translator.operation(f"{SERVICE}/Count")
    assert count.streaming == "server" and translator.operation(f"{SERVICE}/Chat").streaming == "bidi"


async def test_operations_publish_json_schemas(translator):
    echo = translator.operation(f"{SERVICE}/Echo")
    root = echo.request_schema["$defs"]["rosetta.testing.v1.Everything"]
    assert root["properties"]["int64Value"]["type"] == "string"
    assert root["properties"]["color"]["enum"] == ["COLOR_UNSPECIFIED", "RED", "GREEN"]
    shout = op(translator, "Echo", "POST", "/v1/echo/{name}:shout")
    assert shout.response_schema["$ref"] == "#/$defs/rosetta.testing.v1.Nested"


async def test_a_reply_holds_json_only(translator):
    reply = await translator.handle(make_call(op(translator, "Echo"), body=b"{}"))
    assert reply.json is not NOTHING and reply.body is None and reply.stream is None
