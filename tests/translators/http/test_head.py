"""Request head encoding (no I/O)."""

from __future__ import annotations

import pytest

from translators._http._head import InvalidHead, encode_head


def test_a_get_without_body_has_no_framing_headers() -> None:
    head, chunked = encode_head("GET", "/a?b=1", "h:1", [("Accept", "*/*")], None, False)
    assert head == b"GET /a?b=1 HTTP/1.1\r\nAccept: */*\r\nHost: h:1\r\n\r\n"
    assert not chunked


def test_the_callers_framing_is_replaced_by_the_bodys() -> None:
    headers = [("content-length", "9"), ("Transfer-Encoding", "gzip"), ("HOST", "x")]
    head, _ = encode_head("PUT", "/", "h", headers, 3, False)
    assert head == b"PUT / HTTP/1.1\r\nHOST: x\r\nContent-Length: 3\r\n\r\n"


def test_a_stream_is_chunked_unless_its_length_is_given() -> None:
    head, chunked = encode_head("POST", "/", "h", [], None, True)
    assert chunked and head.endswith(b"Transfer-Encoding: chunked\r\n\r\n")
    head, chunked = encode_head("POST", "/", "h", [("Content-Length", "4")], None, True)
    assert not chunked and head.count(b"Content-Length") == 1


def test_non_latin1_header_text_is_sent_as_utf8() -> None:
    head, _ = encode_head("GET", "/", "h", [("X-Name", "Zoë ☕")], None, False)
    assert "X-Name: Zoë ☕".encode() in head


@pytest.mark.parametrize(
    ("target", "headers"),
    [("/a b", []), ("/a\r\nX: 1", []), ("/", [("X", "a\nb")]), ("/", [("X\r", "a")])],
)
def test_space_cr_or_lf_where_they_may_not_be_is_refused(target: str, headers: list) -> None:
    with pytest.raises(ValueError):
        encode_head("GET", target, "h", headers, None, False)


@pytest.mark.parametrize(
    "name", ["Content-Length ", "Transfer-Encoding\t", " Transfer-Encoding", "X(A)", "", "X:Y", "Zoë"]
)
def test_a_header_name_that_is_not_a_token_is_refused(name: str) -> None:
    """Another server could read ``Content-Length : 40`` as framing: such a head never goes out."""
    with pytest.raises(InvalidHead):
        encode_head("GET", "/", "h", [(name, "40")], None, False)


@pytest.mark.parametrize("value", ["o\x00ne", "one\nTransfer-Encoding: chunked", "one\rX: 2"])
def test_nul_cr_or_lf_in_a_header_value_is_refused(value: str) -> None:
    with pytest.raises(InvalidHead):
        encode_head("GET", "/", "h", [("X-A", value)], None, False)


def test_bytes_the_front_door_could_not_decode_go_out_as_they_came_in() -> None:
    """The front door decodes a head as UTF-8 with ``surrogateescape``; its undecodable bytes return."""
    value = b"caf\xe9 \xc3\xa9".decode("utf-8", "surrogateescape")
    head, _ = encode_head("GET", "/", "h", [("X-Name", value)], None, False)
    assert b"X-Name: caf\xe9 \xc3\xa9\r\n" in head
