"""The expat handlers that build xmltodict's dict shape (the parser's hot path).

The handlers run once per start tag, end tag and text run, so they are closures
over local variables rather than methods: attribute lookups on ``self`` cost
about a third of the parse. The current element lives in those variables, its
ancestors on ``stack``; everything off the hot path is in :class:`_Names`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from translators.xmljson.errors import XmlError, XmlLimitExceeded
from translators.xmljson.hints import ElementHint
from translators.xmljson.names import XSI_NS, NameCache
from translators.xmljson.options import XmlOptions
from translators.xmljson.values import STRING_EMPTY_TYPES, converters, infer

__all__ = ["Handlers", "dict_handlers"]

_MISSING: Any = object()
_XSI_NIL = f"{XSI_NS} nil "
# XML's own whitespace (the S production). Without strip_whitespace only text made of
# these is dropped: U+00A0, U+3000 … are content, though str.strip() removes them.
_XML_SPACE = " \t\r\n"


class Handlers(NamedTuple):
    """expat callbacks; ``result()`` is the dict once the parse has ended."""

    start: Callable[[str, list[str]], None]
    end: Callable[[str], None]
    characters: Callable[[str], None]
    declare: Callable[[str | None, str | None], None]
    result: Callable[[], dict[str, Any]]


class _Names:
    """Names as expat reports them (``uri local prefix``) → names in the JSON."""

    def __init__(self, options: XmlOptions, nil_on: bool, cache: NameCache) -> None:
        namespaces = options.namespaces
        self.strip = namespaces == "strip"
        self.map = namespaces if isinstance(namespaces, dict) else {}
        # Only renamed names (local names, mapped prefixes) can make two attributes' keys equal.
        self.merges = self.strip or bool(self.map)
        self.options = options
        self.nil_on = nil_on
        self.convert = converters(options.decimals)
        cache.trim()
        self.elements = cache.elements
        self.attribute_names = cache.attributes

    def _resolve(self, full: str) -> tuple[str, str]:
        parts = full.split(" ")
        if len(parts) == 1:
            return full, full
        local = parts[1]
        if self.strip:
            return local, local
        prefix = self.map.get(parts[0])
        if prefix is None:
            prefix = parts[2] if len(parts) > 2 else ""
        return (f"{prefix}:{local}" if prefix else local), local

    def element(self, full: str) -> tuple[str, str]:
        """(name in the JSON, local name) of an element."""
        entry = self.elements[full] = self._resolve(full)
        return entry

    def _attribute(self, full: str) -> tuple[str, str, bool]:
        name, local = self._resolve(full)
        entry = (self.options.attr_prefix + name, local, full.startswith(_XSI_NIL))
        self.attribute_names[full] = entry
        return entry

    def declaration(self, prefix: str | None, uri: str | None) -> tuple[str, str] | None:
        """The key and value of an xmlns declaration, or None where it is not kept."""
        if self.strip or uri in self.map:
            return None
        key = f"xmlns:{prefix}" if prefix else "xmlns"
        return self.options.attr_prefix + key, uri or ""

    def _written_key(self, full: str) -> str:
        """An attribute's key as the document writes its name (``@p:id``, ``@id``)."""
        parts = full.split(" ")
        name = f"{parts[2]}:{parts[1]}" if len(parts) > 2 else parts[-1]
        return self.options.attr_prefix + name

    def _separate(self, pairs: list[str], i: int, item: dict[str, Any], key: str) -> str:
        """The key of attribute ``pairs[i]`` when an earlier one already took ``key``.

        ``strip`` and namespace maps rename attributes, so ``type`` and ``xsi:type``
        can meet as ``@type``. The one with a prefix in the document keeps it
        (``@xsi:type``) and nothing is lost; where both have one, the later.
        """
        own = self._written_key(pairs[i])
        if own == key:  # this one is unprefixed: the earlier, renamed one moves
            earlier = next(p for p in pairs[0:i:2] if self.attribute_names[p][0] == key)
            own, key = key, self._written_key(earlier)
            if key in item:
                raise XmlError(f"two attributes of one element are both {key!r} in the JSON")
            item[key] = item.pop(own)
            return own
        if own in item:
            raise XmlError(f"two attributes of one element are both {own!r} in the JSON")
        return own

    def attributes(
        self, pairs: list[str], item: dict[str, Any] | None, hint: ElementHint | None
    ) -> tuple[dict[str, Any], bool]:
        """The element's dict with its attributes added, and whether it is xsi:nil."""
        options = self.options
        if len(pairs) > 2 * options.max_attributes:
            raise XmlLimitExceeded(
                "max_attributes", options.max_attributes, "the number of attributes"
            )
        item = {} if item is None else item
        types = hint.attributes if hint is not None else None
        nil = False
        for i in range(0, len(pairs), 2):
            key, local, is_nil = self.attribute_names.get(pairs[i]) or self._attribute(pairs[i])
            if self.merges and key in item:
                key = self._separate(pairs, i, item, key)
            value = pairs[i + 1]
            if len(value) > options.max_attribute_length:
                raise XmlLimitExceeded(
                    "max_attribute_length", options.max_attribute_length, f"attribute {local!r}"
                )
            if is_nil and self.nil_on and value in ("true", "1"):
                nil = True
            item[key] = (
                self.convert.get(types[local], str)(value) if types and local in types else value
            )
        return item, nil


