"""google.api.http rules (pure): bindings read from a rule, requests assembled the grpc-gateway way."""

from __future__ import annotations

import pytest
from google.api import http_pb2

from gateway.errors import InvalidArguments
from tests.translators.grpc.servers import message, services
from translators.grpc.httprule import Binding, assemble, bindings, pick_response

EVERYTHING = message("Everything").DESCRIPTOR


def test_a_rule_and_its_additional_bindings_are_numbered_in_order():
    rule = http_pb2.HttpRule(
        get="/v1/{name=shelves/*}",
        additional_bindings=[
            http_pb2.HttpRule(post="/v1/shelves", body="shelf", response_body="name"),
            http_pb2.HttpRule(custom=http_pb2.CustomHttpPattern(kind="head", path="/v1/x")),
        ],
    )
    assert bindings(rule) == [
        Binding("GET", "/v1/{name=shelves/*}", "", "", 0),
        Binding("POST", "/v1/shelves", "shelf", "name", 1),
        Binding("HEAD", "/v1/x", "", "", 2),
    ]


def test_no_rule_has_no_bindings():
    assert bindings(None) == [] and bindings(http_pb2.HttpRule()) == []


def test_the_testing_proto_has_the_bindings_it_declares():
    echo = services().method("rosetta.testing.v1.TestService/Echo")
    assert [b.method for b in bindings(echo.http)] == ["POST", "GET", "GET", "PUT", "POST", "PATCH", "HEAD", "DELETE", "POST"]


def run(body_field="", path=None, query=None, body=None, **kw):
    return assemble(EVERYTHING, body_field, path or {}, query or {}, body, ignore_unknown=kw.pop("ignore_unknown", False), **kw)


def test_body_star_is_the_whole_message_and_path_variables_win():
    assert run("*", {"name": "p"}, body={"name": "b", "tags": ["t"]}) == {"name": "p", "tags": ["t"]}


def test_a_body_field_gets_the_body_and_the_query_fills_the_rest():
    data = run("nested", {"name": "n"}, {"int32Value": ["3"], "tags": ["a", "b"]}, {"note": "x"})
    assert data == {"nested": {"note": "x"}, "int32Value": "3", "tags": ["a", "b"], "name": "n"}


def test_nested_query_parameters_build_nested_objects():
    assert run(query={"child.nested.note": ["deep"], "nested.level": ["2"]}) == {
        "child": {"nested": {"note": "deep"}},
        "nested": {"level": "2"},
    }


def test_a_parameter_overrides_the_body_key_the_caller_spelled_in_proto_style():
    assert run("*", {"int32_value": "4"}, body={"int32_value": 1}) == {"int32_value": "4"}


def test_without_a_body_the_body_is_ignored():
    assert run("", body={"name": "ignored"}) == {}


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"query": {"zzz": ["1"]}}, "zzz"),
        ({"query": {"tags.x": ["1"]}}, "tags.x"),
        ({"query": {"name": ["a", "b"]}}, "name"),
        ({"path": {"nope": "1"}}, "nope"),
        ({"body_field": "*", "query": {"name": ["x"]}}, "name"),
        ({"body_field": "*", "body": [1]}, ""),
    ],
)
def test_bad_parameters_are_a_400_naming_them(kw, field):
    with pytest.raises(InvalidArguments) as caught:
        run(**kw)
    assert caught.value.extra["errors"][0]["field"] == field


def test_unknown_query_parameters_can_be_ignored():
    assert run(query={"zzz": ["1"], "name": ["a"]}, ignore_unknown=True) == {"name": "a"}


def test_the_default_route_takes_query_parameters_with_a_whole_body():
    assert run("*", query={"name": ["q"]}, body={"name": "b"}, query_with_body=True) == {"name": "q"}


def test_response_body_picks_a_field_or_its_empty_value():
    assert pick_response(EVERYTHING, {"nested": {"note": "a"}}, "nested", False) == {"note": "a"}
    assert pick_response(EVERYTHING, {}, "nested", False) == {}
    assert pick_response(EVERYTHING, {"int32_value": 3}, "int32_value", True) == 3
    assert pick_response(EVERYTHING, {"a": 1}, "", False) == {"a": 1}
