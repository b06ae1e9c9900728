"""Rosetta's compact model of the XSD types a WSDL uses, compiled once from zeep's.

zeep stays the WSDL/XSD engine: it parses and resolves the schemas. This module
flattens what it resolved into a few plain dataclasses the codec walks on every
call (no I/O, no zeep objects at call time)::

    ComplexType  elements: [Field …]  attributes: [Field …]  text: SimpleType | None
    Field        key (JSON), tag (XML, Clark notation), type, min/max occurs, nillable
    Choice       which keys are alternatives (xs:choice)

JSON shape: an element is keyed by its local name, an attribute by ``@`` + its
local name, simple content by ``#text``. ``Field.type`` is ``None`` for
``xs:anyType`` (converted generically). Named types are shared, so a recursive
type is a cycle, not an infinite tree.

Example::

    model = compile_type(zeep_element.type)
    model.by_key["intA"].type.xsd     # "xsd:int"
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from zeep.xsd import AnyAttribute
from zeep.xsd import ComplexType as ZeepComplex
from zeep.xsd.elements import Any as ZeepAny
from zeep.xsd.elements import Element as ZeepElement
from zeep.xsd.elements.indicators import Choice as ZeepChoice
from zeep.xsd.elements.indicators import Group as ZeepGroup
from zeep.xsd.elements.indicators import OrderIndicator
from zeep.xsd.types import ListType, UnionType
from zeep.xsd.types.simple import AnySimpleType

from translators.soap.simple import SimpleType, builtin

__all__ = ["ATTR", "TEXT", "Choice", "ComplexType", "Field", "FieldType", "compile_type", "simple_type"]

ATTR = "@"
TEXT = "#text"
_STRING = builtin("string")

FieldType: TypeAlias = "SimpleType | ComplexType | None"


@dataclass(eq=False, slots=True)
class Field:
    """One element or attribute of a complex type."""

    key: str  # JSON key: local name, or "@" + local name for an attribute
    tag: str  # XML name in Clark notation ("{ns}local") or a bare local name
    type: FieldType
    min_occurs: int = 1
    max_occurs: int | None = 1  # None: unbounded
    nillable: bool = False
    attribute: bool = False

    @property
    def repeated(self) -> bool:
        """``maxOccurs > 1``: always a JSON array."""
        return self.max_occurs is None or self.max_occurs > 1

    @property
    def required(self) -> bool:
        return self.min_occurs > 0

    @property
    def local(self) -> str:
        return self.tag.rpartition("}")[2]

    @property
    def xsd(self) -> str:
        """The XSD type name shown in errors and signatures."""
        if self.type is None:
            return "xsd:anyType"
        if isinstance(self.type, SimpleType):
            return self.type.xsd
        return self.type.label


@dataclass(frozen=True, slots=True)
class Choice:
    """An ``xs:choice``: at most one branch (exactly one when required) may be given."""

    required: bool
    branches: tuple[tuple[str, ...], ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for branch in self.branches for key in branch)


@dataclass(eq=False, slots=True)
class ComplexType:
    """A complex type, flattened: its elements in document order, its attributes, its text."""

    name: str | None  # "{ns}local" of a named type
    label: str  # what errors and signatures show: "tns:Person" or "object"
    elements: list[Field] = field(default_factory=list)
    attributes: list[Field] = field(default_factory=list)
    text: SimpleType | None = None
    open: bool = False  # xs:any / xs:anyAttribute: undeclared content is kept
    choices: list[Choice] = field(default_factory=list)
    array_item: Field | None = None  # a SOAP-encoded array (soapenc:Array)
    by_key: dict[str, Field] = field(default_factory=dict)
    by_local: dict[str, Field] = field(default_factory=dict)
    by_attr: dict[str, Field] = field(default_factory=dict)
    by_tag: dict[str, Field] = field(default_factory=dict)
    list_keys: tuple[str, ...] = ()  # keys of repeated elements: [] when absent

    def __repr__(self) -> str:  # the default one would recurse through recursive types
        return f"ComplexType({self.label}, {len(self.elements)} elements, {len(self.attributes)} attributes)"

    def index(self) -> None:
        """Build the lookup tables once the fields are known."""
        self.by_key = {f.key: f for f in (*self.elements, *self.attributes)}
        self.by_local = {}
        for f in self.elements:
            self.by_local.setdefault(f.local, f)
        self.by_attr = {f.tag: f for f in self.attributes}
        self.by_tag = {f.tag: f for f in self.elements}
        self.list_keys = tuple(f.key for f in self.elements if f.repeated)


def simple_type(zeep_type: Any) -> SimpleType:
    """The :class:`SimpleType` of a zeep simple type (built-in, derived, list or union)."""
    if isinstance(zeep_type, ListType):
        return SimpleType("list", "string", item=simple_type(zeep_type.item_type))
    if isinstance(zeep_type, UnionType):
        return _STRING
    qname = getattr(type(zeep_type), "_default_qname", None)
    if qname is None:
        return _STRING
    return builtin(qname.localname)


def compile_type(zeep_type: Any, _memo: dict[int, ComplexType] | None = None) -> FieldType:
    """Rosetta's model of a zeep type: a :class:`SimpleType`, a :class:`ComplexType` or ``None``."""
    memo: dict[int, ComplexType] = {} if _memo is None else _memo
    if isinstance(zeep_type, AnySimpleType):
        return simple_type(zeep_type)
    if not isinstance(zeep_type, ZeepComplex):
        return None  # xs:anyType
    found = memo.get(id(zeep_type))
    if found is not None:
        return found
    model = ComplexType(name=_name(zeep_type), label=_label(zeep_type))
    memo[id(zeep_type)] = model
    _fill(model, zeep_type, memo)
    return model


