"""Reading the config file: strict YAML, bounded size, and ``${VAR}`` expansion without surprises."""

import os
import time

import pytest

from gateway.config import MAX_FILE_BYTES, ConfigError, expand_env, load_config

FAKE = "gateway.testing:FakeTranslator"
JWT = "auth:\n  jwt:\n    issuers:\n      - {issuer: a, audience: b, algorithms: [HS256], secret: '%s'}\n"


def load_errors(tmp_path, text, env=None):
    path = tmp_path / "rosetta.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env or {})
    return caught.value.errors


def load(tmp_path, text, env=None):
    path = tmp_path / "rosetta.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, env or {})


def test_a_key_given_twice_is_an_error_naming_its_path_and_lines(tmp_path):
    errors = load_errors(tmp_path, "server:\n  port: 1\n  host: h\n  port: 2\n")
    assert errors == ["server.port: given twice (lines 2 and 4); YAML would silently keep the last"]


def test_a_top_level_section_given_twice_is_an_error(tmp_path):
    errors = load_errors(tmp_path, "server: {port: 1}\nroutes: []\nserver: {port: 2}\n")
    assert errors[0].startswith("server: given twice (lines 1 and 3)")


def test_keys_a_merge_brings_in_may_be_overridden(tmp_path):
    text = (
        f"x-base: &base {{type: '{FAKE}', timeout: 5}}\n"
        "upstreams:\n  a: {<<: *base, timeout: 7}\n"
    )
    errors = load_errors(tmp_path, text)
    assert errors == ["x-base: unknown key (check the spelling; see docs/configuration.md)"]


def test_yaml_aliases_expanding_past_the_bound_are_refused_at_once(tmp_path):
    lines = ["x0: &x0 [a,a,a,a,a,a,a,a,a,a]"]
    lines += [f"x{i}: &x{i} [" + ",".join([f"*x{i - 1}"] * 10) + "]" for i in range(1, 9)]
    started = time.perf_counter()
    errors = load_errors(tmp_path, "\n".join(lines) + "\nserver: {host: *x8}\n")
    assert time.perf_counter() - started < 2
    assert errors[0].endswith("the config holds more than 1000000 values once its YAML aliases are expanded")


def test_an_alias_of_its_own_anchor_is_an_error_naming_its_path(tmp_path):
    errors = load_errors(tmp_path, "server: &a {host: [1, *a]}\n")
    assert errors == ["server.host[1]: refers to a value that contains it (a YAML alias loop)"]


def test_a_config_nested_too_deeply_is_an_error_not_a_crash(tmp_path):
    errors = load_errors(tmp_path, "server: {host: " + "[" * 1500 + "]" * 1500 + "}\n")
    assert "nested too deeply" in errors[0]


def test_a_mapping_nested_past_the_bound_names_where(tmp_path):
    errors = load_errors(tmp_path, "routes: [{options: " + "{a: " * 70 + "1" + "}" * 70 + "}]\n")
    assert errors[0].startswith("routes[0].options.a.a.") and errors[0].endswith("nested more than 64 levels deep")


def test_a_large_plain_config_loads(tmp_path):
    routes = "".join(f"  - {{path: /r{i}, methods: [GET], upstream: a, operation: Echo, auth: none}}\n" for i in range(1000))
    config = load(tmp_path, f"upstreams:\n  a: {{type: '{FAKE}'}}\nroutes:\n{routes}")
    assert len(config.routes) == 1000


def test_a_value_holding_yaml_syntax_stays_one_value(tmp_path):
    secret = "x" * 32 + "\nroutes: [{prefix: /, upstream: evil}]\n# }: {"
    config = load(tmp_path, JWT % "${JWT_SECRET}", {"JWT_SECRET": secret})
    assert config.routes == ()
    assert config.auth.jwt.issuers[0].secret.get_secret_value() == secret


def test_an_expanded_value_is_never_expanded_again(tmp_path):
    config = load(tmp_path, "server: {host: '${A}'}\n", {"A": "${B}", "B": "nope"})
    assert config.server.host == "${B}"


@pytest.mark.parametrize(
    "reference",
    ["${JWT-SECRET_OF_THE_PARTNER_APIS_V2}", "${ JWT_SECRET }", "${JWT_SECRET", "${JWT_SECRET:=default}", "${1X}"],
)
def test_a_malformed_reference_is_an_error_never_a_literal_secret(reference):
    with pytest.raises(ConfigError) as caught:
        expand_env({"auth": {"secret": reference}}, {"JWT_SECRET": "s3cr3t-value"})
    (error,) = caught.value.errors
    assert error.startswith("auth.secret: malformed variable reference '${")
    assert "s3cr3t-value" not in error


def test_a_nested_default_is_refused_rather_than_half_expanded():
    with pytest.raises(ConfigError) as caught:
        expand_env({"host": "${A:-${B}}"}, {"B": "b"})
    assert caught.value.errors[0].startswith("host: malformed variable reference '${A:-${B}")


def test_an_empty_variable_takes_its_default_as_in_the_shell():
    env = {"EMPTY": "", "SET": "v"}
    assert expand_env({"a": "${EMPTY:-d}", "b": "${SET:-d}", "c": "${EMPTY}", "d": "$${X}"}, env) == {
        "a": "d", "b": "v", "c": "", "d": "${X}"
    }


def test_a_reference_in_a_key_is_an_error_naming_its_path():
    with pytest.raises(ConfigError) as caught:
        expand_env({"upstreams": {"${NAME}": {"type": "rest"}}}, {"NAME": "a"})
    assert caught.value.errors == ["upstreams.${NAME}: variables are expanded in values only, not in keys"]


def test_an_unset_variable_is_named_but_no_value_is_shown():
    with pytest.raises(ConfigError) as caught:
        expand_env({"a": "${SET}", "b": "${UNSET}"}, {"SET": "s3cr3t-value"})
    assert caught.value.errors == ["b: environment variable 'UNSET' is not set"]


def test_a_config_file_that_is_not_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "rosetta.yaml"
    path.write_bytes(b"server: {host: '\xe9'}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert "cannot read config file" in caught.value.errors[0] and "utf-8" in caught.value.errors[0]


def test_a_config_file_that_is_a_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, {})
    assert "cannot read config file" in caught.value.errors[0]


def test_a_variable_that_is_not_utf8_is_an_error_naming_it_not_its_value():
    env = {"JWT_SECRET": "abc\udcffdef" * 8}  # how Python hands over an environment value of bad bytes
    with pytest.raises(ConfigError) as caught:
        expand_env({"auth": {"secret": "${JWT_SECRET}"}}, env)
    assert caught.value.errors == ["auth.secret: environment variable 'JWT_SECRET' is not valid UTF-8"]


def test_a_config_file_past_the_size_bound_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "rosetta.yaml"
    path.write_bytes(b"")
    os.truncate(path, MAX_FILE_BYTES + 1)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert caught.value.errors == [f"{path}: cannot read config file: larger than {MAX_FILE_BYTES} bytes"]
