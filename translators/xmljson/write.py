"""JSON-ready dict → XML bytes, the inverse of :func:`xml_to_dict`, without I/O.

A small hand serializer: it writes strings straight into one list, about four
times as fast as xmltodict's SAX-based ``unparse``. It is also stricter:
element and attribute names must be XML names, every namespace prefix used must
be declared, and characters XML 1.0 cannot carry are refused rather than
written into a document the upstream would reject.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from translators.xmljson.errors import JsonNotXml, XmlLimitExceeded
from translators.xmljson.names import (
    binds_reserved,
    first_invalid_char,
    is_ncname,
    is_qname,
    split_qname,
)
from translators.xmljson.options import DEFAULT_OPTIONS, MAX_NESTING, XmlOptions

__all__ = ["dict_to_xml"]

_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
_SPECIAL_FLOATS = {math.inf: "INF", -math.inf: "-INF"}


def dict_to_xml(obj: Any, options: XmlOptions = DEFAULT_OPTIONS) -> bytes:
    """Write a JSON value as one UTF-8 XML document; raise :class:`JsonNotXml` if it has no XML form.

    Example::

        >>> dict_to_xml({"a": {"@x": 1, "b": ["2", "3"]}}, XmlOptions(xml_declaration=False))
        b'<a x="1"><b>2</b><b>3</b></a>'
    """
    name, content = _document(obj, options)
    if content is None:  # the root element is always written
        content = {}
    writer = _Writer(options)
    try:
        writer.element(name, content, 1, frozenset({"xml"}), options.output_declarations())
    except JsonNotXml as exc:
        exc.path.insert(0, str(name))
        raise
    text = "".join(writer.out)
    bad = first_invalid_char(text)
    if bad >= 0:
        raise JsonNotXml(f"the character U+{ord(text[bad]):04X} cannot appear in XML 1.0")
    if options.xml_declaration:
        text = _DECLARATION + text
    return text.encode("utf-8")


def _document(obj: Any, options: XmlOptions) -> tuple[str, Any]:
    """The root element's name and content."""
    if options.root is not None:
        if type(obj) is list:
            if options.item_name is None:
                raise JsonNotXml("a JSON array needs item_name to become XML")
            return options.root, {options.item_name: obj}
        return options.root, obj
    if type(obj) is not dict or len(obj) != 1:
        raise JsonNotXml(
            "the JSON must be an object with exactly one member, the root element (or set root)"
        )
    name, content = next(iter(obj.items()))
    if type(content) is list:
        if len(content) != 1:
            raise JsonNotXml(
                "an XML document has one root element, not an array (set root and item_name)"
            )
        content = content[0]
    return name, content


def _escape_text(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
)


def _escape_attribute(text: str) -> str:
    return text.translate(_ATTRIBUTE_ESCAPES)


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is Decimal:
        return _number(value)
    if kind is float:
        return "NaN" if value != value else _SPECIAL_FLOATS.get(value, repr(value))
    raise JsonNotXml(f"a value of type {kind.__name__} has no XML form")


def _number(value: int | Decimal) -> str:
    try:
        return str(value)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        raise JsonNotXml("an integer with too many digits has no XML form") from None


_UNKNOWN: Any = object()


