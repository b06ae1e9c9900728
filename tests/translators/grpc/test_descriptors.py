"""Protos compiled in-process into a descriptor pool; errors name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from tests.translators.grpc.servers import TESTING_PROTO
from translators.grpc.descriptors import ProtoError, compile_protos, load_services


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_well_known_and_google_api_imports_resolve_without_shipping_them():
    services = load_services(compile_protos([TESTING_PROTO]))
    names = {m.name.rsplit("/", 1)[1] for m in services.methods}
    assert names == {"Echo", "Fail", "Sleep", "Count", "Sum", "Chat", "Metadata"}
    assert "google/api/annotations.proto" in services.files
    assert services.method("rosetta.testing.v1.TestService/Echo").http is not None


def test_methods_know_their_streaming_kind_and_wire_path():
    services = load_services(compile_protos([TESTING_PROTO]))
    kinds = {m.name.rsplit("/", 1)[1]: m.streaming for m in services.methods}
    assert kinds["Echo"] is None and kinds["Count"] == "server"
    assert kinds["Sum"] == "client" and kinds["Chat"] == "bidi"
    assert services.method("rosetta.testing.v1.TestService/Sum").wire_path == "/rosetta.testing.v1.TestService/Sum"


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    bad = write(tmp_path, "bad.proto", 'syntax = "proto3";\npackage x;\nmessage A {\n  int32 a = 1\n  string b = 2;\n}\n')
    with pytest.raises(ProtoError) as caught:
        compile_protos([bad])
    assert f"{bad}:5:" in str(caught.value)


def test_a_missing_import_names_the_importing_file(tmp_path):
    bad = write(tmp_path, "imp.proto", 'syntax = "proto3";\nimport "nothere.proto";\nmessage A {}\n')
    with pytest.raises(ProtoError) as caught:
        compile_protos([bad])
    assert "nothere.proto" in str(caught.value) and f"{bad}:2:" in str(caught.value)


def test_imports_resolve_from_import_paths(tmp_path):
    write(tmp_path, "lib/common.proto", 'syntax = "proto3";\npackage lib;\nmessage Id { string v = 1; }\n')
    main = write(
        tmp_path, "api/svc.proto",
        'syntax = "proto3";\npackage api;\nimport "lib/common.proto";\n'
        "service S { rpc Get(lib.Id) returns (lib.Id); }\n",
    )
    services = load_services(compile_protos([main], [tmp_path]))
    assert services.method("api.S/Get").input.DESCRIPTOR.full_name == "lib.Id"


def test_files_in_any_order_load_after_their_imports():
    files = compile_protos([TESTING_PROTO])
    shuffled = descriptor_pb2.FileDescriptorSet(file=list(reversed(files.file)))
    assert len(load_services(shuffled).methods) == 7


def test_a_set_missing_an_import_is_refused():
    files = compile_protos([TESTING_PROTO])
    partial = descriptor_pb2.FileDescriptorSet(file=[f for f in files.file if f.name != "google/protobuf/empty.proto"])
    with pytest.raises(ProtoError, match="google/protobuf/empty.proto"):
        load_services(partial)
