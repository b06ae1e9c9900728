"""gRPC status codes as HTTP statuses and problem details. Data and pure functions; no I/O.

The table follows Google's mapping, as published in ``google/rpc/code.proto``
(each code's "HTTP Mapping" comment), the API design guide
(https://cloud.google.com/apis/design/errors#handling_errors) and as applied by
grpc-gateway (``runtime.HTTPStatusFromCode``) and Envoy's transcoder
(``Grpc::Utility::grpcToHttpStatus``). A code outside the table maps to 500.

Each row also names the Rosetta error class, which fixes the problem ``type``:
the caller's mistakes as relayed by the upstream are ``upstream-rejected``,
the upstream's own failures ``upstream-fault``, and the two transport
conditions keep their usual types (``upstream-unreachable``, ``upstream-timeout``)::

    error_for(5, "no book 7", details=[...])   # UpstreamRejected, HTTP 404, grpc_status NOT_FOUND
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from google.protobuf import any_pb2, descriptor_pool, json_format, message_factory
from google.rpc import error_details_pb2, status_pb2  # noqa: F401 - registers the detail types

from gateway.errors import (
    GatewayError,
    GatewayTimeout,
    ServiceUnavailable,
    UpstreamFault,
    UpstreamRejected,
)

__all__ = ["CODES", "DETAILS_KEY", "Code", "decode_details", "error_for"]

#: The trailer carrying a serialized ``google.rpc.Status`` with typed details.
DETAILS_KEY = "grpc-status-details-bin"


class Code(NamedTuple):
    name: str
    http: int
    error: type[GatewayError]


CODES: Mapping[int, Code] = {
    0: Code("OK", 200, GatewayError),  # never raised: success
    1: Code("CANCELLED", 499, UpstreamRejected),  # 499 Client Closed Request
    2: Code("UNKNOWN", 500, UpstreamFault),
    3: Code("INVALID_ARGUMENT", 400, UpstreamRejected),
    4: Code("DEADLINE_EXCEEDED", 504, GatewayTimeout),
    5: Code("NOT_FOUND", 404, UpstreamRejected),
    6: Code("ALREADY_EXISTS", 409, UpstreamRejected),
    7: Code("PERMISSION_DENIED", 403, UpstreamRejected),
    8: Code("RESOURCE_EXHAUSTED", 429, UpstreamRejected),
    9: Code("FAILED_PRECONDITION", 400, UpstreamRejected),
    10: Code("ABORTED", 409, UpstreamRejected),
    11: Code("OUT_OF_RANGE", 400, UpstreamRejected),
    12: Code("UNIMPLEMENTED", 501, UpstreamFault),
    13: Code("INTERNAL", 500, UpstreamFault),
    14: Code("UNAVAILABLE", 503, ServiceUnavailable),
    15: Code("DATA_LOSS", 500, UpstreamFault),
    16: Code("UNAUTHENTICATED", 401, UpstreamRejected),
}
_UNKNOWN_CODE = Code("UNKNOWN", 500, UpstreamFault)


def error_for(
    code: int,
    message: str,
    *,
    upstream: str = "",
    details: Sequence[Any] = (),
    headers: Mapping[str, str] | None = None,
) -> GatewayError:
    """The Rosetta error for gRPC status ``code``: HTTP status by the table, gRPC facts as members."""
    row = CODES.get(code, _UNKNOWN_CODE)
    name = row.name if code in CODES else f"CODE_{code}"
    where = f"upstream '{upstream}'" if upstream else "the upstream"
    detail = f"{where} answered {name}: {message}" if message else f"{where} answered {name}"
    extra: dict[str, Any] = {"grpc_status": name, "grpc_code": code, "grpc_message": message}
    if details:
        extra["details"] = list(details)
    return row.error(detail, status=row.http, headers=dict(headers or {}), **extra)


def decode_details(raw: bytes, pool: descriptor_pool.DescriptorPool | None = None) -> list[Any]:
    """The ``details`` of a serialized ``google.rpc.Status`` as JSON objects with ``@type``.

    Known types (``google.rpc.BadRequest``, ``ErrorInfo`` … and any message in
    ``pool``) are decoded; others keep their bytes as base64 ``value``. A
    trailer that does not parse gives no details rather than an error.
    """
    try:
        status = status_pb2.Status.FromString(raw)
    except Exception:  # noqa: BLE001 - a malformed trailer must not hide the real status
        return []
    return [_detail(item, pool) for item in status.details]


def _detail(item: any_pb2.Any, pool: descriptor_pool.DescriptorPool | None) -> Any:
    type_name = item.type_url.rpartition("/")[2]
    for candidate in (pool, descriptor_pool.Default()):
        if candidate is None:
            continue
        try:
            descriptor = candidate.FindMessageTypeByName(type_name)
        except KeyError:
            continue
        message = message_factory.GetMessageClass(descriptor)()
        if item.Unpack(message):
            decoded = json_format.MessageToDict(message, descriptor_pool=candidate)
            if not isinstance(decoded, dict):
                decoded = {"value": decoded}
            return {"@type": item.type_url, **decoded}
    return {"@type": item.type_url, "value": base64.b64encode(item.value).decode("ascii")}
