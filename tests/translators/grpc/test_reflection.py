"""Reflection mode: descriptors fetched from a real server's reflection service, no .proto needed."""

from __future__ import annotations

import pytest

from gateway.testing import free_port, make_call
from tests.translators.grpc.conftest import SERVICE, op
from tests.translators.grpc.servers import start_reflecting_server, start_test_server
from translators.grpc.channel import ChannelError


@pytest.fixture(scope="module")
async def reflecting_server():
    running = await start_test_server(reflection_service=True, health_service=True)
    yield running
    await running.stop()


async def test_reflection_finds_every_method_and_binding(make_translator, reflecting_server):
    translator = await make_translator(target=reflecting_server.target, protos=[], reflection=True)
    names = {o.name for o in translator.operations()}
    assert f"{SERVICE}/Echo" in names and f"{SERVICE}/Chat" in names
    assert not any(n.startswith(("grpc.reflection", "grpc.health")) for n in names)
    assert any(o.path == "/v1/books/{name=shelves/*/books/*}" for o in translator.operations())


async def test_a_call_works_in_reflection_mode(make_translator, reflecting_server):
    translator = await make_translator(target=reflecting_server.target, protos=[], reflection=True)
    operation = op(translator, "Echo", "GET", "/v1/echo/{name}")
    reply = await translator.handle(make_call(operation, path_params={"name": "r"}, query="when=2024-01-01T00:00:00Z"))
    assert reply.json["name"] == "r" and reply.json["when"] == "2024-01-01T00:00:00Z"


async def test_a_server_without_reflection_is_a_clear_start_up_error(make_translator, server):
    with pytest.raises(ChannelError, match="does not offer gRPC server reflection"):
        await make_translator(target=server.target, protos=[], reflection=True)


async def test_a_server_that_is_down_is_a_start_up_error_in_reflection_mode(make_translator):
    with pytest.raises(ChannelError, match="UNAVAILABLE"):
        await make_translator(target=f"127.0.0.1:{free_port()}", protos=[], reflection=True, timeout=2)


@pytest.mark.parametrize("versions", [("v1",), ("v1alpha",), ("v1", "v1alpha")])
async def test_reflection_works_with_either_version_of_the_api(make_translator, versions):
    running = await start_reflecting_server(versions=versions)
    try:
        translator = await make_translator(target=running.target, protos=[], reflection=True)
        reply = await translator.handle(make_call(op(translator, "Echo"), body=b'{"name": "v"}'))
        assert reply.json["name"] == "v"
    finally:
        await running.stop()


async def test_a_listed_service_the_server_cannot_describe_is_named(make_translator):
    running = await start_reflecting_server(undescribed=("rosetta.testing.v1.Ghost",))
    try:
        with pytest.raises(ChannelError, match=r"the file defining 'rosetta\.testing\.v1\.Ghost'.*not found"):
            await make_translator(target=running.target, protos=[], reflection=True)
    finally:
        await running.stop()


async def test_an_import_the_server_cannot_give_is_named_with_its_importer(make_translator):
    running = await start_reflecting_server(missing_import="vendor/gone.proto")
    try:
        with pytest.raises(ChannelError, match=r"'vendor/gone\.proto' \(imported by 'testing\.proto'\)"):
            await make_translator(target=running.target, protos=[], reflection=True)
    finally:
        await running.stop()
