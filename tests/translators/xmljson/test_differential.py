"""Differential tests: Rosetta's codec against xmltodict on generated documents.

Documents are written as raw text, so they hold what a tree library never
writes: comments and processing instructions anywhere, CDATA, entity and
character references, whitespace-only runs, mixed content, interleaved and
repeated siblings, namespace declarations (and redeclarations, and ``xmlns=""``)
on any element in any order among the attributes. Every comparison is exact,
key order included; the only normalisations are the differences
docs/xml-json.md states ("Differences from xmltodict").
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
import xmltodict
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from translators.xmljson import XmlOptions, XmlSyntaxError, dict_to_xml, xml_to_dict

_XML_SPACE = " \t\r\n"
_BINDINGS = [("p", "urn:p"), ("q", "urn:q"), ("p", "urn:p2"), ("", "urn:d"), ("", "")]
_LOCALS = ["a", "b", "c", "item", "x-y", "_u", "v.1", "é", "数据"]
_ATTRIBUTES = ["id", "type", "x", "é"]
_NAMESPACES = {"p": "urn:p", "q": "urn:q"}

# Pieces of character data as written in a document: references, characters that
# need escaping or are whitespace to str.strip() but not to XML, and any other.
_PIECES = st.one_of(
    st.sampled_from(
        ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#65;", "&#x20AC;", "&#x1F600;", "&#13;"]
        + ["&#10;", "&#9;", " ", "\n", "\t", "\r\n", "]]", ">", "'", '"', "\xa0", "\u2028"]
        + ["\x85", "\u3000"]
    ),
    st.characters(
        codec="utf-8",
        exclude_categories=("Cs", "Cc"),
        exclude_characters="\ufffe\uffff&<",
        max_codepoint=0x2FFFF,
    ),
)
# "]]>" may not appear in text; a run never ends in "]" so two runs cannot make it.
_RUNS = st.lists(_PIECES, max_size=8).map(lambda p: "".join(p).replace("]]>", "]]&gt;").rstrip("]"))
_WHITESPACE = st.sampled_from([" ", "\n  ", "\t", "\r\n", "&#32;", "&#x9;", "&#13;", "\xa0"])
_OTHER = st.sampled_from(["<!-- note -->", "<!---->", "<?pi x?>", "<?target?>"])
_MISC = st.lists(st.sampled_from(["", "\n", "<!-- c -->", "<?pi data?>", " "]), max_size=3)


def _examples(count: int) -> settings:
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def documents(draw: Any) -> bytes:
    """Namespace-well-formed documents with anything XML allows in them."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>'] if draw(st.booleans()) else []
    parts.append("".join(draw(_MISC)))
    _element(draw, parts, {"xml": "x"}, 1, None)
    parts.append("".join(draw(_MISC)))
    return "".join(parts).encode()


def _declarations(draw: Any, scope: dict[str, str]) -> list[str]:
    declarations = []
    for prefix, uri in draw(st.lists(st.sampled_from(_BINDINGS), max_size=2, unique_by=_first)):
        declarations.append(f' xmlns:{prefix}="{uri}"' if prefix else f' xmlns="{uri}"')
        scope[prefix] = uri
    return declarations


def _first(binding: tuple[str, str]) -> str:
    return binding[0]


def _attributes(draw: Any, scope: dict[str, str]) -> list[str]:
    prefixes = [""] + [p for p in scope if p]
    attributes, seen = [], set()
    for _ in range(draw(st.integers(0, 3))):
        prefix = draw(st.sampled_from(prefixes))
        local = draw(st.sampled_from(["lang", "space"] if prefix == "xml" else _ATTRIBUTES))
        if (scope.get(prefix, "") if prefix else "", local) in seen:
            continue  # one expanded name twice is not namespace-well-formed
        seen.add((scope.get(prefix, "") if prefix else "", local))
        quote = draw(st.sampled_from(['"', "'"]))
        value = draw(_RUNS).replace(quote, "&quot;" if quote == '"' else "&apos;")
        attributes.append(f" {prefix + ':' if prefix else ''}{local}={quote}{value}{quote}")
    return attributes


def _element(draw: Any, parts: list[str], scope: dict[str, str], depth: int, name: Any) -> str:
    scope = dict(scope)
    head = _declarations(draw, scope) + _attributes(draw, scope)
    prefixes = [p for p in scope if p and p != "xml"]
    if name is None or (":" in name and name.split(":")[0] not in prefixes):
        prefix = draw(st.sampled_from([""] + prefixes))
        name = (f"{prefix}:" if prefix else "") + draw(st.sampled_from(_LOCALS))
    start = f"<{name}{''.join(draw(st.permutations(head)))}"
    if draw(st.integers(0, 4)) == 0:
        parts.append(start + "/>")
        return str(name)
    parts.append(start + ">")
    names: list[str] = []
    for _ in range(draw(st.integers(0, 4 if depth < 4 else 0))):
        kind = draw(st.integers(0, 9))
        if kind <= 3:
            again = draw(st.sampled_from(names)) if names and draw(st.booleans()) else None
            names.append(_element(draw, parts, scope, depth + 1, again))
        elif kind <= 6:
            parts.append(draw(_RUNS))
        elif kind == 7:
            parts.append(f"<![CDATA[{draw(_RUNS)}]]>")
        else:
            parts.append(draw(_OTHER if kind == 8 else _WHITESPACE))
    parts.append(f"</{name}>")
    return str(name)


