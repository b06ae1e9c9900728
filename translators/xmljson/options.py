"""The codec's options: one validated model, also the ``xml:`` block of a REST upstream.

Defaults give exactly xmltodict's JSON shape, so ``XmlOptions()`` is a drop-in
for ``xmltodict.parse``/``unparse``; every field is documented in docs/xml-json.md.

Example (YAML under a ``rest`` upstream)::

    xml: {namespaces: strip, force_list: [inventory/item], schema: xsd/inventory.xsd, root: order}
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.config import ExistingPath
from translators.xmljson.hints import ElementHint, build_plan
from translators.xmljson.names import XSI_NS, NameCache, binds_reserved, is_ncname, is_qname
from translators.xmljson.values import DecimalMode

__all__ = ["DEFAULT_OPTIONS", "MAX_NESTING", "NamespaceMode", "NullMode", "XmlOptions"]

NamespaceMode = Literal["strip", "prefix"] | dict[str, str]
NullMode = Literal["empty", "nil", "omit"]
_MIB = 1024 * 1024
#: The deepest JSON (objects and arrays inside each other) Rosetta converts in
#: either direction: orjson, which writes every JSON reply, refuses deeper.
MAX_NESTING = 254


class XmlOptions(BaseModel):
    """How XML and JSON map onto each other, and the safety limits for parsing XML."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    # --- JSON shape (both directions) ---
    attr_prefix: str = Field(
        default="@", min_length=1, description="Prefix of keys holding attributes."
    )
    text_key: str = Field(
        default="#text",
        min_length=1,
        description="Key of an element's text when it also has attributes or children.",
    )
    text_always_as_property: bool = Field(
        default=False, description="Put text under text_key even when the element has nothing else."
    )
    strip_whitespace: bool = Field(
        default=True,
        description="Trim whitespace around text; when false only text of XML whitespace is dropped.",
    )
    namespaces: NamespaceMode = Field(
        default="prefix",
        description="'prefix': names as written (soap:Body); 'strip': local names only; or a map namespace URI -> prefix.",
    )
    # --- XML -> JSON ---
    force_list: tuple[str, ...] = Field(
        default=(),
        description="Element paths (local names from the root, '*' for any) that are always arrays.",
    )
    schema_file: ExistingPath | None = Field(
        default=None,
        alias="schema",
        description="XSD (or WSDL) whose maxOccurs/types drive arrays and scalar types.",
    )
    infer_types: bool = Field(
        default=False,
        description="Without a schema, turn unambiguous numbers and true/false into JSON numbers/booleans.",
    )
    decimals: DecimalMode = Field(
        default="string", description="xsd:decimal values as 'string' (exact) or 'number'."
    )
    nil_as_null: bool | None = Field(
        default=None,
        description="xsi:nil='true' -> null; unset means on with a schema or infer_types.",
    )
    unwrap_root: bool = Field(
        default=False, description="Return the root element's content instead of {root: content}."
    )
    # --- JSON -> XML ---
    root: str | None = Field(
        default=None,
        description="Root element to wrap the JSON in; unset: the JSON has exactly one top-level key.",
    )
    item_name: str | None = Field(
        default=None,
        description="Element name for items of nested or top-level arrays; unset: such arrays are an error.",
    )
    xmlns: dict[str, str] = Field(
        default_factory=dict,
        description="Namespace declarations (prefix -> URI, '' for the default) on the output root.",
    )
    null: NullMode = Field(
        default="empty", description="JSON null as an empty element, xsi:nil='true', or omitted."
    )
    xml_declaration: bool = Field(
        default=True, description='Start the output with <?xml version="1.0" encoding="utf-8"?>.'
    )
    # --- safety limits for XML input ---
    max_bytes: int = Field(
        default=10 * _MIB, ge=1, description="Largest XML document accepted, in bytes."
    )
    max_depth: int = Field(
        default=100,
        ge=1,
        le=500,
        description="Deepest element nesting accepted (also bounds JSON -> XML nesting).",
    )
    max_elements: int = Field(default=1_000_000, ge=1, description="Most elements in one document.")
    max_attributes: int = Field(default=100, ge=0, description="Most attributes on one element.")
    max_attribute_length: int = Field(
        default=100_000, ge=0, description="Longest attribute value, in characters."
    )
    max_text_length: int = Field(
        default=10 * _MIB, ge=0, description="Longest text of one element, in characters."
    )

    @field_validator("attr_prefix", "text_key")
    @classmethod
    def _not_a_name_start(cls, value: str) -> str:
        if is_qname(value[0]):
            raise ValueError(
                "must start with a character that cannot start an XML name, like @ # $ - ."
            )
        return value

    @field_validator("force_list")
    @classmethod
    def _force_list_paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for path in value:
            segments = path.strip("/").split("/")
            bad = [s for s in segments if s != "*" and not is_ncname(s)]
            if bad:
                raise ValueError(f"{path!r}: {bad[0]!r} is not an XML local name or '*'")
        return value

    @field_validator("namespaces")
    @classmethod
    def _namespace_map(cls, value: NamespaceMode) -> NamespaceMode:
        if isinstance(value, dict):
            for uri, prefix in value.items():
                _check_declaration(prefix, uri)
            if len(set(value.values())) != len(value):
                raise ValueError("two namespace URIs are mapped to the same prefix")
        return value

    @field_validator("xmlns")
    @classmethod
    def _declarations(cls, value: dict[str, str]) -> dict[str, str]:
        for prefix, uri in value.items():
            _check_declaration(prefix, uri)
        return value

    @field_validator("root", "item_name")
    @classmethod
    def _element_name(cls, value: str | None) -> str | None:
        if value is not None and not is_qname(value):
            raise ValueError(f"{value!r} is not a valid XML element name")
        return value

    @model_validator(mode="after")
    def _distinct_keys(self) -> XmlOptions:
        if self.text_key.startswith(self.attr_prefix):
            raise ValueError("text_key must not start with attr_prefix")
        if self.null == "nil" and self.output_declarations().get("xsi") != XSI_NS:
            raise ValueError(
                "null: nil writes xsi:nil, so the prefix 'xsi' must be the XSI namespace"
            )
        return self

    def with_overrides(
        self, overrides: Mapping[str, Any], base_dir: Path | None = None
    ) -> XmlOptions:
        """A validated copy with ``overrides`` applied (e.g. a route's ``xml:`` options)."""
        data = self.model_dump(by_alias=True, exclude_unset=True)
        data.update(overrides)
        return XmlOptions.model_validate(data, context={"base_dir": base_dir})

    @cached_property
    def force_plan(self) -> ElementHint | None:
        """The ``force_list`` paths compiled for the parser (no schema)."""
        return build_plan(self.force_list, None)

    @cached_property
    def name_cache(self) -> NameCache:
        """Names already resolved by parses with these options."""
        return NameCache()

    def output_declarations(self) -> dict[str, str]:
        """Namespace declarations (prefix -> URI) the writer puts on the root element."""
        declared = {}
        if isinstance(self.namespaces, dict):
            declared = {prefix: uri for uri, prefix in self.namespaces.items()}
        declared.update(self.xmlns)
        if self.null == "nil":
            declared.setdefault("xsi", XSI_NS)
        return declared


def _check_declaration(prefix: str, uri: str) -> None:
    if prefix and not is_ncname(prefix):
        raise ValueError(f"{prefix!r} is not a valid namespace prefix")
    if binds_reserved(prefix, uri):
        raise ValueError(f"prefix {prefix!r} cannot be bound to {uri!r}")
    if not uri and prefix:
        raise ValueError(f"prefix {prefix!r} needs a non-empty namespace URI")


DEFAULT_OPTIONS = XmlOptions()
