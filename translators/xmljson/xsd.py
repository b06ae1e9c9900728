"""Load array and type hints from an XSD file, or from the schemas inside a WSDL.

This is the codec's only I/O, done once at start-up: the schema file is read
with a safe parser, and its ``xs:include``/``xs:import`` (and a WSDL's
``wsdl:import``) are followed to local files relative to it. Remote locations
(``http://…``) are never fetched; their types are simply unknown (no hints).

Example::

    hints = load_schema("xsd/inventory.xsd")
    xml_to_dict(body, options, hints)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lxml import etree

from translators.xmljson._xsdcompile import XS_NS, compile_schemas
from translators.xmljson.hints import SchemaHints

__all__ = ["SchemaError", "hints_from_schemas", "load_schema"]

_WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
_MAX_FILES = 256
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


class SchemaError(Exception):
    """A schema file is missing, unreadable or not an XSD/WSDL; the message names the file."""


def load_schema(path: str | Path) -> SchemaHints:
    """Hints from an ``.xsd`` file or a WSDL's ``wsdl:types`` (with their local imports)."""
    return compile_schemas(_collect(Path(path)))


def hints_from_schemas(schemas: Iterable[Any]) -> SchemaHints:
    """Hints from already parsed ``xs:schema`` elements (e.g. a WSDL's, read by its loader)."""
    return compile_schemas((schema, schema.get("targetNamespace", "")) for schema in schemas)


def _collect(start: Path) -> list[tuple[Any, str]]:
    """Every schema reachable from ``start``, with its (possibly inherited) namespace."""
    found: list[tuple[Any, str]] = []
    queue: list[tuple[Path, str | None]] = [(start, None)]
    seen: set[Path] = set()
    while queue:
        path, inherited = queue.pop(0)
        path = path.resolve()
        if path in seen:
            continue
        if len(seen) >= _MAX_FILES:
            raise SchemaError(f"{start}: more than {_MAX_FILES} schema files")
        seen.add(path)
        root = _read(path)
        for schema in _schemas_in(root):
            namespace = schema.get("targetNamespace") or inherited or ""
            found.append((schema, namespace))
            queue.extend(_references(schema, path, namespace))
        if root.tag == f"{{{_WSDL_NS}}}definitions":
            queue.extend(_wsdl_imports(root, path))
    return found


def _read(path: Path) -> Any:
    try:
        return etree.parse(str(path), _PARSER).getroot()
    except OSError as exc:
        raise SchemaError(f"{path}: cannot read schema: {exc}") from None
    except etree.XMLSyntaxError as exc:
        raise SchemaError(f"{path}: not well-formed XML: {exc}") from None


def _schemas_in(root: Any) -> list[Any]:
    if root.tag == f"{{{XS_NS}}}schema":
        return [root]
    if root.tag == f"{{{_WSDL_NS}}}definitions":
        return list(root.iterfind(f"{{{_WSDL_NS}}}types/{{{XS_NS}}}schema"))
    raise SchemaError(f"{root.base}: neither an XSD (xs:schema) nor a WSDL 1.1 document")


def _references(schema: Any, path: Path, namespace: str) -> list[tuple[Path, str | None]]:
    """Local include/import/redefine targets; includes inherit the namespace."""
    targets = []
    for node in schema:
        kind = etree.QName(node).localname if isinstance(node.tag, str) else ""
        location = node.get("schemaLocation")
        if kind in ("include", "import", "redefine") and location and _is_local(location):
            targets.append((path.parent / location, namespace if kind != "import" else None))
    return targets


def _wsdl_imports(root: Any, path: Path) -> list[tuple[Path, str | None]]:
    return [
        (path.parent / node.get("location"), None)
        for node in root.iterfind(f"{{{_WSDL_NS}}}import")
        if node.get("location") and _is_local(node.get("location"))
    ]


def _is_local(location: str) -> bool:
    return "://" not in location and not location.startswith("//")