@st.composite
def json_values(draw: Any, carriage_returns: bool = True) -> dict[str, Any]:
    """JSON in the round-trip subset: text as parsing gives it, attributes first, text last."""
    scope = {"xml"} | set(draw(st.lists(st.sampled_from(sorted(_NAMESPACES)), unique=True)))
    declarations = {f"@xmlns:{p}": _NAMESPACES[p] for p in sorted(scope - {"xml"})}
    chars = st.one_of(_PIECES.filter(lambda c: len(c) == 1), st.sampled_from(["&", "<", "]]>"]))
    if not carriage_returns:
        chars = chars.filter(lambda c: c != "\r")
    texts = st.lists(chars, min_size=1, max_size=10).map("".join).map(str.strip).filter(bool)
    values = st.text(chars.filter(lambda c: len(c) == 1), max_size=10)
    return {_name(draw, scope): _content(draw, scope, 1, declarations, (texts, values))}


def _name(draw: Any, scope: set[str]) -> str:
    prefix = draw(st.sampled_from([None] + sorted(scope - {"xml"})))
    return (f"{prefix}:" if prefix else "") + draw(st.sampled_from(_LOCALS))


def _content(draw: Any, scope: set[str], depth: int, value: dict[str, Any], kinds: Any) -> Any:
    texts, values = kinds
    if not value and (depth >= 4 or draw(st.booleans())):
        return draw(st.one_of(st.none(), texts))
    value = dict(value)
    for _ in range(draw(st.integers(0, 2))):
        prefix = draw(st.sampled_from([None] + sorted(scope)))
        local = draw(st.sampled_from(["lang"] if prefix == "xml" else _ATTRIBUTES))
        value["@" + (f"{prefix}:" if prefix else "") + local] = draw(values)
    for _ in range(draw(st.integers(0, 3) if depth < 4 else st.just(0))):
        name = _name(draw, scope)
        items = [_content(draw, scope, depth + 1, {}, kinds) for _ in range(draw(st.integers(1, 3)))]
        value.setdefault(name, items[0] if len(items) == 1 else items)
    if value and draw(st.booleans()):
        value["#text"] = draw(texts)
    return value or None


def _ordered(value: Any) -> Any:
    """``value`` with key order made visible to ``==``."""
    if type(value) is dict:
        return [(key, _ordered(item)) for key, item in value.items()]
    if type(value) is list:
        return [_ordered(item) for item in value]
    return value


def _declarations_first(value: Any, prefix: str = "@") -> Any:
    """xmltodict's dict with each element's xmlns declarations before its other attributes."""
    if type(value) is list:
        return [_declarations_first(item, prefix) for item in value]
    if type(value) is not dict:
        return value
    first = [k for k in value if k == prefix + "xmlns" or k.startswith(prefix + "xmlns:")]
    rest = [k for k in value if k not in first]
    return {key: _declarations_first(value[key], prefix) for key in first + rest}


def _without_whitespace_text(value: Any, text_key: str = "#text") -> Any:
    """xmltodict's dict (``strip_whitespace=False``) without text of XML whitespace only."""
    if type(value) is list:
        return [_without_whitespace_text(item) for item in value]
    if type(value) is str:
        return value if value.strip(_XML_SPACE) else None
    if type(value) is not dict:
        return value
    return {
        key: item if key.startswith("@") else _without_whitespace_text(item)
        for key, item in value.items()
        if not (key == text_key and not item.strip(_XML_SPACE))
    }


def _keys(value: Any) -> set[str]:
    if type(value) is list:
        return set().union(*map(_keys, value))
    if type(value) is not dict:
        return set()
    return set(value).union(*map(_keys, value.values()))


def _without_declarations(value: Any) -> Any:
    """xmltodict's dict (``process_namespaces``) as if the declarations were not attributes."""
    if type(value) is list:
        return [_without_declarations(item) for item in value]
    if type(value) is not dict:
        return value
    content = {k: _without_declarations(v) for k, v in value.items() if k != "@xmlns"}
    if "@xmlns" in value and list(content) == ["#text"]:
        return content["#text"]
    return content or None


def _expect(document: bytes, **kwargs: Any) -> Any:
    return _ordered(_declarations_first(xmltodict.parse(document, **kwargs)))


@_examples(150)
@given(documents())
def test_default_options_give_xmltodicts_json_key_for_key(document: bytes) -> None:
    assert _ordered(xml_to_dict(document)) == _expect(document)


