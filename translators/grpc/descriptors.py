"""Service definitions: .proto files compiled in-process into a descriptor pool.

:func:`compile_protos` runs protoc (from grpcio-tools, in this process) over
the given files and returns a ``FileDescriptorSet``; well-known types
(``google/protobuf/*.proto``) and ``google/api/*.proto`` / ``google/rpc/*.proto``
resolve from the include folders grpcio-tools and googleapis-common-protos
ship, so users never copy them. :func:`load_services` turns any
``FileDescriptorSet`` (compiled here or fetched by server reflection) into a
:class:`ServiceSet`: a private descriptor pool, and one :class:`MethodInfo`
per RPC with its dynamic request/response classes and HTTP rules::

    files = compile_protos([Path("protos/route_guide.proto")], [Path("protos")])
    services = load_services(files)
    services.method("routeguide.RouteGuide/GetFeature").input  # a message class

Nothing here is generated into the source tree.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import google.api.annotations_pb2 as annotations_pb2  # registers the google.api.http option
import grpc_tools
from google.api import http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from grpc_tools import _protoc_compiler

__all__ = [
    "STANDARD_INCLUDES",
    "MethodInfo",
    "ProtoError",
    "ServiceSet",
    "compile_protos",
    "load_services",
]

#: Folders holding google/protobuf/*.proto and google/api/*.proto, searched last.
STANDARD_INCLUDES: tuple[Path, ...] = (
    Path(grpc_tools.__file__).parent / "_proto",
    Path(annotations_pb2.__file__).parents[2],
)


class ProtoError(Exception):
    """A proto file cannot be compiled or a descriptor set cannot be loaded.

    The message names the file and the 1-based line, e.g.
    ``protos/shop.proto:12:5: Expected ";".``
    """


@dataclass(frozen=True, slots=True)
class MethodInfo:
    """One RPC: its names, message classes, streaming kind and HTTP rules."""

    name: str  # "package.Service/Method", the operation name
    wire_path: str  # "/package.Service/Method", the gRPC request path
    descriptor: MethodDescriptor
    input: type[Message]
    output: type[Message]
    streaming: str | None  # None, "server", "client" or "bidi"
    http: http_pb2.HttpRule | None
    idempotent: bool


@dataclass(frozen=True, slots=True)
class ServiceSet:
    """Every service of a descriptor set, with a private pool resolving its types."""

    pool: descriptor_pool.DescriptorPool
    methods: tuple[MethodInfo, ...]
    files: tuple[str, ...]

    def method(self, name: str) -> MethodInfo:
        """The method called ``package.Service/Method``; ``KeyError`` when absent."""
        for info in self.methods:
            if info.name == name:
                return info
        raise KeyError(name)


def compile_protos(
    protos: Sequence[Path], import_paths: Sequence[Path] = ()
) -> descriptor_pb2.FileDescriptorSet:
    """Compile ``protos`` (and every import) into one descriptor set; raise :class:`ProtoError`.

    Each file must lie under one of ``import_paths``; a file that does not is
    found through its own folder.
    """
    includes = _includes(protos, import_paths)
    with tempfile.TemporaryDirectory(prefix="rosetta-protoc-") as tmp:
        out = Path(tmp) / "set.pb"
        args = ["protoc", *(f"-I{p}" for p in includes), f"--descriptor_set_out={out}", "--include_imports"]
        args += [str(Path(p).resolve()) for p in protos]
        if _protoc_compiler.run_main([a.encode() for a in args]) != 0 or not out.is_file():
            raise ProtoError(_explain_failure(protos, includes))
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def _includes(protos: Sequence[Path], import_paths: Sequence[Path]) -> list[Path]:
    includes = [Path(p).resolve() for p in import_paths]
    for proto in protos:
        resolved = Path(proto).resolve()
        if not any(resolved.is_relative_to(inc) for inc in includes):
            includes.append(resolved.parent)
    return includes + [p for p in STANDARD_INCLUDES if p not in includes]


def _explain_failure(protos: Sequence[Path], includes: Sequence[Path]) -> str:
    """protoc's own diagnostics for the first failing file, with real paths and 1-based lines."""
    for proto in protos:
        virtual = _virtual_name(Path(proto).resolve(), includes)
        try:
            _protoc_compiler.get_protos(virtual.encode(), [str(p).encode() for p in includes])
        except _protoc_compiler.ProtocErrors as exc:
            return "\n".join(_describe(err, includes) for err in exc.errors())
    return f"protoc could not compile {', '.join(str(p) for p in protos)}"


