"""XSD schema documents → :class:`ElementHint` graph (pure; the loader reads files).

Covered: global and local elements, ``ref``, named and anonymous complex and
simple types, ``sequence``/``choice``/``all`` (a repeated group repeats every
element in it), ``group`` and ``attributeGroup`` refs, ``complexContent`` and
``simpleContent`` extension/restriction, simple type restrictions down to a
built-in base (``list``/``union`` → string), ``xs:any`` (children take their
global declaration). Not covered: substitution groups,
``xsi:type`` polymorphism, ``redefine``/``override``, identity constraints.

Compiled in two phases so recursive types work: every named type first gets
its (empty) ``children``/``attributes`` mappings and its text type, then the
mappings are filled; element hints share their type's mappings.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from translators.xmljson.hints import ElementHint, SchemaHints

__all__ = ["XS_NS", "compile_schemas"]

XS_NS = "http://www.w3.org/2001/XMLSchema"
_QName = tuple[str, str]
_KINDS = ("element", "complexType", "simpleType", "group", "attributeGroup", "attribute")
_GROUPS = ("sequence", "choice", "all")
_MAX_CHAIN = 64  # simple type derivation chains longer than this are cut (and invalid)


@dataclass(slots=True, eq=False)
class _Type:
    node: Any
    text_type: str | None = None
    children: dict[str, ElementHint] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    state: int = 0  # 0 not filled, 1 filling, 2 filled


def _local(node: Any) -> str:
    tag = node.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _max_occurs(node: Any) -> float:
    value = node.get("maxOccurs", "1")
    if value == "unbounded":
        return float("inf")
    return int(value) if value.isdigit() else 1


def _builtin(local: str) -> str | None:
    return None if local == "anyType" else ("string" if local == "anySimpleType" else local)


def compile_schemas(schemas: Iterable[tuple[Any, str]]) -> SchemaHints:
    """Hints for ``(xs:schema element, target namespace)`` pairs, all of one schema set."""
    return _Compiler(schemas).compile()


class _Compiler:
    def __init__(self, schemas: Iterable[tuple[Any, str]]) -> None:
        self.defs: dict[str, dict[_QName, Any]] = {kind: {} for kind in _KINDS}
        self.by_local: dict[str, dict[str, Any]] = {kind: {} for kind in _KINDS}
        for schema, namespace in schemas:
            for node in schema:
                kind, name = _local(node), node.get("name")
                if kind in self.defs and name:
                    self.defs[kind].setdefault((namespace, name), node)
                    self.by_local[kind].setdefault(name, node)
        self.types: dict[_QName, _Type] = {}
        self.types_by_node: dict[int, _Type] = {}
        self.globals: dict[_QName, ElementHint] = {}
        self.anonymous: list[_Type] = []

    def compile(self) -> SchemaHints:
        for qname, node in self.defs["simpleType"].items():
            self.types[qname] = _Type(node, self._simple_base(node, 0), state=2)
        for qname, node in self.defs["complexType"].items():
            self.types[qname] = _Type(node)
        self.types_by_node = {id(t.node): t for t in self.types.values()}
        for complex_type in self.types.values():
            if complex_type.state == 0:
                complex_type.text_type = self._simple_content_type(complex_type.node, 0)
        for qname, node in self.defs["element"].items():
            self.globals[qname] = self._declare(node, False, defer=True)
        for complex_type in list(self.types.values()):
            self._fill(complex_type)
        for anonymous in self.anonymous:
            self._fill(anonymous)
        roots: dict[str, ElementHint] = {}
        for (_, name), hint in self.globals.items():
            roots.setdefault(name, hint)
        return SchemaHints(roots)

    # -- lookups -------------------------------------------------------------

    def _qname(self, node: Any, value: str) -> _QName:
        prefix, _, local = value.rpartition(":")
        return node.nsmap.get(prefix or None) or "", local

    def _find(self, kind: str, qname: _QName) -> Any:
        """A definition by QName; by local name alone when namespaces do not line up."""
        found = self.defs[kind].get(qname)
        return found if found is not None else self.by_local[kind].get(qname[1])

    def _named_type(self, qname: _QName) -> _Type | None:
        found = self.types.get(qname)
        if found is None:
            node = self._find("complexType", qname)
            if node is None:
                node = self._find("simpleType", qname)
            found = self.types_by_node.get(id(node))
        return found

    # -- simple types ----------------------------------------------------------

    def _type_text(self, node: Any, value: str, depth: int) -> str | None:
        """The built-in type that the type named ``value`` (in ``node``'s scope) boils down to."""
        qname = self._qname(node, value)
        if qname[0] == XS_NS:
            return _builtin(qname[1])
        named = self._find("simpleType", qname)
        if named is not None:
            return self._simple_base(named, depth + 1)
        complex_node = self._find("complexType", qname)
        return None if complex_node is None else self._simple_content_type(complex_node, depth + 1)

    def _simple_base(self, node: Any, depth: int) -> str | None:
        if depth > _MAX_CHAIN:
            return "string"
        for child in node:
            kind = _local(child)
            if kind in ("list", "union"):
                return "string"
            if kind == "restriction":
                if child.get("base"):
                    return self._type_text(child, child.get("base"), depth)
                inline = next((c for c in child if _local(c) == "simpleType"), None)
                return "string" if inline is None else self._simple_base(inline, depth + 1)
        return "string"

    def _simple_content_type(self, node: Any, depth: int) -> str | None:
        if depth > _MAX_CHAIN:
            return None
        for child in node:
            if _local(child) == "simpleContent":
                for derivation in child:
                    if derivation.get("base"):
                        return self._type_text(derivation, derivation.get("base"), depth)
        return None

    # -- elements --------------------------------------------------------------

    def _declare(self, node: Any, is_list: bool, defer: bool = False) -> ElementHint:
        """The hint of one element declaration (not a ref)."""
        nillable = node.get("nillable") in ("true", "1")
        if node.get("type"):
            qname = self._qname(node, node.get("type"))
            if qname[0] == XS_NS:
                return ElementHint(is_list, _builtin(qname[1]), nillable)
            named = self._named_type(qname)
            if named is None:
                return ElementHint(is_list, None, nillable)
            return ElementHint(is_list, named.text_type, nillable, named.children, named.attributes)
        for child in node:
            if _local(child) == "simpleType":
                return ElementHint(is_list, self._simple_base(child, 0), nillable)
            if _local(child) == "complexType":
                anonymous = _Type(child, self._simple_content_type(child, 0))
                if defer:
                    self.anonymous.append(anonymous)
                else:
                    self._fill(anonymous)
                hint = ElementHint(is_list, anonymous.text_type, nillable)
                hint.children, hint.attributes = anonymous.children, anonymous.attributes
                return hint
        return ElementHint(is_list, None, nillable)

    def _add(self, children: dict[str, ElementHint], node: Any, is_list: bool) -> None:
        if node.get("ref"):
            qname = self._qname(node, node.get("ref"))
            target = self.globals.get(qname) or self._global_by_local(qname[1])
            hint = copy.copy(target) if target is not None else ElementHint()
            hint.is_list, name = is_list, qname[1]
        else:
            hint, name = self._declare(node, is_list), node.get("name", "")
        existing = children.get(name)
        if existing is None:
            children[name] = hint
        else:  # the same name in two branches of a choice
            existing.is_list = existing.is_list or hint.is_list

    def _global_by_local(self, local: str) -> ElementHint | None:
        return next((h for (_, name), h in self.globals.items() if name == local), None)

    # -- content models --------------------------------------------------------

    def _fill(self, target: _Type) -> None:
        if target.state:
            return
        target.state = 1
        self._content(target.node, target)
        target.state = 2

    def _content(self, node: Any, target: _Type) -> None:
        for child in node:
            kind = _local(child)
            if kind in _GROUPS or kind == "group":
                self._particles([child], target.children, False)
            elif kind in ("attribute", "attributeGroup"):
                self._attributes([child], target.attributes, 0)
            elif kind in ("complexContent", "simpleContent"):
                for derivation in child:
                    self._derive(derivation, target, kind == "complexContent")

    def _derive(self, derivation: Any, target: _Type, complex_content: bool) -> None:
        if derivation.get("base"):
            base = self._named_type(self._qname(derivation, derivation.get("base")))
            if base is not None and base is not target:
                self._fill(base)
                if complex_content and _local(derivation) == "extension":
                    target.children.update(base.children)
                target.attributes.update(base.attributes)
        self._content(derivation, target)

    def _particles(
        self, nodes: Iterable[Any], children: dict[str, ElementHint], repeated: bool
    ) -> None:
        for node in nodes:
            kind = _local(node)
            is_list = repeated or _max_occurs(node) > 1
            if kind == "element":
                self._add(children, node, is_list)
            elif kind in _GROUPS:
                self._particles(node, children, is_list)
            elif kind == "group" and node.get("ref"):
                group = self._find("group", self._qname(node, node.get("ref")))
                if group is not None:
                    self._particles(group, children, is_list)
            elif kind == "any" and node.get("processContents") != "skip":
                self._wildcard(children)

    def _wildcard(self, children: dict[str, ElementHint]) -> None:
        """``xs:any``: a child is hinted by its global declaration, if there is one.

        The wildcard's own ``maxOccurs`` is not applied: a SOAP Body's one
        response element stays an object.
        """
        for (_, name), hint in self.globals.items():
            if name not in children:
                children[name] = copy.copy(hint)

    def _attributes(self, nodes: Iterable[Any], attributes: dict[str, str], depth: int) -> None:
        for node in nodes:
            kind = _local(node)
            if kind == "attribute":
                self._attribute(node, attributes)
            elif kind == "attributeGroup" and node.get("ref") and depth < _MAX_CHAIN:
                group = self._find("attributeGroup", self._qname(node, node.get("ref")))
                if group is not None:
                    self._attributes(group, attributes, depth + 1)

    def _attribute(self, node: Any, attributes: dict[str, str]) -> None:
        if node.get("ref"):
            qname = self._qname(node, node.get("ref"))
            declaration = self._find("attribute", qname)
            name = qname[1]
        else:
            declaration, name = node, node.get("name", "")
        xsd_type = None
        if declaration is not None and declaration.get("type"):
            xsd_type = self._type_text(declaration, declaration.get("type"), 0)
        elif declaration is not None:
            inline = next((c for c in declaration if _local(c) == "simpleType"), None)
            xsd_type = None if inline is None else self._simple_base(inline, 0)
        if xsd_type is not None:
            attributes[name] = xsd_type
