"""Config loading: typed, strict, and every error names its path."""

from pathlib import Path

import pytest

from gateway.config import ConfigError, build_config, expand_env, load_config

FAKE = "gateway.testing:FakeTranslator"


def errors_of(raw, base=Path(".")):
    with pytest.raises(ConfigError) as caught:
        build_config(raw, base)
    return caught.value.errors


def test_defaults_match_the_documented_server_block():
    config = build_config({}, Path("."))
    assert config.server.host == "127.0.0.1"
    assert config.server.port == 8080
    assert config.server.workers == 1
    assert config.server.max_body_bytes == 1_048_576


def test_a_route_naming_a_missing_upstream_names_the_route_and_a_suggestion():
    raw = {"upstreams": {"weather": {"type": FAKE}}, "routes": [{}, {}, {"prefix": "/w", "upstream": "wether"}]}
    raw["routes"][0] = raw["routes"][1] = {"prefix": "/a", "upstream": "weather"}
    assert "routes[2].upstream: no upstream named 'wether' (did you mean 'weather'?)" in errors_of(raw)


def test_unknown_keys_are_rejected_with_their_path():
    errors = errors_of({"server": {"prot": 80}})
    assert errors[0].startswith("server.prot: unknown key")


def test_unknown_keys_inside_an_upstream_are_rejected():
    errors = errors_of({"upstreams": {"a": {"type": FAKE, "urll": "x"}}})
    assert errors[0].startswith("upstreams.a.urll: unknown key")


def test_an_unknown_translator_type_is_an_error_naming_the_upstream():
    errors = errors_of({"upstreams": {"a": {"type": "carrier-pigeon"}}})
    assert errors[0].startswith("upstreams.a.type: unknown translator type 'carrier-pigeon'")


def test_a_wrong_type_says_what_was_expected():
    errors = errors_of({"server": {"port": "eighty"}})
    assert errors[0].startswith("server.port: ") and "integer" in errors[0]


def test_a_route_needs_exactly_one_of_prefix_or_path():
    errors = errors_of({"upstreams": {"a": {"type": FAKE}}, "routes": [{"upstream": "a"}]})
    assert "routes[0]" in errors[0] and "prefix" in errors[0]


def test_environment_variables_expand_with_defaults():
    env = {"HOST": "example"}
    assert expand_env({"a": "${HOST}:${PORT:-80}", "b": ["$${HOST}"]}, env) == {"a": "example:80", "b": ["${HOST}"]}


def test_an_unset_variable_without_default_is_an_error_naming_its_path():
    with pytest.raises(ConfigError) as caught:
        expand_env({"auth": {"secret": "${NOT_SET_ANYWHERE}"}}, {})
    assert caught.value.errors == ["auth.secret: environment variable 'NOT_SET_ANYWHERE' is not set"]


def test_a_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml")
    assert "config file not found" in caught.value.errors[0]


def test_invalid_yaml_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("routes: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "not valid YAML" in caught.value.errors[0]


def test_relative_paths_resolve_against_the_config_folder(tmp_path):
    from pydantic import BaseModel

    from gateway.config import ConfigPath  # noqa: F401 - the type under test

    class Model(BaseModel):
        file: ConfigPath

    got = Model.model_validate({"file": "wsdl/x.wsdl"}, context={"base_dir": tmp_path})
    assert got.file == tmp_path / "wsdl" / "x.wsdl"


def test_a_missing_existing_path_is_an_error(tmp_path):
    from pydantic import BaseModel, ValidationError

    from gateway.config import ExistingPath

    class Model(BaseModel):
        file: ExistingPath

    with pytest.raises(ValidationError, match="file not found"):
        Model.model_validate({"file": "missing.wsdl"}, context={"base_dir": tmp_path})


def test_config_loads_from_yaml_with_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ROSETTA_TEST_PORT", "9999")
    path = tmp_path / "c.yaml"
    path.write_text(
        "server:\n  port: ${ROSETTA_TEST_PORT}\n"
        f"upstreams:\n  a: {{type: '{FAKE}'}}\n"
        "routes:\n  - {prefix: /a, upstream: a, auth: none}\n"
    )
    config = load_config(path)
    assert config.server.port == 9999
    assert config.base_dir == tmp_path
    assert config.routes[0].auth == "none"


def test_upstreams_given_as_a_list_is_an_error_not_a_crash():
    errors = errors_of({"upstreams": ["a"], "routes": [{"prefix": "/a", "upstream": "a"}]})
    assert errors[0] == "upstreams: expected a mapping of upstream names to settings"


def test_an_upstream_name_that_is_not_a_string_is_an_error():
    errors = errors_of({"upstreams": {1: {"type": FAKE}}})
    assert errors == ["upstreams.1: an upstream name must be a string, not int"]


def test_a_storage_url_in_an_error_never_shows_its_password():
    errors = errors_of({"limits": {"storage": "redis+sentinal://:hunter2pw@127.0.0.1:6379/0?password=hunter3pw"}})
    assert errors[0].startswith("limits.storage: unknown storage 'redis+sentinal://***@127.0.0.1:6379/0?password=***'")
    assert "hunter2pw" not in errors[0] and "hunter3pw" not in errors[0]


def test_a_cache_storage_url_in_an_error_never_shows_its_password():
    route = {"prefix": "/a", "upstream": "a", "cache": {"ttl": 1, "storage": "redis+x://user:hunter2pw@h"}}
    errors = errors_of({"upstreams": {"a": {"type": FAKE}}, "routes": [route]})
    assert errors[0].startswith("routes[0].cache.storage: unknown cache storage 'redis+x://***@h'")


def test_a_prefix_repeated_for_the_same_upstream_is_an_error():
    routes = [{"prefix": "/a", "upstream": "a", "auth": "none"}, {"prefix": "/a/", "upstream": "a"}]
    errors = errors_of({"upstreams": {"a": {"type": FAKE}}, "routes": routes})
    assert errors == ["routes[1].prefix: routes[0] already serves /a from upstream 'a', which this route would never see"]


def test_a_path_repeated_with_a_method_in_common_is_an_error_whatever_its_variables_are_called():
    routes = [
        {"path": "/p/{id}", "methods": ["GET", "POST"], "upstream": "a", "operation": "Echo"},
        {"path": "/p/{key}", "methods": ["put", "POST"], "upstream": "a", "operation": "Echo"},
    ]
    errors = errors_of({"upstreams": {"a": {"type": FAKE}}, "routes": routes})
    assert errors == ["routes[1].path: routes[0] already serves POST /p/{id}, which this route would never see"]


def test_routes_sharing_a_prefix_or_path_but_not_what_they_serve_are_fine():
    routes = [
        {"prefix": "/v1", "upstream": "a"},
        {"prefix": "/v1", "upstream": "b"},
        {"path": "/p/{id}", "methods": ["GET"], "upstream": "a", "operation": "Echo"},
        {"path": "/p/{id}", "methods": ["DELETE"], "upstream": "a", "operation": "Echo"},
        {"path": "/p/{id=x/*}", "methods": ["GET"], "upstream": "a", "operation": "Echo"},
    ]
    config = build_config({"upstreams": {"a": {"type": FAKE}, "b": {"type": FAKE}}, "routes": routes}, Path("."))
    assert len(config.routes) == 5