def _name(zeep_type: Any) -> str | None:
    qname = getattr(zeep_type, "qname", None)
    return qname.text if qname is not None else None


def _label(zeep_type: Any) -> str:
    qname = getattr(zeep_type, "qname", None)
    return f"tns:{qname.localname}" if qname is not None else "object"


def _fill(model: ComplexType, zeep_type: ZeepComplex, memo: dict[int, ComplexType]) -> None:
    array = zeep_type._array_type
    content = zeep_type._element
    if isinstance(content, ZeepElement) and isinstance(content.type, AnySimpleType):
        model.text = simple_type(content.type)  # xs:simpleContent
    elif content is not None:
        _particles(content, model, memo, optional=False, repeated=False)
    for _, attr in zeep_type.attributes:
        if isinstance(attr, AnyAttribute):
            model.open = True
        elif array is None:  # an encoded array is a JSON list: its attributes have no place
            model.attributes.append(_attribute(attr, memo))
    if array is not None:
        model.array_item = _array_item(zeep_type, model, memo)
    model.index()


def _particles(
    node: Any, model: ComplexType, memo: dict[int, ComplexType], optional: bool, repeated: bool
) -> list[str]:
    """Add the elements under ``node`` to ``model``; return the JSON keys added."""
    if isinstance(node, ZeepAny):
        model.open = True
        return []
    if isinstance(node, ZeepElement):
        return [_add_element(node, model, memo, optional, repeated)]
    optional = optional or getattr(node, "min_occurs", 1) == 0
    repeated = repeated or _many(getattr(node, "max_occurs", 1))
    if isinstance(node, ZeepGroup):
        return _particles(node.child, model, memo, optional, repeated)
    if isinstance(node, ZeepChoice):
        return _choice(node, model, memo, optional, repeated)
    if isinstance(node, OrderIndicator):
        return [key for item in node for key in _particles(item, model, memo, optional, repeated)]
    return []


def _choice(
    node: ZeepChoice, model: ComplexType, memo: dict[int, ComplexType], optional: bool, repeated: bool
) -> list[str]:
    branches = tuple(tuple(_particles(item, model, memo, True, repeated)) for item in node)
    if not repeated:
        required = not optional and all(branches)
        model.choices.append(Choice(required=required, branches=tuple(b for b in branches if b)))
    return [key for branch in branches for key in branch]


def _add_element(
    node: ZeepElement, model: ComplexType, memo: dict[int, ComplexType], optional: bool, repeated: bool
) -> str:
    key = node.qname.localname if node.qname is not None else node.attr_name
    max_occurs = None if repeated or node.max_occurs == "unbounded" else int(node.max_occurs)
    model.elements.append(
        Field(
            key=key,
            tag=node.qname.text if node.qname is not None else key,
            type=compile_type(node.type, memo),
            min_occurs=0 if optional else int(node.min_occurs),
            max_occurs=max_occurs,
            nillable=bool(node.nillable),
        )
    )
    return key


def _attribute(attr: Any, memo: dict[int, ComplexType]) -> Field:
    attr_type = compile_type(attr.type, memo) if attr.type is not None else _STRING
    return Field(
        key=ATTR + attr.qname.localname,
        tag=attr.qname.text,
        type=attr_type if isinstance(attr_type, SimpleType) else _STRING,
        min_occurs=1 if attr.required else 0,
        attribute=True,
    )


def _array_item(zeep_type: ZeepComplex, model: ComplexType, memo: dict[int, ComplexType]) -> Field:
    """The item of a soapenc:Array, from its ``wsdl:arrayType`` (``tns:Item[]``)."""
    item_type: FieldType = None
    array_attr = zeep_type._array_type
    array_type = getattr(array_attr, "array_type", None)
    if array_type is not None:
        item_type = compile_type(array_type, memo)
    if model.elements:
        return _replace(model.elements[0], item_type)
    return Field(key="item", tag="item", type=item_type, min_occurs=0, max_occurs=None)


def _replace(first: Field, item_type: FieldType) -> Field:
    return Field(first.key, first.tag, first.type if item_type is None else item_type, 0, None)


def _many(max_occurs: Any) -> bool:
    return max_occurs == "unbounded" or (isinstance(max_occurs, int) and max_occurs > 1)


def walk(model: FieldType) -> Iterable[ComplexType]:
    """Every complex type reachable from ``model``, each once."""
    seen: set[int] = set()
    stack = [model]
    while stack:
        node = stack.pop()
        if not isinstance(node, ComplexType) or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(f.type for f in node.elements)
        if node.array_item is not None:
            stack.append(node.array_item.type)
