"""Request head encoding (no I/O)."""

from __future__ import annotations

import pytest

from translators._http._head import encode_head


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
