"""The route table: Google HTTP rule templates, literal-first matching, 404 and 405."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.config import RouteConfig
from gateway.errors import InvalidPath, MethodNotAllowed, NotFound
from gateway.plugin import Operation
from gateway.routing import (
    RouteTable,
    TemplateError,
    clean_path,
    compile_template,
    endpoints_for_route,
)


def table(*specs):
    endpoints = []
    for i, (template, method, name) in enumerate(specs):
        route = RouteConfig(path=template, upstream="u", methods=(method,) if method != "*" else None)
        endpoints += endpoints_for_route(i, route, [], Operation(name=name, method=method, path=template))
    return RouteTable.build(endpoints)


@pytest.mark.parametrize(
    ("template", "path", "params"),
    [
        ("/v1/refill/{rx}", "/v1/refill/RX-1", {"rx": "RX-1"}),
        ("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/books/2", {"name": "shelves/1/books/2"}),
        ("/v1/shelves/{shelf.id}", "/v1/shelves/7", {"shelf.id": "7"}),
        ("/files/{path=**}", "/files/a/b/c", {"path": "a/b/c"}),
        ("/files/{path=**}", "/files", {}),
        ("/v1/{name=*}:cancel", "/v1/op-1:cancel", {"name": "op-1"}),
        ("/v1/x/{uuid}:custom:custom", "/v1/x/u-1:custom:custom", {"uuid": "u-1"}),
        ("/v1/items:batchGet", "/v1/items:batchGet", {}),
        ("/v1/items/{id}", "/v1/items/a%20b", {"id": "a b"}),
    ],
)
def test_templates_match_and_capture(template, path, params):
    t = table((template, "GET", "op"))
    endpoint, got = t.match("GET", path)
    assert got == params


@pytest.mark.parametrize(("template", "path"), [("/v1/{name=shelves/*}", "/v1/shelves/1/x"), ("/a/{b}", "/a/b/c"), ("/v1/{n=*}:cancel", "/v1/x")])
def test_templates_do_not_overmatch(template, path):
    with pytest.raises(NotFound):
        table((template, "GET", "op")).match("GET", path)


@pytest.mark.parametrize("path", ["/v1/items/%ff", "/v1/items/caf%e9", "/v1/items/%c3"])
def test_a_path_variable_that_decodes_to_no_utf8_is_an_invalid_path(path):
    with pytest.raises(InvalidPath):
        table(("/v1/items/{id}", "GET", "op")).match("GET", path)


def test_literal_segments_win_over_variables():
    t = table(("/v1/{id}", "GET", "by-id"), ("/v1/special", "GET", "special"))
    assert t.match("GET", "/v1/special")[0].operation.name == "special"
    assert t.match("GET", "/v1/other")[0].operation.name == "by-id"


def test_a_known_path_with_the_wrong_method_is_a_405_listing_allowed_methods():
    t = table(("/v1/x", "POST", "create"), ("/v1/x", "PUT", "replace"))
    with pytest.raises(MethodNotAllowed) as caught:
        t.match("GET", "/v1/x")
    assert caught.value.headers["Allow"] == "POST, PUT"


def test_head_is_served_by_the_get_endpoint_unless_one_takes_head_itself():
    t = table(("/v1/x", "GET", "read"), ("/v1/y/{id}", "GET", "read-y"), ("/v1/y/{id}", "HEAD", "probe-y"))
    assert t.match("HEAD", "/v1/x")[0].operation.name == "read"
    assert t.match("HEAD", "/v1/y/1")[0].operation.name == "probe-y"


def test_a_405_lists_head_wherever_get_is_allowed():
    t = table(("/v1/x", "GET", "read"), ("/v1/x", "PUT", "replace"))
    with pytest.raises(MethodNotAllowed) as caught:
        t.match("POST", "/v1/x")
    assert caught.value.headers["Allow"] == "GET, HEAD, PUT"


def test_an_unknown_path_is_a_404():
    with pytest.raises(NotFound):
        table(("/v1/x", "GET", "x")).match("GET", "/v2/x")


@pytest.mark.parametrize("bad", ["no-slash", "/a/{b", "/a/{b=c/{d}}", "/a/{1bad}", "/a/b*c"])
def test_bad_templates_are_refused(bad):
    with pytest.raises(TemplateError):
        compile_template(bad)


def test_prefix_routes_expose_every_operation_under_the_prefix():
    route = RouteConfig(prefix="/soap", upstream="u")
    ops = [Operation(name="Add", path="/Add"), Operation(name="Sub", path="/Sub")]
    t = RouteTable.build(endpoints_for_route(0, route, ops, None))
    assert t.match("POST", "/soap/Sub")[0].operation.name == "Sub"
    assert [row[1] for row in t.describe()] == ["/soap/Add", "/soap/Sub"]


_SEGMENTS = st.sampled_from(["a", "b", "{x}", "*", "{y=a/*}"])
_TEMPLATES = st.builds(
    lambda segments, tail, verb: "/" + "/".join(segments + tail) + verb,
    st.lists(_SEGMENTS, max_size=3),
    st.sampled_from([[], ["**"]]),
    st.sampled_from(["", ":go"]),
)
_PATHS = st.builds(
    lambda parts, verb: "/" + "/".join(parts) + verb,
    st.lists(st.sampled_from(["a", "b", "c", "*", "{x}"]), max_size=4),
    st.sampled_from(["", ":go"]),
)


def _outcome(find, method, path):
    try:
        endpoint, params = find(method, path)
    except MethodNotAllowed as exc:
        return "405", exc.headers["Allow"]
    except NotFound:
        return "404", None
    return endpoint.operation.name, params


@settings(max_examples=300, deadline=None)
@given(
    specs=st.lists(st.tuples(_TEMPLATES, st.sampled_from(["GET", "POST", "*"])), min_size=1, max_size=6),
    method=st.sampled_from(["GET", "POST"]),
    path=_PATHS,
)
def test_the_literal_path_index_answers_as_the_full_scan_does(specs, method, path):
    t = table(*((template, m, f"op{i}") for i, (template, m) in enumerate(specs)))
    assert _outcome(t.match, method, path) == _outcome(t.scan, method, path)


@pytest.mark.parametrize(
    ("path", "cleaned"),
    [
        ("/v1/rx/prescriptions", "/v1/rx/prescriptions"),
        ("/g/rosetta.testing.v1.TestService/Echo", "/g/rosetta.testing.v1.TestService/Echo"),
        ("/v1/echo/shelf%2F9:shout", "/v1/echo/shelf%2F9:shout"),
        ("/a/./b", "/a/b"),
        ("/a/b/.", "/a/b/"),
        ("/a/b/..", "/a/"),
        ("/a/b/../c", "/a/c"),
        ("/a/%2E%2e/c", "/c"),
        ("/a/.%2e/c", "/c"),
        ("/a/%2e/c", "/a/c"),
        ("/a//../c", "/a/c"),
        ("/a/.b/..c/c.", "/a/.b/..c/c."),
        ("/a/%20/b", "/a/%20/b"),
        ("/..a", "/..a"),
        ("*", "*"),
        ("*%2e%2e", "*%2e%2e"),
    ],
)
def test_clean_path_resolves_plain_and_encoded_dot_segments(path, cleaned):
    assert clean_path(path) == cleaned


@pytest.mark.parametrize("path", ["/..", "/a/../..", "/%2e%2e/x", "/a/..;/b", "/a/.;x", "/a%2F..%2F..%2Fb", "/a/%2e%2e%2fb"])
def test_clean_path_refuses_climbing_above_the_root_and_hidden_dot_segments(path):
    with pytest.raises(InvalidPath):
        clean_path(path)
