"""GatewayResponse sends exactly the header bytes Sanic's HTTPResponse sends."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sanic.compat import Header
from sanic.headers import format_http1_response
from sanic.response import HTTPResponse

from gateway.response import GatewayResponse, sanitized

names = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"), min_size=1)
values = st.text() | st.integers() | st.sampled_from(["a\r\nSet-Cookie: x=1", "nul\x00byte", "tab\tkept", "é ü", "raw\udcffbyte"])


@settings(max_examples=300, deadline=None)
@given(headers=st.lists(st.tuples(names, values), max_size=6), status=st.sampled_from([200, 204, 304, 404]))
def test_header_bytes_are_sanics(headers: list[tuple[str, object]], status: int) -> None:
    ours = GatewayResponse(b"{}", status=status, headers=Header(headers), content_type="application/json")
    theirs = HTTPResponse(b"{}", status=status, headers=Header(headers), content_type="application/json")
    assert format_http1_response(status, ours.processed_headers) == format_http1_response(
        status, theirs.processed_headers
    )


safe = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1)


@settings(max_examples=200, deadline=None)
@given(headers=st.lists(st.tuples(names, values), max_size=4), made=st.lists(st.tuples(names, safe), max_size=3))
def test_encoded_headers_are_sent_last_as_sanic_would_send_them(
    headers: list[tuple[str, object]], made: list[tuple[str, str]]
) -> None:
    encoded = tuple((name.encode(), value.encode()) for name, value in made)
    ours = GatewayResponse(b"{}", headers=Header(headers), content_type="application/json", encoded=encoded)
    theirs = HTTPResponse(b"{}", headers=Header(headers), content_type="application/json")
    head = format_http1_response(200, theirs.processed_headers)
    lines = b"".join(b"%b: %b\r\n" % pair for pair in encoded)
    assert format_http1_response(200, ours.processed_headers) == head[:-2] + lines + b"\r\n"


def test_cr_lf_and_nul_are_removed_but_tabs_and_unicode_stay() -> None:
    assert sanitized("a\r\nSet-Cookie: x=1") == "aSet-Cookie: x=1"
    assert sanitized("nul\x00") == "nul"
    assert sanitized("tab\tkept é") == "tab\tkept é"


def test_a_header_injection_attempt_reaches_the_wire_as_one_line() -> None:
    response = GatewayResponse(b"", headers=Header([("X-Note", "ok\r\nSet-Cookie: stolen=1")]))
    head = format_http1_response(200, response.processed_headers)
    assert b"X-Note: okSet-Cookie: stolen=1\r\n" in head
    assert b"\r\nSet-Cookie" not in head


def _state(response: HTTPResponse) -> dict[str, object]:
    slots = {name for cls in type(response).__mro__[1:] for name in getattr(cls, "__slots__", ())}  # Sanic's
    state = {name: getattr(response, name) for name in slots if hasattr(response, name)}
    state["headers"] = list(state["headers"].items())
    return state


@pytest.mark.parametrize("body", [None, b"{}", "text"])
def test_a_new_response_holds_what_sanics_holds(body: object) -> None:
    headers = [("X-Request-ID", "abc"), ("RateLimit", '"route-60s";r=1;t=2')]
    ours = GatewayResponse(body, status=201, headers=headers, content_type="application/json")
    theirs = HTTPResponse(body, status=201, headers=Header(headers), content_type="application/json")
    assert _state(ours) == _state(theirs)