def dict_handlers(
    options: XmlOptions, plan: ElementHint | None, nil_on: bool, cache: NameCache
) -> Handlers:
    """Fresh handlers for one parse; ``plan`` is the document's hint node (or None)."""
    names = _Names(options, nil_on, cache)
    convert = names.convert
    element_names = names.elements
    max_depth, max_elements = options.max_depth, options.max_elements
    max_text, strip = options.max_text_length, options.strip_whitespace
    text_key, always, infer_on = (
        options.text_key,
        options.text_always_as_property,
        options.infer_types,
    )
    stack: list[tuple[Any, ...]] = []
    name = ""
    item: dict[str, Any] | None = None
    texts: list[str] | None = None
    hint = plan
    nil = False
    pending: dict[str, Any] | None = None
    count = 0

    def start(full: str, attributes: list[str]) -> None:
        nonlocal name, item, texts, hint, nil, pending, count
        if len(stack) >= max_depth:
            raise XmlLimitExceeded("max_depth", max_depth, "element nesting")
        count += 1
        if count > max_elements:
            raise XmlLimitExceeded("max_elements", max_elements, "the number of elements")
        entry = element_names.get(full) or names.element(full)
        child_hint = hint
        if child_hint is not None:
            child_hint = child_hint.children.get(entry[1]) or child_hint.any
        stack.append((name, item, texts, hint, nil))
        name, texts, hint, nil = entry[0], None, child_hint, False
        item, pending = pending, None
        if attributes:
            item, nil = names.attributes(attributes, item, child_hint)

    def end(_full: str) -> None:
        nonlocal name, item, texts, hint, nil
        text: Any = None
        if texts is not None:
            text = texts[0] if len(texts) == 1 else "".join(texts)
            if len(text) > max_text:
                raise XmlLimitExceeded("max_text_length", max_text, f"the text of {name!r}")
            stripped = text.strip() if strip else text.strip(_XML_SPACE)
            text = (stripped if strip else text) if stripped else None
        if nil:
            value = None
        else:
            xsd_type = hint.type if hint is not None else None
            if xsd_type is not None:
                if text is not None:
                    text = convert.get(xsd_type, str)(text)
                elif item is None and xsd_type in STRING_EMPTY_TYPES:
                    text = ""  # an empty string-typed leaf is "", not null
            elif text is not None and infer_on:
                text = infer(text)
            if item is not None:
                if text is not None:
                    item[text_key] = text
                value = item
            elif text is not None and always:
                value = {text_key: text}
            else:
                value = text
        key, is_list = name, hint is not None and hint.is_list
        name, item, texts, hint, nil = stack.pop()
        if item is None:
            item = {}
        old = item.get(key, _MISSING)
        if old is _MISSING:
            item[key] = [value] if is_list else value
        elif type(old) is list:
            old.append(value)
        else:
            item[key] = [old, value]

    def characters(data: str) -> None:
        nonlocal texts
        if texts is None:
            texts = [data]
        else:
            texts.append(data)

    def declare(prefix: str | None, uri: str | None) -> None:
        nonlocal pending
        declaration = names.declaration(prefix, uri)
        if declaration is not None:
            if pending is None:
                pending = {}
            pending[declaration[0]] = declaration[1]

    def result() -> dict[str, Any]:
        return item or {}

    return Handlers(start, end, characters, declare, result)
