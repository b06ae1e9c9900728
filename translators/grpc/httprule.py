"""``google.api.http`` rules: bindings read from a method, and requests assembled by them. No I/O.

A rule (with its ``additional_bindings``) gives one :class:`Binding` each:
an HTTP method, a path template in Google's syntax, and which part of the
request message the HTTP body fills. :func:`assemble` builds the request
message's JSON the way grpc-gateway and Envoy's transcoder read a rule:

* path variables set the fields they name (``{shelf.id}``, ``{name=shelves/*}``);
* ``body: "*"`` — the body is the whole message (no query parameters);
* ``body: "field"`` — the body is that field; query parameters fill the rest;
* no body — query parameters fill every field the path does not
  (nested ``a.b=1``, repeated ``x=1&x=2``).

Path variables win over query parameters, which win over the body (as for
every Rosetta translator). An unknown query parameter is a 400 naming it
(unless unknown fields are ignored)::

    assemble(descriptor, "nested", {"name": "b1"}, {"tags": ["x"]}, {"note": "hi"}, ignore_unknown=False)
    # {"name": "b1", "tags": ["x"], "nested": {"note": "hi"}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.api import http_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from translators.grpc.codec import find_field, param_value
from translators.grpc.fielderrors import describe, invalid

__all__ = ["Binding", "assemble", "bindings", "pick_response"]


@dataclass(frozen=True, slots=True)
class Binding:
    """One HTTP binding of a method: ``index`` 0 is the rule itself, 1… its additional bindings."""

    method: str
    path: str
    body: str
    response_body: str
    index: int


_VERBS = ("get", "put", "post", "delete", "patch")


def bindings(rule: http_pb2.HttpRule | None) -> list[Binding]:
    """Every binding of ``rule`` (none for ``None`` or a rule without a pattern)."""
    if rule is None:
        return []
    found = []
    for index, item in enumerate([rule, *rule.additional_bindings]):
        pattern = item.WhichOneof("pattern")
        if pattern is None:
            continue
        if pattern == "custom":
            method, path = item.custom.kind.upper(), item.custom.path
        else:
            method, path = pattern.upper(), getattr(item, pattern)
        found.append(Binding(method, path, item.body, item.response_body, index))
    return found


def assemble(
    message: Descriptor,
    body_field: str,
    path_params: Mapping[str, str],
    query: Mapping[str, Sequence[str]],
    body: Any,
    *,
    ignore_unknown: bool,
    query_with_body: bool = False,
) -> dict[str, Any]:
    """The request message's JSON from path variables, query parameters and parsed body.

    ``body_field`` is the binding's ``body`` ("*", a field name, or "" for
    none). ``query_with_body`` lets query parameters fill fields even when
    the body is the whole message (Rosetta's default ``POST`` route does).
    """
    data = _body_json(message, body_field, body)
    if query and (body_field != "*" or query_with_body):
        _apply_query(message, data, query, ignore_unknown)
    elif query and not ignore_unknown:
        first = next(iter(query))
        raise invalid(first, "unknown query parameter: this binding takes the whole request in the body")
    for name, value in path_params.items():
        _set(message, data, name, [value], where=name, from_path=True)
    return data


def _body_json(message: Descriptor, body_field: str, body: Any) -> dict[str, Any]:
    if body_field == "":
        return {}
    if body_field == "*":
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise invalid("", "the request body must be a JSON object")
        return dict(body)
    # A dotted body ("payload.input_value", as grpc-gateway reads it) nests the value.
    *parents, leaf = body_field.split(".")
    data: dict[str, Any] = {}
    node, current = data, message
    for part in parents:
        field = current.fields_by_name.get(part)
        if field is None or field.message_type is None or field.is_repeated:
            raise invalid(body_field, "the HTTP rule names a body field the message does not have")
        node = node.setdefault(field.json_name, {})
        current = field.message_type
    field = current.fields_by_name.get(leaf)
    if field is None:  # protoc has already checked the rule; keep the error readable anyway
        raise invalid(body_field, "the HTTP rule names a body field the message does not have")
    if body is not None:
        node[field.json_name] = body
    return data


def _apply_query(
    message: Descriptor,
    data: dict[str, Any],
    query: Mapping[str, Sequence[str]],
    ignore_unknown: bool,
) -> None:
    for name, values in query.items():
        try:
            _set(message, data, name, values, where=name, from_path=False)
        except _Unknown:
            if not ignore_unknown:
                raise invalid(name, "unknown query parameter") from None


class _Unknown(Exception):
    pass


def _set(
    message: Descriptor, data: dict[str, Any], dotted: str, values: Sequence[str], *, where: str, from_path: bool
) -> None:
    """Set field path ``dotted`` (proto or JSON spellings) to the parameter ``values``."""
    *parents, leaf = dotted.split(".")
    node, current = data, message
    for part in parents:
        field = find_field(current, part)
        if field is None:
            raise _Unknown(part) if not from_path else invalid(where, "the path names an unknown field")
        if field.message_type is None or field.is_repeated or field.message_type.GetOptions().map_entry:
            raise invalid(where, f"'{part}' is {describe(field)}, which has no fields to set")
        key = _key(node, field)
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node, current = child, field.message_type
    field = find_field(current, leaf)
    if field is None:
        raise _Unknown(leaf) if not from_path else invalid(where, "the path names an unknown field")
    node[_key(node, field)] = _value(field, values, where)


def _key(node: Mapping[str, Any], field: FieldDescriptor) -> str:
    """The key ``field`` already has in ``node`` (so a parameter overrides the body), else its JSON name."""
    return field.name if field.name in node else field.json_name


def _value(field: FieldDescriptor, values: Sequence[str], where: str) -> Any:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        raise invalid(where, "a map cannot be given as a parameter")
    if field.is_repeated:
        return [param_value(field, v, where) for v in values]
    if len(values) != 1:
        raise invalid(where, "given more than once, but takes one value")
    return param_value(field, values[0], where)


def pick_response(message: Descriptor, encoded: dict[str, Any], response_body: str, proto_names: bool) -> Any:
    """The part of an encoded response a binding's ``response_body`` selects.

    ``encoded`` must print unpopulated fields, so only an unset message
    field (``{}``) or unset optional scalar (``null``) can be missing.
    """
    if not response_body:
        return encoded
    field = message.fields_by_name[response_body]
    key = field.name if proto_names else field.json_name
    if key in encoded:
        return encoded[key]
    return {} if field.message_type is not None and not field.is_repeated else None
