"""Credentials configured under a gRPC upstream's ``auth:`` go out as metadata."""

import pytest
from pydantic import ValidationError

from gateway.plugin import Consumer
from gateway.testing import make_call
from tests.translators.grpc.conftest import op
from translators.grpc.settings import GrpcSettings


async def test_upstream_credentials_and_identity_reach_the_server_as_metadata(make_translator):
    translator = await make_translator(auth={"bearer": "tok-1", "identity": True})
    consumer = Consumer(id="acme", scopes=frozenset({"rx:read"}))
    call = make_call(op(translator, "Metadata"), headers=[("Authorization", "Bearer caller")], consumer=consumer)
    seen = (await translator.handle(call)).json["metadata"]
    assert seen["authorization"] == "Bearer tok-1"
    assert (seen["x-consumer-id"], seen["x-consumer-scopes"]) == ("acme", "rx:read")


def test_upstream_tls_belongs_under_tls_not_auth():
    with pytest.raises(ValidationError, match="under 'tls'"):
        GrpcSettings.model_validate(
            {"type": "grpc", "target": "127.0.0.1:1", "reflection": True, "auth": {"tls": {}}}
        )
