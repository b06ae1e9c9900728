"""Every google.api.http binding of the shared proto corpus, called through Rosetta.

grpc-gateway's own examples (path templates with nested and repeated fields,
enums in the path, ``:verb`` suffixes, dotted body fields, custom methods)
are served by a grpc.aio backend that records each request and answers an
empty reply. Each binding is called with a value for every path variable and
the request the backend received must carry those values where grpc-gateway
puts them. Once with the protos compiled by Rosetta, once read from the
backend by server reflection.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import httpx
import pytest
from google.protobuf import descriptor_pool, json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from grpc_reflection.v1alpha import reflection

from gateway.testing import context, free_port, serve_gateway
from translators.grpc.corpus import _import_roots
from translators.grpc.descriptors import compile_protos
from translators.grpc.settings import GrpcSettings
from translators.grpc.translator import GrpcTranslator

SHARED = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "protos"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="the shared proto corpus is only checked where it exists")

#: Rosetta refuses TRACE on every route (it would echo credentials back), a custom binding included.
REFUSED = {"TRACE": 405}
_SAMPLES = {FieldDescriptor.TYPE_STRING: "s1", FieldDescriptor.TYPE_BOOL: "true", FieldDescriptor.TYPE_BYTES: "YWJj",
            FieldDescriptor.TYPE_FLOAT: "1.5", FieldDescriptor.TYPE_DOUBLE: "2.5"}


def corpus() -> tuple[list[Path], list[Path]]:
    files = sorted(p for p in SHARED.rglob("*.proto") if "third_party" not in p.parts and "protoc-gen-openapiv2" not in p.parts)
    return files, _import_roots(SHARED, sorted(SHARED.rglob("*.proto")))


class Recorder(grpc.GenericRpcHandler):
    """Answers every unary or server-streaming call with nothing, keeping the request's bytes."""

    def __init__(self) -> None:
        self.seen: dict[str, bytes] = {}

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method = details.method
        if "ServerReflection" in method:
            return None

        async def unary(request: bytes, _: Any) -> bytes:
            self.seen[method] = request
            return b""

        return grpc.unary_unary_rpc_method_handler(unary, lambda b: b, lambda b: b)


@pytest.fixture(scope="module")
async def backend() -> AsyncIterator[tuple[str, Recorder]]:
    files, roots = corpus()
    descriptors = compile_protos(files, roots)
    pool = descriptor_pool.DescriptorPool()
    names = [reflection.SERVICE_NAME]
    for proto in descriptors.file:
        pool.Add(proto)
        names += [f"{proto.package}.{s.name}" for s in proto.service]
    recorder = Recorder()
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([recorder])
    reflection.enable_server_reflection(names, server, pool=pool)
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    yield f"127.0.0.1:{port}", recorder
    await server.stop(None)


def upstream(target: str, mode: str) -> dict[str, Any]:
    files, roots = corpus()
    if mode == "reflection":
        return {"type": "grpc", "target": target, "reflection": True, "timeout": 5}
    return {"type": "grpc", "target": target, "protos": [str(p) for p in files], "import_paths": [str(p) for p in roots], "timeout": 5}


def field_at(message: Descriptor, dotted: str) -> FieldDescriptor:
    field = None
    for part in dotted.split("."):
        field = message.fields_by_name.get(part) or next(f for f in message.fields if f.json_name == part)
        message = field.message_type
    assert field is not None
    return field


def sample(field: FieldDescriptor) -> str:
    if field.enum_type is not None:
        return field.enum_type.values[-1].name
    return _SAMPLES.get(field.type, "7")


def json_sample(field: FieldDescriptor) -> Any:
    if field.is_repeated:
        return []
    if field.message_type is not None:
        return {}
    text = sample(field)
    return text if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES) or field.enum_type else json.loads(text)


def value_at(data: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data[0] if isinstance(data, list) else data


@pytest.mark.parametrize("mode", ["protos", "reflection"])
async def test_every_corpus_binding_reaches_the_backend_with_its_path_values(backend, mode):
    target, recorder = backend
    translator = GrpcTranslator("corpus", GrpcSettings.model_validate(upstream(target, mode)), context("corpus"))
    await translator.start()
    try:
        bindings = [op for op in translator.operations() if op.extra.get("binding") is not None and op.streaming is None]
        services = translator.services
    finally:
        await translator.close()
    assert len(bindings) >= 60
    config = {"upstreams": {"corpus": upstream(target, mode)}, "routes": [{"prefix": "/c", "upstream": "corpus", "auth": "none"}]}
    wrong: list[str] = []
    async with serve_gateway(config) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        for op in bindings:
            message = services.method(op.name).input.DESCRIPTOR
            expected: dict[str, str] = {}

            def fill(found: re.Match[str], message: Descriptor = message, expected: dict[str, str] = expected) -> str:
                name, _, pattern = found.group(1).partition("=")
                value = re.sub(r"\*\*?", "v1", pattern) if pattern else sample(field_at(message, name))
                expected[name] = value
                return value

            path = re.sub(r"\{([^}]+)\}", fill, op.path)
            required = {f.name: f for f in message.fields if f.is_required and f.name not in expected}
            body_field = op.extra["body"]
            body: Any = None
            query = {}
            if body_field == "*":
                body = {name: json_sample(f) for name, f in required.items()}
            else:
                query = {name: sample(f) for name, f in required.items()}
                if body_field:
                    body = json_sample(field_at(message, body_field))
            recorder.seen.clear()
            response = await client.request(op.method, "/c" + path, params=query, json=body)
            where = f"{op.method} {op.path} ({op.name})"
            if op.method in REFUSED:
                if response.status_code != REFUSED[op.method]:
                    wrong.append(f"{where}: {response.status_code}, expected {REFUSED[op.method]}")
                continue
            if response.status_code != 200:
                wrong.append(f"{where}: {response.status_code} {response.text[:200]}")
                continue
            received = services.method(op.name).input.FromString(recorder.seen[f"/{op.name}"])
            sent = json_format.MessageToDict(received, preserving_proto_field_name=True)
            for name, value in expected.items():
                got = value_at(sent, ".".join(_proto_names(message, name)))
                if str(got).lower() != value.lower():
                    wrong.append(f"{where}: {name} = {got!r}, sent {value!r}")
    assert wrong == []


def _proto_names(message: Descriptor, dotted: str) -> list[str]:
    names = []
    for part in dotted.split("."):
        field = message.fields_by_name.get(part) or next(f for f in message.fields if f.json_name == part)
        names.append(field.name)
        message = field.message_type
    return names
