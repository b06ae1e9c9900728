"""Codec errors → gateway problems: client XML is a 400, upstream XML a 502."""

from __future__ import annotations

import pytest

from gateway.errors import BadGateway, ClientError, problem_body
from translators.xmljson import (
    JsonNotXml,
    XmlError,
    XmlLimitExceeded,
    XmlOptions,
    XmlSyntaxError,
    dict_to_xml,
    to_gateway_error,
    xml_to_dict,
)
from translators.xmljson.errors import GATEWAY_ERRORS


def _all_subclasses(cls: type) -> list[type]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_all_subclasses(sub))
    return found


def test_the_table_covers_every_codec_error_on_both_sides() -> None:
    for error in _all_subclasses(XmlError):
        for side in ("client", "upstream"):
            assert (error, side) in GATEWAY_ERRORS, f"{error.__name__} on the {side} side"


def test_client_errors_are_400_and_upstream_errors_are_502() -> None:
    for (_, side), gateway_error in GATEWAY_ERRORS.items():
        if side == "client":
            assert issubclass(gateway_error, ClientError) and gateway_error.status == 400
        else:
            assert issubclass(gateway_error, BadGateway) and gateway_error.status == 502


def _caught(call, *args):  # type: ignore[no-untyped-def]
    with pytest.raises(XmlError) as caught:
        call(*args)
    return caught.value


def test_a_limit_problem_names_the_limit() -> None:
    error = _caught(xml_to_dict, b"<a>" * 200, XmlOptions())
    assert isinstance(error, XmlLimitExceeded)
    problem = problem_body(to_gateway_error(error, "client"), "req-1")
    assert problem["status"] == 400 and problem["limit"] == "max_depth"
    assert "max_depth=100" in problem["detail"] and problem["request_id"] == "req-1"
    upstream = problem_body(to_gateway_error(error, "upstream"), "req-2")
    assert upstream["status"] == 502 and upstream["type"].endswith("upstream-protocol")
    assert upstream["detail"].startswith("the upstream's XML reply: ")


def test_a_syntax_problem_gives_the_position() -> None:
    error = _caught(xml_to_dict, b"<a>\n<b></a>")
    assert isinstance(error, XmlSyntaxError)
    problem = problem_body(to_gateway_error(error, "client"), None)
    assert problem["type"].endswith("malformed-body")
    assert (problem["line"], problem["column"]) == (2, 6)


def test_json_that_cannot_be_xml_is_an_invalid_arguments_problem() -> None:
    error = _caught(dict_to_xml, {"a": {"b c": 1}})
    assert isinstance(error, JsonNotXml)
    problem = problem_body(to_gateway_error(error, "client"), None)
    assert problem["status"] == 400 and problem["type"].endswith("invalid-arguments")
    assert "'b c' is not a valid XML element name (at a/b c)" in problem["detail"]
