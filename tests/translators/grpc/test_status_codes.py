"""Every gRPC status a real server returns becomes the HTTP status of Google's table, with details."""

from __future__ import annotations

import grpc
import pytest

from gateway.errors import GatewayError, problem_body
from gateway.testing import make_call
from tests.translators.grpc.conftest import op

# Google's mapping (google/rpc/code.proto), written out again by hand so the table is checked.
EXPECTED = {
    "CANCELLED": (499, "upstream-rejected"),
    "UNKNOWN": (500, "upstream-fault"),
    "INVALID_ARGUMENT": (400, "upstream-rejected"),
    "DEADLINE_EXCEEDED": (504, "upstream-timeout"),
    "NOT_FOUND": (404, "upstream-rejected"),
    "ALREADY_EXISTS": (409, "upstream-rejected"),
    "PERMISSION_DENIED": (403, "upstream-rejected"),
    "RESOURCE_EXHAUSTED": (429, "upstream-rejected"),
    "FAILED_PRECONDITION": (400, "upstream-rejected"),
    "ABORTED": (409, "upstream-rejected"),
    "OUT_OF_RANGE": (400, "upstream-rejected"),
    "UNIMPLEMENTED": (501, "upstream-fault"),
    "INTERNAL": (500, "upstream-fault"),
    "UNAVAILABLE": (503, "upstream-unreachable"),
    "DATA_LOSS": (500, "upstream-fault"),
    "UNAUTHENTICATED": (401, "upstream-rejected"),
}


def test_every_error_code_grpc_knows_is_expected_here():
    assert set(EXPECTED) == {c.name for c in grpc.StatusCode if c is not grpc.StatusCode.OK}


@pytest.mark.parametrize("code", sorted(EXPECTED))
async def test_a_status_from_the_server_maps_to_its_http_status(translator, code):
    call = make_call(op(translator, "Fail"), body=f'{{"code": "{code}", "message": "it went {code}"}}'.encode())
    with pytest.raises(GatewayError) as caught:
        await translator.handle(call)
    status, slug = EXPECTED[code]
    error = caught.value
    assert (error.http_status, error.slug) == (status, slug)
    body = problem_body(error, "rid")
    assert body["status"] == status and body["grpc_status"] == code
    assert body["grpc_message"] == f"it went {code}"
    assert code in body["detail"] and "details" not in body


async def test_status_details_are_decoded_into_the_problem(translator):
    operation = op(translator, "Fail", "POST", "/v1/fail/{code}")
    call = make_call(operation, path_params={"code": "INVALID_ARGUMENT"}, body=b'{"message": "bad name", "withDetails": true}')
    with pytest.raises(GatewayError) as caught:
        await translator.handle(call)
    details = problem_body(caught.value, "rid")["details"]
    assert details[0] == {
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": "name", "description": "must not be empty"}],
    }
    assert details[1]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert details[1]["reason"] == "TEST_REASON" and details[1]["metadata"] == {"k": "v"}


async def test_a_request_message_over_max_message_bytes_is_a_413_not_the_upstreams_status(make_translator):
    translator = await make_translator(max_message_bytes=1024)
    call = make_call(op(translator, "Echo"), body=f'{{"name": "{"x" * 2000}"}}'.encode())
    with pytest.raises(GatewayError) as caught:
        await translator.handle(call)
    assert (caught.value.http_status, caught.value.slug) == (413, "payload-too-large")
    assert "grpc_status" not in caught.value.extra  # grpc refused to send it; the upstream said nothing


async def test_a_reply_over_max_message_bytes_is_a_502_not_the_upstreams_status(make_translator):
    translator = await make_translator(max_message_bytes=1024, forward_headers=["x-pad"])
    call = make_call(op(translator, "Metadata"), headers=[("X-Pad", "p" * 1500)])  # echoed in the reply
    with pytest.raises(GatewayError) as caught:
        await translator.handle(call)
    assert (caught.value.http_status, caught.value.slug) == (502, "upstream-protocol")
    assert "max_message_bytes" in caught.value.detail and "grpc_status" not in caught.value.extra


async def test_a_stream_message_over_max_message_bytes_ends_the_stream_with_a_502(make_translator):
    translator = await make_translator(max_message_bytes=1024)
    # 1,024 bytes sent; the answer's doubled n takes one byte more (its varint grows from 8 to 9).
    big = f'{{"n": "{2**55}", "text": "{"b" * 1012}"}}'
    call = make_call(op(translator, "Chat"), body=f'{{"n": 1, "text": "a"}}\n{big}\n'.encode())
    reply = await translator.handle(call)
    last = b"".join([chunk async for chunk in reply.stream]).splitlines()[-1]
    assert b'"status":502' in last and b"max_message_bytes" in last
