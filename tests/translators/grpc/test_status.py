"""The gRPC status table and the one exception boundary: complete, and cited codes map as published."""

from __future__ import annotations

import inspect

import grpc
import grpc.aio
import pytest
from google.protobuf import any_pb2
from google.protobuf import message as protobuf_message
from google.rpc import error_details_pb2, status_pb2

from gateway.errors import GatewayError
from translators.grpc.boundary import ERROR_TABLE, LOCAL_STATUSES, ErrorContext, to_gateway_error
from translators.grpc.status import CODES, decode_details, error_for


def test_the_table_has_a_row_for_every_grpc_status_code():
    assert {c.value[0] for c in grpc.StatusCode} == set(CODES)
    assert all(CODES[c.value[0]].name == c.name for c in grpc.StatusCode)


def test_an_unknown_code_maps_to_500():
    error = error_for(42, "odd")
    assert error.http_status == 500 and error.extra["grpc_status"] == "CODE_42"


def _exception_classes():
    for module in (grpc, grpc.aio):
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException):
                yield obj
    yield protobuf_message.EncodeError
    yield protobuf_message.DecodeError


def _instance(kind: type[BaseException]) -> BaseException:
    if kind is grpc.aio.AioRpcError:
        return grpc.aio.AioRpcError(grpc.StatusCode.NOT_FOUND, grpc.aio.Metadata(), grpc.aio.Metadata(), "gone")
    return kind.__new__(kind)


@pytest.mark.parametrize("kind", list(_exception_classes()), ids=lambda k: k.__qualname__)
def test_every_grpc_exception_class_has_a_row_in_the_boundary_table(kind):
    assert any(issubclass(kind, listed) for listed, _ in ERROR_TABLE)
    error = to_gateway_error(_instance(kind), ErrorContext("up"))
    assert isinstance(error, GatewayError) and 400 <= error.http_status <= 599


def test_an_rpc_error_keeps_its_status_and_reads_configured_trailers():
    trailers = grpc.aio.Metadata(("x-retry", "later"), ("x-secret", "no"))
    exc = grpc.aio.AioRpcError(grpc.StatusCode.NOT_FOUND, grpc.aio.Metadata(), trailers, "no book")
    error = to_gateway_error(exc, ErrorContext("lib", response_metadata=frozenset({"x-retry"})))
    assert error.http_status == 404 and error.headers == {"x-retry": "later"}
    assert "lib" in error.detail and "no book" in error.detail


# grpc core's words for each status its client makes up itself, as it writes them.
GRPC_OWN_WORDS = {
    "CLIENT: Sent message larger than max": ("CLIENT: Sent message larger than max (2003 vs. 1024)", 413),
    "CLIENT: Received message larger than max": ("Stream removed (CLIENT: Received message larger than max (1025 vs. 1024))", 502),
    "Stream removed (received metadata size exceeds": (
        "Stream removed (received metadata size exceeds hard limit (value length 20000 vs. 16384))",
        502,
    ),
}


def test_every_status_grpc_makes_up_itself_has_its_words_here():
    assert {words for _, words, _, _ in LOCAL_STATUSES} == set(GRPC_OWN_WORDS)


@pytest.mark.parametrize("words", sorted(GRPC_OWN_WORDS))
def test_a_status_grpc_made_up_itself_is_not_reported_as_the_upstreams(words):
    message, status = GRPC_OWN_WORDS[words]
    exc = grpc.aio.AioRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.aio.Metadata(), grpc.aio.Metadata(), message)
    error = to_gateway_error(exc, ErrorContext("lib"))
    assert error.http_status == status and "grpc_status" not in error.extra
    assert "'lib'" in error.detail and "answered" not in error.detail


def test_the_upstreams_own_resource_exhausted_stays_a_429():
    exc = grpc.aio.AioRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.aio.Metadata(), grpc.aio.Metadata(), "quota used up")
    error = to_gateway_error(exc, ErrorContext("lib"))
    assert error.http_status == 429 and error.extra["grpc_status"] == "RESOURCE_EXHAUSTED"


def test_details_of_unknown_types_keep_their_bytes():
    packed = any_pb2.Any(type_url="type.googleapis.com/acme.Secret", value=b"\x01\x02")
    raw = status_pb2.Status(code=5, details=[packed]).SerializeToString()
    assert decode_details(raw) == [{"@type": "type.googleapis.com/acme.Secret", "value": "AQI="}]


def test_known_details_are_decoded():
    packed = any_pb2.Any()
    packed.Pack(error_details_pb2.RetryInfo(retry_delay={"seconds": 3}))
    raw = status_pb2.Status(code=14, details=[packed]).SerializeToString()
    assert decode_details(raw) == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}]


def test_a_malformed_details_trailer_gives_no_details():
    assert decode_details(b"\xff\xff\xff") == []
