"""The operations a gRPC upstream exposes under a prefix route. No I/O.

Every method gets ``POST /{package.Service}/{Method}`` (the JSON body is the
whole request message), and each ``google.api.http`` binding, additional
ones included, one more operation with the same name, its own HTTP method and
path template, and ``extra = {"body", "response_body", "binding"}``::

    Operation(name="library.v1.Library/GetBook", method="GET",
              path="/v1/{name=shelves/*/books/*}",
              extra={"body": "", "response_body": "", "binding": 0})
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gateway.plugin import Operation
from gateway.routing import TemplateError, compile_template
from translators.grpc.descriptors import MethodInfo, ServiceSet
from translators.grpc.httprule import Binding, bindings
from translators.grpc.schema import message_schema

__all__ = ["DEFAULT_BINDING", "build_operations"]

#: ``extra`` of the default ``POST /{package.Service}/{Method}`` operation.
DEFAULT_BINDING: dict[str, Any] = {"body": "*", "response_body": "", "binding": None}

_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def build_operations(
    services: ServiceSet, *, proto_names: bool = False, skipped: list[str] | None = None
) -> list[Operation]:
    """Every operation of ``services``.

    A binding whose path template Rosetta's router cannot read is left out
    (its method stays reachable by ``POST``) and described in ``skipped``.
    """
    operations: list[Operation] = []
    for method in services.methods:
        operations += _method_operations(method, proto_names, skipped if skipped is not None else [])
    return operations


def _method_operations(method: MethodInfo, proto_names: bool, skipped: list[str]) -> list[Operation]:
    base = Operation(
        name=method.name,
        method="POST",
        path=method.wire_path,
        request_schema=message_schema(method.input.DESCRIPTOR, proto_names=proto_names),
        response_schema=message_schema(method.output.DESCRIPTOR, proto_names=proto_names),
        summary=_summary(method),
        idempotent=method.idempotent,
        streaming=method.streaming,
        extra=DEFAULT_BINDING,
    )
    found = [base]
    for binding in bindings(method.http):
        problem = _template_problem(method, binding)
        if problem is not None:
            skipped.append(problem)
            continue
        found.append(
            replace(
                base,
                method=binding.method,
                path=binding.path,
                response_schema=_pick(dict(base.response_schema), method, binding, proto_names),
                idempotent=method.idempotent or binding.method in _SAFE,
                extra={"body": binding.body, "response_body": binding.response_body, "binding": binding.index},
            )
        )
    return found


def _template_problem(method: MethodInfo, binding: Binding) -> str | None:
    try:
        compile_template(binding.path)
    except TemplateError as exc:
        return f"{method.name}: HTTP rule {binding.method} {binding.path!r} left out: {exc}"
    return None


def _summary(method: MethodInfo) -> str:
    kind = f" ({method.streaming} streaming)" if method.streaming else ""
    return f"gRPC {method.name}{kind}"


def _pick(response: dict[str, Any], method: MethodInfo, binding: Binding, proto_names: bool) -> dict[str, Any]:
    if not binding.response_body:
        return response
    field = method.output.DESCRIPTOR.fields_by_name[binding.response_body]
    root = response.get("$defs", {}).get(method.output.DESCRIPTOR.full_name, {})
    key = field.name if proto_names else field.json_name
    chosen = dict(root.get("properties", {}).get(key, {}))
    if "$defs" in response:
        chosen["$defs"] = response["$defs"]
    return chosen
