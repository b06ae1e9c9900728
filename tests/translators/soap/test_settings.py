"""The soap upstream's settings: validated at config load, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.config import ConfigError, build_config
from tests.translators.soap.conftest import ROOT, settings


def test_a_relative_wsdl_path_resolves_against_the_config_folder() -> None:
    assert settings(wsdl="wsdl/drug_catalog.wsdl").wsdl == str(ROOT / "wsdl" / "drug_catalog.wsdl")


def test_a_missing_wsdl_file_is_a_config_error_naming_the_path() -> None:
    config = {"upstreams": {"cat": {"type": "soap", "wsdl": "wsdl/nope.wsdl"}}}
    with pytest.raises(ConfigError) as caught:
        build_config(config, ROOT)
    assert any("upstreams.cat.wsdl" in line and "nope.wsdl" in line for line in caught.value.errors)


def test_a_wsdl_url_needs_an_explicit_opt_in() -> None:
    with pytest.raises(ValidationError, match="allow_remote_wsdl"):
        settings(wsdl="http://example.invalid/service?wsdl")
    assert settings(wsdl="http://example.invalid/service?wsdl", allow_remote_wsdl=True).allow_remote_wsdl


@pytest.mark.parametrize(
    "bad",
    [
        {"address": "ftp://x"},
        {"fault_status": {"Client": 200}},
        {"decimal_as": "float"},
        {"soap_headers": ["<unclosed>"]},
        {"basic_auth": {"username": "a:b", "password": "x"}},
        {"basic_auth": {"username": "a", "password": "x"}, "forward_auth": True},
        {"wsse": {"username": "a"}},
        {"unknown": 1},
    ],
)
def test_bad_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        settings(wsdl="wsdl/drug_catalog.wsdl", **bad)


def test_secrets_do_not_show_in_reprs_or_dumps() -> None:
    s = settings(wsdl="wsdl/drug_catalog.wsdl", wsse={"username": "u", "password": "hunter2"},
                 basic_auth={"username": "b", "password": "swordfish"})
    text = repr(s) + str(s.model_dump()) + s.model_dump_json()
    assert "hunter2" not in text and "swordfish" not in text


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    from gateway.config import load_config

    config = tmp_path / "rosetta.yaml"
    wsdl = ROOT / "wsdl" / "drug_catalog.wsdl"
    config.write_text(f"upstreams:\n  cat:\n    type: soap\n    wsdl: {wsdl}\n"
                      "    basic_auth: {username: svc, password: '${CAT_PASSWORD}'}\n")
    loaded = load_config(config, env={"CAT_PASSWORD": "from-env"})
    assert loaded.upstreams["cat"].basic_auth.password.get_secret_value() == "from-env"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="CAT_PASSWORD"):
        load_config(config, env={})
