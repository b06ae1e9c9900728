"""Bad and hostile XML: each is a clear codec error, never a hang, a fetch or a crash."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.xmljson import (
    XmlError,
    XmlForbidden,
    XmlLimitExceeded,
    XmlOptions,
    XmlSyntaxError,
    xml_to_dict,
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol9;</lolz>"""

QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "'
    + b"x" * 50_000
    + b'">]><q>'
    + b"&a;" * 20_000
    + b"</q>"
)


@pytest.fixture
def listener() -> Iterator[tuple[str, socket.socket]]:
    """A real TCP listener on loopback: a parser that fetched anything would connect here."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield f"http://127.0.0.1:{server.getsockname()[1]}", server
    server.close()


def _no_connection(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return True
    return False


def test_an_external_entity_is_refused_and_nothing_is_fetched(listener) -> None:  # type: ignore[no-untyped-def]
    url, server = listener
    document = f'<!DOCTYPE a [<!ENTITY xxe SYSTEM "{url}/secret">]><a>&xxe;</a>'.encode()
    with pytest.raises(XmlForbidden, match="DTD"):
        xml_to_dict(document)
    file_entity = b'<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>'
    with pytest.raises(XmlForbidden):
        xml_to_dict(file_entity)
    assert _no_connection(server)


def test_an_external_dtd_and_parameter_entities_are_refused_unfetched(listener) -> None:  # type: ignore[no-untyped-def]
    url, server = listener
    for document in (
        f'<!DOCTYPE a SYSTEM "{url}/evil.dtd"><a/>',
        f'<!DOCTYPE a [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]><a/>',
    ):
        with pytest.raises(XmlForbidden):
            xml_to_dict(document.encode())
    assert _no_connection(server)


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(XmlForbidden):
        xml_to_dict(BILLION_LAUGHS)


def test_quadratic_blowup_is_refused() -> None:
    with pytest.raises(XmlForbidden):
        xml_to_dict(QUADRATIC_BLOWUP, XmlOptions(max_bytes=2_000_000))


def test_any_dtd_is_refused_even_an_empty_one() -> None:
    with pytest.raises(XmlForbidden, match="DTD"):
        xml_to_dict(b"<!DOCTYPE a><a/>")


def test_an_undeclared_entity_is_a_syntax_error() -> None:
    with pytest.raises(XmlSyntaxError, match="undefined entity"):
        xml_to_dict(b"<a>&nbsp;</a>")


def test_ten_thousand_deep_nesting_is_refused_by_max_depth() -> None:
    document = b"<a>" * 10_000 + b"</a>" * 10_000
    with pytest.raises(XmlLimitExceeded, match="max_depth=100") as caught:
        xml_to_dict(document)
    assert caught.value.limit == "max_depth"
    with pytest.raises(XmlLimitExceeded, match="max_depth=500"):
        xml_to_dict(document, XmlOptions(max_depth=500))


def test_depth_up_to_the_limit_is_accepted() -> None:
    document = b"<a>" * 100 + b"</a>" * 100
    assert xml_to_dict(document) is not None


def test_a_huge_attribute_is_refused_by_max_attribute_length() -> None:
    document = b'<a x="' + b"y" * 5_000_000 + b'"/>'
    with pytest.raises(
        XmlLimitExceeded, match="attribute 'x' exceeds the limit max_attribute_length"
    ):
        xml_to_dict(document)


def test_too_many_attributes_are_refused_by_max_attributes() -> None:
    document = ("<a " + " ".join(f'a{i}="1"' for i in range(101)) + "/>").encode()
    with pytest.raises(XmlLimitExceeded, match="max_attributes=100"):
        xml_to_dict(document)


def test_too_many_elements_are_refused_by_max_elements() -> None:
    document = b"<r>" + b"<i/>" * 1000 + b"</r>"
    with pytest.raises(XmlLimitExceeded, match="max_elements=500"):
        xml_to_dict(document, XmlOptions(max_elements=500))


def test_a_too_large_document_is_refused_by_max_bytes_before_parsing() -> None:
    with pytest.raises(
        XmlLimitExceeded, match=r"the document \(2001 bytes\) exceeds the limit max_bytes=2000"
    ):
        xml_to_dict(b"<a>" + b"x" * 1994 + b"</a>", XmlOptions(max_bytes=2000))


def test_a_too_long_text_is_refused_by_max_text_length() -> None:
    with pytest.raises(
        XmlLimitExceeded, match="the text of 'a' exceeds the limit max_text_length=10"
    ):
        xml_to_dict(b"<a>" + b"x" * 11 + b"</a>", XmlOptions(max_text_length=10))


def test_invalid_utf8_is_a_syntax_error_with_its_position() -> None:
    with pytest.raises(XmlSyntaxError, match="line 1, column 4") as caught:
        xml_to_dict(b"<a>\xff\xfe</a>")
    assert (caught.value.line, caught.value.column) == (1, 4)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            b'<?xml version="1.0" encoding="UTF-16"?><a/>',
            "encoding specified in XML declaration is incorrect",
        ),
        ('<?xml version="1.0" encoding="UTF-8"?><a>é</a>'.encode("latin-1"), "not well-formed"),
        (b'<?xml version="1.0" encoding="no-such-codec"?><a/>', "unknown encoding"),
        (
            '<?xml version="1.0" encoding="Shift_JIS"?><a>\ufffd</a>'.encode("utf-16-le"),
            "malformed",
        ),
    ],
)
def test_a_wrong_encoding_declaration_is_a_syntax_error(document: bytes, message: str) -> None:
    with pytest.raises(XmlSyntaxError, match=message):
        xml_to_dict(document)


SOAP = (
    b'<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<s:Body><r a="1"><x>text</x><!-- c --><y><![CDATA[z]]></y></r></s:Body></s:Envelope>'
)


@pytest.mark.parametrize("cut", [1, 10, 30, 60, 90, 100, 110, 130, 150, len(SOAP) - 1])
def test_truncated_xml_is_a_syntax_error(cut: int) -> None:
    with pytest.raises(XmlSyntaxError, match="malformed XML"):
        xml_to_dict(SOAP[:cut])


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"   ",
        b'{"json": true}',
        b"<a><b></a></b>",
        b"<a/><b/>",
        b"<a/>junk",
        b"<a x=1/>",
        b'<a x="1" x="2"/>',
        b"<a>1 < 2</a>",
        b"<a><!-- unclosed </a>",
        b"<p:a/>",
        b"<a xmlns:p=''/>",
        b"<1a/>",
        b"<a>\x00</a>",
    ],
)
def test_malformed_xml_is_a_syntax_error(document: bytes) -> None:
    with pytest.raises(XmlSyntaxError):
        xml_to_dict(document)


_MUTATED = st.builds(
    lambda cut, junk: SOAP[:cut] + junk + SOAP[cut:],
    st.integers(0, len(SOAP)),
    st.binary(max_size=8),
)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200) | _MUTATED)
def test_arbitrary_bytes_give_a_dict_or_a_codec_error_and_nothing_else(document: bytes) -> None:
    try:
        result = xml_to_dict(document)
    except XmlError:
        return
    assert isinstance(result, dict)