def _virtual_name(path: Path, includes: Sequence[Path]) -> str:
    for inc in includes:
        if path.is_relative_to(inc):
            return path.relative_to(inc).as_posix()
    return path.name


def _describe(err: _protoc_compiler.ProtocError, includes: Sequence[Path]) -> str:
    name = err.filename.decode(errors="replace")
    message = err.message.decode(errors="replace")
    real = next((str(inc / name) for inc in includes if (inc / name).is_file()), name)
    if err.line < 0:
        return f"{real}: {message}"
    return f"{real}:{err.line + 1}:{err.column + 1}: {message}"


def load_services(files: descriptor_pb2.FileDescriptorSet) -> ServiceSet:
    """Build a private pool from ``files`` and describe every RPC; raise :class:`ProtoError`."""
    pool = descriptor_pool.DescriptorPool()
    for proto in _dependency_order(files.file):
        try:
            pool.Add(proto)
        except (TypeError, ValueError) as exc:
            raise ProtoError(f"{proto.name}: cannot load descriptor: {exc}") from None
    methods: list[MethodInfo] = []
    for proto in files.file:
        for service in proto.service:
            full = f"{proto.package}.{service.name}" if proto.package else service.name
            described = pool.FindServiceByName(full)
            methods += [_method(described.methods_by_name[m.name], m, full) for m in service.method]
    return ServiceSet(pool, tuple(methods), tuple(f.name for f in files.file))


def _dependency_order(
    files: Iterable[descriptor_pb2.FileDescriptorProto],
) -> list[descriptor_pb2.FileDescriptorProto]:
    """Files ordered so each comes after its imports (reflection sends them in any order)."""
    by_name = {f.name: f for f in files}
    ordered: list[descriptor_pb2.FileDescriptorProto] = []
    seen: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in seen:
            return
        if name in chain:
            raise ProtoError(f"{name}: import cycle through {' -> '.join(chain)}")
        proto = by_name.get(name)
        if proto is None:
            raise ProtoError(f"{chain[-1] if chain else name}: imports '{name}', which was not provided")
        for dep in proto.dependency:
            visit(dep, (*chain, name))
        seen.add(name)
        ordered.append(proto)

    for name in by_name:
        visit(name, ())
    return ordered


def _method(
    described: MethodDescriptor, proto: descriptor_pb2.MethodDescriptorProto, service: str
) -> MethodInfo:
    options = proto.options
    rule = options.Extensions[annotations_pb2.http] if options.HasExtension(annotations_pb2.http) else None
    level = descriptor_pb2.MethodOptions
    return MethodInfo(
        name=f"{service}/{proto.name}",
        wire_path=f"/{service}/{proto.name}",
        descriptor=described,
        input=message_factory.GetMessageClass(described.input_type),
        output=message_factory.GetMessageClass(described.output_type),
        streaming=_streaming(proto.client_streaming, proto.server_streaming),
        http=rule,
        idempotent=options.idempotency_level in (level.NO_SIDE_EFFECTS, level.IDEMPOTENT),
    )


def _streaming(client: bool, server: bool) -> str | None:
    return {(False, False): None, (False, True): "server", (True, False): "client"}.get(
        (client, server), "bidi"
    )
