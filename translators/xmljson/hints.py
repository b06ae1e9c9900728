"""Array and type hints: what a schema (or ``force_list``) says about elements.

The hint structure is deliberately plain so other schema-aware parts of Rosetta
(the SOAP translator reading a WSDL's schemas) can build or read it too: each
element is an :class:`ElementHint` whose ``children`` map local names to the
hints of child elements. Named XSD types share one ``children`` mapping, so a
recursive type is a cycle, not an infinite tree.

:meth:`SchemaHints.paths` gives the flat view, path of local names → hint::

    {"order": ElementHint(type=None), "order/line": ElementHint(is_list=True),
     "order/line/qty": ElementHint(type="int")}
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

__all__ = ["ElementHint", "SchemaHints", "build_plan"]


@dataclass(slots=True, eq=False)
class ElementHint:
    """What is known about one element.

    ``is_list``: always a JSON array (``maxOccurs`` > 1, or forced).
    ``type``: the XSD built-in type its text derives from (``"int"``,
    ``"decimal"``, ``"boolean"``, ``"dateTime"``, ``"base64Binary"``, ``"string"`` …),
    or ``None`` for elements with child elements or of unknown type.
    ``nillable``: the schema allows ``xsi:nil``. ``attributes``: attribute local
    name → built-in type. ``any``: the hint for children not named in ``children``.
    """

    is_list: bool = False
    type: str | None = None
    nillable: bool = False
    children: dict[str, ElementHint] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    any: ElementHint | None = None

    def __repr__(self) -> str:
        names = ", ".join(list(self.children)[:8])
        return f"ElementHint(is_list={self.is_list}, type={self.type!r}, children=[{names}])"


@dataclass(frozen=True, slots=True)
class SchemaHints:
    """The hints of one schema set: its global elements by local name.

    Example::

        hints = load_schema("xsd/inventory.xsd")
        hints.lookup("inventory/item").is_list   # True when maxOccurs > 1
    """

    roots: Mapping[str, ElementHint]

    def lookup(self, path: str) -> ElementHint | None:
        """The hint at a slash-separated path of local names from the root, or None."""
        node: ElementHint | None = ElementHint(children=dict(self.roots))
        for name in path.strip("/").split("/"):
            node = None if node is None else (node.children.get(name) or node.any)
        return node

    def paths(self, max_depth: int = 12) -> dict[str, ElementHint]:
        """Every path of local names (to ``max_depth`` levels, each type once per path)."""
        found: dict[str, ElementHint] = {}
        for name, hint in self.roots.items():
            for path, node in _walk(name, hint, max_depth, ()):
                found.setdefault(path, node)
        return found


def _walk(
    path: str, hint: ElementHint, depth: int, seen: tuple[int, ...]
) -> Iterator[tuple[str, ElementHint]]:
    yield path, hint
    if depth <= 1 or id(hint.children) in seen:
        return
    seen = (*seen, id(hint.children))
    for name, child in hint.children.items():
        yield from _walk(f"{path}/{name}", child, depth - 1, seen)


def build_plan(force_list: Iterable[str], hints: SchemaHints | None) -> ElementHint | None:
    """The document node the parser walks: schema roots with ``force_list`` laid over.

    ``force_list`` paths are slash-separated local names from the root element;
    ``*`` matches any one name. Nodes on a forced path are copied, so the
    schema's shared type nodes are never changed. None when there is nothing to hint.
    """
    paths = [p.strip("/").split("/") for p in force_list]
    if hints is None and not paths:
        return None
    document = ElementHint(children=dict(hints.roots) if hints else {})
    for segments in paths:
        _force(document, segments)
    return document


def _force(node: ElementHint, segments: list[str]) -> None:
    name, rest = segments[0], segments[1:]
    if name == "*":
        for child_name, child in node.children.items():
            node.children[child_name] = _forced_copy(child, rest)
        node.any = _forced_copy(node.any, rest)
    else:
        node.children[name] = _forced_copy(node.children.get(name) or node.any, rest)


def _forced_copy(hint: ElementHint | None, rest: list[str]) -> ElementHint:
    forced = copy.copy(hint) if hint is not None else ElementHint()
    forced.children = dict(forced.children)
    if rest:
        _force(forced, rest)
    else:
        forced.is_list = True
    return forced