@_examples(60)
@given(documents())
def test_text_always_as_property_gives_xmltodicts_force_cdata_json(document: bytes) -> None:
    options = XmlOptions(text_always_as_property=True)
    assert _ordered(xml_to_dict(document, options)) == _expect(document, force_cdata=True)


@_examples(60)
@given(documents())
def test_own_attr_prefix_and_text_key_give_xmltodicts_json(document: bytes) -> None:
    options = XmlOptions(attr_prefix="-", text_key="$")
    expected = xmltodict.parse(document, attr_prefix="-", cdata_key="$")
    assert _ordered(xml_to_dict(document, options)) == _ordered(_declarations_first(expected, "-"))


@_examples(60)
@given(documents())
def test_keeping_whitespace_gives_xmltodicts_json_but_for_whitespace_only_text(
    document: bytes,
) -> None:
    options = XmlOptions(strip_whitespace=False)
    expected = _without_whitespace_text(xmltodict.parse(document, strip_whitespace=False))
    assert _ordered(xml_to_dict(document, options)) == _ordered(_declarations_first(expected))


@_examples(60)
@given(documents())
def test_force_list_paths_give_xmltodicts_forced_lists(document: bytes) -> None:
    def second_level_b(path: list[Any], key: str, _value: Any) -> bool:
        return len(path) == 1 and key.rpartition(":")[2] == "b"

    options = XmlOptions(force_list=["*/b"])
    assert _ordered(xml_to_dict(document, options)) == _expect(document, force_list=second_level_b)


@_examples(60)
@given(documents())
def test_stripping_namespaces_gives_xmltodicts_local_names(document: bytes) -> None:
    got = xml_to_dict(document, XmlOptions(namespaces="strip"))
    assume(not any(":" in key for key in _keys(got)))  # attributes met as one key: documented
    local_names: defaultdict[str, None] = defaultdict(lambda: None)
    expected = xmltodict.parse(document, process_namespaces=True, namespaces=local_names)
    assert _ordered(got) == _ordered(_without_declarations(expected))


@_examples(100)
@given(json_values())
def test_json_to_xml_to_json_gives_back_the_same_json(value: dict[str, Any]) -> None:
    assert _ordered(xml_to_dict(dict_to_xml(value))) == _ordered(value)


@_examples(60)
@given(json_values(carriage_returns=False))
def test_xmltodict_unparse_output_parses_back_to_the_same_json(value: dict[str, Any]) -> None:
    xml = xmltodict.unparse(value).encode()
    assert _ordered(xml_to_dict(xml)) == _ordered(value)


# --- minimal examples ---


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b"<a>&#xA0;</a>", {"a": "\xa0"}),
        ("<a x='1'>\u3000</a>".encode(), {"a": {"@x": "1", "#text": "\u3000"}}),
        ("<a><b/>\u2028</a>".encode(), {"a": {"b": None, "#text": "\u2028"}}),
    ],
)
def test_text_xml_does_not_count_as_whitespace_is_kept_without_strip_whitespace(
    document: bytes, expected: dict[str, Any]
) -> None:
    assert xml_to_dict(document, XmlOptions(strip_whitespace=False)) == expected


def test_a_non_breaking_space_survives_json_to_xml_to_json_without_strip_whitespace() -> None:
    options = XmlOptions(strip_whitespace=False)
    assert xml_to_dict(dict_to_xml({"a": "\xa0"}, options), options) == {"a": "\xa0"}


def test_stripping_trims_what_xmltodict_trims_non_breaking_spaces_included() -> None:
    document = "<a>\xa0x\u3000</a>".encode()
    assert xml_to_dict(document) == xmltodict.parse(document) == {"a": "x"}


def test_xmlns_declarations_come_before_the_other_attributes() -> None:
    document = b'<a x="1" xmlns:p="urn:p"/>'
    assert list(xml_to_dict(document)["a"]) == ["@xmlns:p", "@x"]
    assert list(xmltodict.parse(document)["a"]) == ["@x", "@xmlns:p"]


def test_whitespace_only_text_is_dropped_even_without_strip_whitespace() -> None:
    document = b"<a>  <b>1</b>  </a>"
    assert xml_to_dict(document, XmlOptions(strip_whitespace=False)) == {"a": {"b": "1"}}
    assert xmltodict.parse(document, strip_whitespace=False) == {"a": {"b": "1", "#text": "    "}}


@pytest.mark.parametrize(
    "document",
    [
        b"<p:a/>",
        b"<a p:x='1'/>",
        b"<a:b:c/>",
        b"<a xmlns:p='urn:u' xmlns:q='urn:u' p:x='1' q:x='2'/>",
        b"<a xmlns:p=''/>",
    ],
)
def test_documents_that_break_the_namespaces_spec_are_refused(document: bytes) -> None:
    xmltodict.parse(document)  # plain XML 1.0 without namespaces accepts them
    with pytest.raises(XmlSyntaxError):
        xml_to_dict(document)
