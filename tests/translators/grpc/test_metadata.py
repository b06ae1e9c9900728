"""Metadata Rosetta sends: what keys and values may carry, configured values and forwarded headers."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidHeader
from gateway.testing import make_call
from tests.translators.grpc.conftest import op
from translators.grpc.metadata import key_problem, outgoing


@pytest.mark.parametrize("key", ["x-tenant", "x_y.z-1", "x-trace-bin"])
def test_lower_case_keys_grpc_does_not_set_itself_are_accepted(key):
    assert key_problem(key) is None


@pytest.mark.parametrize("key", ["Bad", "a b", ":authority", "grpc-timeout", "content-type", "te", "user-agent"])
def test_keys_grpc_refuses_or_sets_itself_are_refused(key):
    assert key_problem(key)


def test_text_values_pass_unchanged_and_binary_ones_are_decoded_from_base64():
    assert outgoing("x-tenant", "acme corp") == "acme corp"
    assert outgoing("x-trace-bin", "AP8=") == b"\x00\xff"
    assert outgoing("x-trace-bin", "AP8") == b"\x00\xff"  # unpadded, as grpc itself writes it
    assert outgoing("x-trace-bin", "-_8=") == b"\xfb\xff"  # URL-safe alphabet


@pytest.mark.parametrize(("key", "value"), [("x-t", "café"), ("x-t", "a\tb"), ("x-t", "a\x00"), ("x-t-bin", "Zm9vY"), ("x-t-bin", "a b")])
def test_values_grpc_would_refuse_are_a_value_error_that_does_not_repeat_them(key, value):
    with pytest.raises(ValueError) as caught:
        outgoing(key, value)
    assert value not in str(caught.value)


@pytest.mark.parametrize("value", ["café", "a\x01b", "tab\there"])
async def test_a_forwarded_header_grpc_cannot_carry_is_a_400_naming_it(make_translator, value):
    translator = await make_translator(forward_headers=["x-tenant"])
    with pytest.raises(InvalidHeader) as caught:
        await translator.handle(make_call(op(translator, "Metadata"), headers=[("X-Tenant", value)]))
    assert caught.value.http_status == 400 and "'x-tenant'" in caught.value.detail


async def test_a_forwarded_binary_header_travels_as_bytes(make_translator):
    translator = await make_translator(forward_headers=["x-trace-bin"])
    reply = await translator.handle(make_call(op(translator, "Metadata"), headers=[("X-Trace-Bin", "AAEC")]))
    assert reply.json["metadata"]["x-trace-bin"] == "AAEC"  # the server saw b"\0\1\2"
    with pytest.raises(InvalidHeader):
        await translator.handle(make_call(op(translator, "Metadata"), headers=[("X-Trace-Bin", "not base64!")]))


async def test_configured_binary_metadata_is_sent_as_bytes(make_translator):
    translator = await make_translator(metadata={"x-key-bin": "AP8="})
    reply = await translator.handle(make_call(op(translator, "Metadata")))
    assert reply.json["metadata"]["x-key-bin"] == "AP8="
