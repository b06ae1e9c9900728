"""The one error tree of Rosetta.

Every error Rosetta produces itself is rendered as an RFC 9457
``application/problem+json`` document by :func:`problem_body`. Each class knows
its HTTP status, its stable problem ``type`` and its ``title``::

    GatewayError                      500 internal
    ├── ClientError                   4xx: the caller can fix it
    │   ├── BadRequest                400 bad-request
    │   │   ├── MalformedBody         400 malformed-body      (JSON/XML that does not parse)
    │   │   ├── InvalidArguments      400 invalid-arguments   (wrong field, type, missing field)
    │   │   ├── InvalidHeader         400 invalid-header
    │   │   └── InvalidPath           400 invalid-path        ('..' above the root, '..;x')
    │   ├── Unauthorized              401 unauthorized
    │   ├── Forbidden                 403 forbidden
    │   ├── NotFound                  404 no-route
    │   │   └── UnknownOperation      404 unknown-operation
    │   ├── MethodNotAllowed          405 method-not-allowed
    │   ├── PayloadTooLarge           413 payload-too-large
    │   ├── UriTooLong                414 uri-too-long        (the request line alone over the head limit)
    │   ├── UnsupportedMediaType      415 unsupported-media-type
    │   ├── ExpectationFailed         417 expectation-failed  (an ``Expect`` other than 100-continue)
    │   ├── UpstreamRejected          422 upstream-rejected   (e.g. a SOAP Client fault)
    │   ├── TooManyRequests           429 rate-limited
    │   └── HeadersTooLarge           431 headers-too-large
    ├── MethodNotImplemented          501 method-not-implemented (a method Rosetta does not implement)
    └── UpstreamError                 5xx: the backend or the way to it failed
        ├── BadGateway                502 upstream-protocol   (malformed or lying reply)
        │   └── UpstreamFault         502 upstream-fault      (SOAP Server fault, gRPC error)
        ├── ServiceUnavailable        503 upstream-unreachable
        │   ├── Overloaded            503 overloaded          (bulkhead full)
        │   │   └── CircuitOpen       503 overloaded          (breaker open; gateway.resilience.guard)
        │   ├── LimitsUnavailable     503 limits-unavailable  (counter storage down, mode deny;
        │   │                                                  in gateway.limits)
        │   └── AuthUnavailable       503 auth-unavailable    (an issuer's keys not fetched yet;
        │                                                      in gateway.auth.gate)
        └── GatewayTimeout            504 upstream-timeout

A translator raises these (or sets ``status`` on an instance, e.g. for a gRPC
status) and never lets a foreign exception out: it maps them at one boundary.

Example::

    raise InvalidArguments("field 'intA' must be an integer (xsd:int)",
                           errors=[{"field": "intA", "expected": "xsd:int"}])
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "BadGateway",
    "BadRequest",
    "ClientError",
    "ExpectationFailed",
    "Forbidden",
    "GatewayError",
    "GatewayTimeout",
    "HeadersTooLarge",
    "InvalidArguments",
    "InvalidHeader",
    "InvalidPath",
    "MalformedBody",
    "MethodNotAllowed",
    "MethodNotImplemented",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "UnknownOperation",
    "UnsupportedMediaType",
    "UpstreamError",
    "UpstreamFault",
    "UpstreamRejected",
    "UriTooLong",
    "problem_body",
    "problem_type",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"
_TYPE_BASE = "urn:rosetta:problem:"


def problem_type(slug: str) -> str:
    """The stable problem ``type`` URI for a slug: ``urn:rosetta:problem:<slug>``."""
    return _TYPE_BASE + slug


class GatewayError(Exception):
    """Base of every error Rosetta reports to a caller.

    ``detail`` is a human sentence safe to show the caller (never a secret,
    never a stack trace). ``extra`` holds problem extension members
    (``errors``, ``faultcode``, ``grpc_status`` …). ``headers`` are added to
    the response (``Retry-After``, ``WWW-Authenticate`` …).
    """

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal gateway error"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.http_status = status if status is not None else self.status
        self.headers = dict(headers or {})
        self.extra = extra

    @property
    def type(self) -> str:
        return problem_type(self.slug)


class ClientError(GatewayError):
    status = 400
    slug = "bad-request"
    title = "Bad request"


class BadRequest(ClientError):
    pass


class MalformedBody(BadRequest):
    slug = "malformed-body"
    title = "Malformed request body"


class InvalidArguments(BadRequest):
    slug = "invalid-arguments"
    title = "Invalid arguments"


class InvalidHeader(BadRequest):
    slug = "invalid-header"
    title = "Invalid header"


class InvalidPath(BadRequest):
    slug = "invalid-path"
    title = "Invalid path"


class Unauthorized(ClientError):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"


class Forbidden(ClientError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(ClientError):
    status = 404
    slug = "no-route"
    title = "No route"


class UnknownOperation(NotFound):
    slug = "unknown-operation"
    title = "Unknown operation"


class MethodNotAllowed(ClientError):
    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


class PayloadTooLarge(ClientError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class UriTooLong(ClientError):
    status = 414
    slug = "uri-too-long"
    title = "URI too long"


class UnsupportedMediaType(ClientError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class ExpectationFailed(ClientError):
    status = 417
    slug = "expectation-failed"
    title = "Expectation failed"


class UpstreamRejected(ClientError):
    status = 422
    slug = "upstream-rejected"
    title = "Upstream rejected the request"


class TooManyRequests(ClientError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"


class HeadersTooLarge(ClientError):
    status = 431
    slug = "headers-too-large"
    title = "Request header fields too large"


class MethodNotImplemented(GatewayError):
    """A method Rosetta does not implement on any path (RFC 9110 §9.1 and §15.6.2: 501, not 405)."""

    status = 501
    slug = "method-not-implemented"
    title = "Method not implemented"


class UpstreamError(GatewayError):
    status = 502
    slug = "upstream-error"
    title = "Upstream error"


class BadGateway(UpstreamError):
    status = 502
    slug = "upstream-protocol"
    title = "Upstream broke the protocol"


class UpstreamFault(BadGateway):
    slug = "upstream-fault"
    title = "Upstream reported a fault"


class ServiceUnavailable(UpstreamError):
    status = 503
    slug = "upstream-unreachable"
    title = "Upstream unreachable"


class Overloaded(ServiceUnavailable):
    slug = "overloaded"
    title = "Upstream overloaded"


class GatewayTimeout(UpstreamError):
    status = 504
    slug = "upstream-timeout"
    title = "Upstream timeout"


def problem_body(error: GatewayError, request_id: str | None, instance: str | None = None) -> dict[str, Any]:
    """The RFC 9457 document for ``error``; extension members never override the core ones."""
    body: dict[str, Any] = dict(error.extra)
    body.update(
        type=error.type,
        title=error.title,
        status=error.http_status,
        detail=error.detail,
    )
    if instance is not None:
        body["instance"] = instance
    if request_id is not None:
        body["request_id"] = request_id
    return body
