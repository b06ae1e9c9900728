"""Hypothesis strategies: XML trees built with lxml, serialized to bytes."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from lxml import etree

__all__ = ["c14n", "xml_documents", "mixed_documents"]

NAMESPACES = {"p": "urn:rosetta:p", "q": "http://example.com/q"}
LOCAL_NAMES = ["a", "b", "item", "x-y", "_u", "v.1", "é", "数据"]
ATTRIBUTE_NAMES = ["id", "type", "x", "é"]

# Characters XML 1.0 can carry, with the escaping-sensitive ones over-represented.
_CHARS = st.one_of(
    st.sampled_from(list("&<>\"']]\t\n\r \x7f\x85\u2028")),
    st.characters(
        codec="utf-8",
        exclude_categories=("Cs", "Cc"),
        exclude_characters="\ufffe\uffff",
        max_codepoint=0x2FFFF,
    ),
)
attribute_values = st.text(_CHARS, max_size=12)
_TEXT = st.text(_CHARS, min_size=1, max_size=16)
_TRIMMED_TEXT = _TEXT.map(lambda text: text.strip() or "x")
_UNTRIMMED_TEXT = _TEXT.map(lambda text: text if text.strip() else text + "x")


def c14n(data: bytes) -> bytes:
    """Exclusive canonical form (comments dropped), the yardstick for equal documents."""
    return etree.tostring(
        etree.fromstring(data), method="c14n", exclusive=True, with_comments=False
    )


def _qname(draw: Any, prefixes: list[str | None]) -> str:
    prefix = draw(st.sampled_from(prefixes))
    local = draw(st.sampled_from(LOCAL_NAMES))
    return f"{{{NAMESPACES[prefix]}}}{local}" if prefix else local


def _attributes(draw: Any, element: Any, prefixes: list[str | None]) -> None:
    for name in draw(st.lists(st.sampled_from(ATTRIBUTE_NAMES), max_size=3, unique=True)):
        prefix = draw(st.sampled_from(prefixes))
        key = f"{{{NAMESPACES[prefix]}}}{name}" if prefix else name
        element.set(key, draw(attribute_values))
    if draw(st.integers(0, 9)) == 0:
        element.set("{http://www.w3.org/XML/1998/namespace}lang", "en")


def _fill(draw: Any, element: Any, depth: int, text: st.SearchStrategy[str], cdata: bool) -> None:
    """Give ``element`` either text, or groups of same-named children (no mixed content)."""
    prefixes: list[str | None] = [None, "p", "q"]
    _attributes(draw, element, prefixes)
    if depth >= 3 or draw(st.booleans()):
        if draw(st.booleans()):
            value = draw(text)
            use_cdata = cdata and "]]>" not in value and "\r" not in value and draw(st.booleans())
            element.text = etree.CDATA(value) if use_cdata else value
        return
    names = {_qname(draw, prefixes) for _ in range(draw(st.integers(1, 3)))}
    for name in names:
        for _ in range(draw(st.integers(1, 2))):
            _fill(draw, etree.SubElement(element, name), depth + 1, text, cdata)


@st.composite
def xml_documents(draw: Any, trim: bool = True) -> bytes:
    """Documents without mixed content whose same-named siblings are adjacent."""
    text = _TRIMMED_TEXT if trim else _UNTRIMMED_TEXT
    nsmap: dict[str | None, str] = dict(NAMESPACES)
    if draw(st.booleans()):
        nsmap[None] = "urn:rosetta:default"
    root = etree.Element(_qname(draw, [None, "p"]), nsmap=nsmap)
    _fill(draw, root, 1, text, cdata=True)
    return bytes(etree.tostring(root, xml_declaration=draw(st.booleans()), encoding="utf-8"))


@st.composite
def mixed_documents(draw: Any) -> bytes:
    """Anything goes: mixed content, interleaved siblings, comments, whitespace."""
    root = etree.Element("r", nsmap={"p": NAMESPACES["p"]})
    _mixed(draw, root, 1)
    return bytes(etree.tostring(root, encoding="utf-8"))


def _mixed(draw: Any, element: Any, depth: int) -> None:
    _attributes(draw, element, [None, "p"])
    element.text = draw(st.one_of(st.none(), _TEXT))
    if depth >= 3:
        return
    for _ in range(draw(st.integers(0, 3))):
        if draw(st.integers(0, 5)) == 0:
            child = etree.Comment(draw(st.sampled_from(["c", " note "])))
            element.append(child)
        else:
            child = etree.SubElement(element, _qname(draw, [None, "p"]))
            _mixed(draw, child, depth + 1)
        child.tail = draw(st.one_of(st.none(), _TEXT, st.just("\n  ")))
