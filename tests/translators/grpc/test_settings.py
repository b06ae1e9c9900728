"""The grpc upstream's config model: one source of descriptors, paths from the config folder."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError, build_config
from tests.translators.grpc.servers import TESTING_PROTO


def upstream(tmp_path, **data):
    raw = {"upstreams": {"lib": {"type": "grpc", "target": "127.0.0.1:1", **data}}}
    return build_config(raw, tmp_path).upstreams["lib"]


def test_proto_paths_resolve_against_the_config_folder(tmp_path):
    (tmp_path / "protos").mkdir()
    (tmp_path / "protos" / "a.proto").write_text('syntax = "proto3";')
    settings = upstream(tmp_path, protos=["protos/a.proto"], import_paths=["protos"])
    assert settings.protos == (tmp_path / "protos" / "a.proto",)
    assert settings.import_paths == (tmp_path / "protos",)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({}, "upstreams.lib"),
        ({"protos": [str(TESTING_PROTO)], "reflection": True}, "upstreams.lib"),
        ({"protos": ["missing.proto"]}, "upstreams.lib.protos"),
        ({"reflection": True, "import_paths": ["nowhere"]}, "upstreams.lib.import_paths"),
        ({"reflection": True, "tls": {"cert": str(TESTING_PROTO)}}, "upstreams.lib.tls"),
        ({"reflection": True, "metadata": {"grpc-timeout": "1"}}, "upstreams.lib.metadata"),
        ({"reflection": True, "metadata": {"Bad Key": "1"}}, "upstreams.lib.metadata"),
        ({"reflection": True, "metadata": {"x-key": "caf\u00e9"}}, "upstreams.lib.metadata"),
        ({"reflection": True, "metadata": {"x-key": "a\nb"}}, "upstreams.lib.metadata"),
        ({"reflection": True, "metadata": {"x-key-bin": "not base64!"}}, "upstreams.lib.metadata"),
        ({"reflection": True, "metadata": {"user-agent": "me"}}, "upstreams.lib.metadata"),
        ({"reflection": True, "forward_headers": ["bad header"]}, "upstreams.lib.forward_headers"),
        ({"reflection": True, "forward_headers": ["grpc-timeout"]}, "upstreams.lib.forward_headers"),
        ({"reflection": True, "forward_headers": ["content-type"]}, "upstreams.lib.forward_headers"),
        ({"reflection": True, "typo": 1}, "upstreams.lib.typo"),
    ],
)
def test_bad_settings_are_refused_with_their_path(tmp_path, data, where):
    with pytest.raises(ConfigError) as caught:
        upstream(tmp_path, **data)
    assert any(line.startswith(where) for line in caught.value.errors), caught.value.errors


def test_metadata_keys_and_header_names_are_lower_cased(tmp_path):
    settings = upstream(tmp_path, reflection=True, metadata={"X-Key": "v"}, forward_headers=["Accept-Language"])
    assert settings.metadata == {"x-key": "v"} and settings.forward_headers == ("accept-language",)


def test_a_bad_metadata_value_is_refused_without_repeating_it(tmp_path):
    with pytest.raises(ConfigError) as caught:
        upstream(tmp_path, reflection=True, metadata={"x-key": "s3cr\u00e9t"})
    assert "'x-key'" in str(caught.value.errors) and "s3cr" not in str(caught.value.errors)