class _Writer:
    """Writes one document into ``out``; ``scope`` is the set of declared prefixes.

    Children that are plain text are written inline in :meth:`_children`: they
    are most of a document, and a method call each would double the time.
    """

    def __init__(self, options: XmlOptions) -> None:
        self.out: list[str] = []
        self.attr_prefix = options.attr_prefix
        self.text_key = options.text_key
        self.null = options.null
        self.item_name = options.item_name
        # Past MAX_NESTING the writer's recursion would reach Python's own limit.
        self.max_depth = min(options.max_depth, MAX_NESTING)
        self.depth_limit = "max_depth" if options.max_depth <= MAX_NESTING else "json_nesting"
        self.prefixes: dict[str, str | None] = {}

    def _prefix(self, name: Any, what: str) -> str | None:
        """The name's namespace prefix (None if none), once it is known to be an XML name."""
        prefix = self.prefixes.get(name, _UNKNOWN)
        if prefix is not _UNKNOWN:
            return prefix  # type: ignore[no-any-return]
        if type(name) is not str or not is_qname(name):
            raise JsonNotXml(f"{str(name)[:64]!r} is not a valid XML {what} name")
        prefix = split_qname(name)[0]
        if prefix == "xmlns":
            raise JsonNotXml(f"{name!r}: the prefix 'xmlns' is reserved")
        self.prefixes[name] = prefix
        return prefix

    def _check_scope(self, name: str, what: str, scope: frozenset[str]) -> None:
        prefix = self._prefix(name, what)
        if prefix is not None and prefix not in scope:
            raise JsonNotXml(f"the namespace prefix {prefix!r} of {name!r} is not declared")

    def element(
        self, name: str, value: Any, depth: int, scope: frozenset[str], declared: dict[str, str]
    ) -> None:
        """Write ``<name>`` holding ``value`` (not an array); ``declared``: xmlns to add."""
        if depth > self.max_depth:
            raise XmlLimitExceeded(self.depth_limit, self.max_depth, "JSON nesting")
        if type(value) is not dict and not declared:
            self._check_scope(name, "element", scope)
            if value is None:
                self._null(name)
            else:
                self.out.append(f"<{name}>{_escape_text(_scalar(value))}</{name}>")
            return
        attributes, children, text = self._members(value, declared)
        if declared:
            scope = scope | declared.keys()
        out = self.out
        out.append(self._start_tag(name, attributes, declared, scope))
        if children:
            self._children(children, depth + 1, scope)
        if text is not None:
            out.append(_escape_text(text))
        out.append(f"</{name}>")

    def _start_tag(
        self,
        name: str,
        attributes: list[tuple[str, str]],
        declared: dict[str, str],
        scope: frozenset[str],
    ) -> str:
        self._check_scope(name, "element", scope)
        parts = [f"<{name}"]
        for prefix, uri in declared.items():
            parts.append(f' {f"xmlns:{prefix}" if prefix else "xmlns"}="{_escape_attribute(uri)}"')
        for key, value in attributes:
            self._check_scope(key, "attribute", scope)
            parts.append(f' {key}="{value}"')
        parts.append(">")
        return "".join(parts)

    def _children(self, children: list[tuple[str, Any]], depth: int, scope: frozenset[str]) -> None:
        out, prefixes, escape = self.out, self.prefixes, _escape_text
        if depth > self.max_depth:
            raise XmlLimitExceeded(self.depth_limit, self.max_depth, "JSON nesting")
        name = ""
        try:
            for name, value in children:
                kind = type(value)
                if kind is dict or kind is list or value is None:
                    self._member(name, value, depth, scope)
                    continue
                prefix = prefixes.get(name, _UNKNOWN)
                if prefix is _UNKNOWN or (prefix is not None and prefix not in scope):
                    self._check_scope(name, "element", scope)
                out.append(f"<{name}>{escape(value if kind is str else _scalar(value))}</{name}>")
        except JsonNotXml as exc:
            exc.path.insert(0, str(name))
            raise

    def _member(self, name: str, value: Any, depth: int, scope: frozenset[str]) -> None:
        """A member of a JSON object: an array repeats the element."""
        if type(value) is not list:
            self.element(name, value, depth, scope, {})
            return
        for item in value:
            if type(item) is list:
                if self.item_name is None:
                    raise JsonNotXml("an array inside an array needs item_name")
                item = {self.item_name: item}
            self.element(name, item, depth, scope, {})

    def _null(self, name: str) -> None:
        if self.null == "empty":
            self.out.append(f"<{name}></{name}>")
        elif self.null == "nil":
            self.out.append(f'<{name} xsi:nil="true"></{name}>')

    def _members(
        self, value: Any, declared: dict[str, str]
    ) -> tuple[list[tuple[str, str]], list[tuple[str, Any]], str | None]:
        """(escaped attributes, children, text) of an element; fills ``declared``."""
        if type(value) is not dict:
            return [], [], None if value is None else _scalar(value)
        attributes: list[tuple[str, str]] = []
        children: list[tuple[str, Any]] = []
        text = None
        prefix, text_key = self.attr_prefix, self.text_key
        for key, item in value.items():
            if key == text_key:
                text = self._text(item)
            elif type(key) is str and key.startswith(prefix):
                self._attribute(key[len(prefix) :], item, attributes, declared)
            else:
                children.append((key, item))
        return attributes, children, text

    def _text(self, item: Any) -> str | None:
        if type(item) is dict or type(item) is list:
            raise JsonNotXml(f"{self.text_key!r} must hold text, not an object or array")
        return None if item is None else _scalar(item)

    def _attribute(
        self, name: str, item: Any, attributes: list[tuple[str, str]], declared: dict[str, str]
    ) -> None:
        if name == "xmlns" or name.startswith("xmlns:"):
            self._declare(name, item, declared)
            return
        if type(item) is dict or type(item) is list:
            raise JsonNotXml(f"attribute {name[:64]!r} must hold a scalar, not an object or array")
        if item is None and self.null != "empty":
            return
        value = "" if item is None else _escape_attribute(_scalar(item))
        attributes.append((name, value))

    def _declare(self, name: str, item: Any, declared: dict[str, str]) -> None:
        if name == "xmlns" and type(item) is dict:  # xmltodict's {"@xmlns": {prefix: uri}}
            for prefix, uri in item.items():
                self._declare(f"xmlns:{prefix}" if prefix else "xmlns", uri, declared)
            return
        prefix = name[6:]
        if type(item) is not str or (prefix and not item):
            raise JsonNotXml(f"the namespace declaration {name!r} needs a URI string")
        if prefix and (prefix == "xmlns" or not is_ncname(prefix)):
            raise JsonNotXml(f"{prefix[:64]!r} is not a valid namespace prefix")
        if binds_reserved(prefix, item):
            raise JsonNotXml(f"the prefix {prefix!r} cannot be bound to {item[:64]!r}")
        declared[prefix] = item
