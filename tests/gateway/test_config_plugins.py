"""Plug-in translators named by ``module:Class``: every way one can fail to load is a
config error naming the upstream, never a traceback."""

import sys
import textwrap
from pathlib import Path

import pytest

from gateway.config import ConfigError, build_config

TRANSLATOR = """
from gateway.plugin import Translator, UpstreamSettings
from pydantic import model_validator


class Base(Translator):
    def operations(self):
        return []

    async def handle(self, call):
        raise NotImplementedError


class NoModel(Base):
    settings_model = dict


class Strict(UpstreamSettings):
    @model_validator(mode="after")
    def _explode(self):
        raise RuntimeError("the plug-in's own validator failed")


class Exploding(Base):
    settings_model = Strict


class FailsToBuild(Base):
    def __init__(self, *args):
        raise ValueError("cannot reach https://svc:hunter2@backend.example/api")
"""


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    (tmp_path / "rosetta_plugin_ok.py").write_text(textwrap.dedent(TRANSLATOR))
    (tmp_path / "rosetta_plugin_raises.py").write_text("raise RuntimeError('no licence key configured')\n")
    (tmp_path / "rosetta_plugin_syntax.py").write_text("def broken(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in ("rosetta_plugin_ok", "rosetta_plugin_raises", "rosetta_plugin_syntax"):
        sys.modules.pop(name, None)


def upstream_errors(type_name):
    with pytest.raises(ConfigError) as caught:
        build_config({"upstreams": {"billing": {"type": type_name}}}, Path("."))
    return caught.value.errors


@pytest.mark.usefixtures("plugins")
@pytest.mark.parametrize(
    ("type_name", "expected"),
    [
        ("rosetta_plugin_raises:T", "upstreams.billing.type: cannot import 'rosetta_plugin_raises': RuntimeError: no licence key configured"),
        ("rosetta_plugin_syntax:T", "upstreams.billing.type: cannot import 'rosetta_plugin_syntax': SyntaxError: invalid syntax"),
        (":Translator", "upstreams.billing.type: ':Translator' is not a 'package.module:Class' path"),
        ("rosetta_plugin_ok:", "upstreams.billing.type: 'rosetta_plugin_ok:' is not a 'package.module:Class' path"),
        ("rosetta_plugin_ok:Missing", "upstreams.billing.type: 'rosetta_plugin_ok' has no attribute 'Missing'"),
        ("rosetta_plugin_ok:Strict", "upstreams.billing.type: 'rosetta_plugin_ok:Strict' is not a Translator subclass"),
        ("rosetta_plugin_ok:NoModel", "upstreams.billing.type: 'rosetta_plugin_ok:NoModel'.settings_model is not an UpstreamSettings subclass"),
        ("rosetta_plugin_ok:Exploding", "upstreams.billing: settings of translator 'rosetta_plugin_ok:Exploding' failed: RuntimeError: the plug-in's own validator failed"),
    ],
)
def test_a_translator_that_cannot_load_is_an_error_naming_its_upstream(type_name, expected):
    (error,) = upstream_errors(type_name)
    assert error.startswith(expected)


def test_a_missing_module_is_an_error_naming_it():
    (error,) = upstream_errors("rosetta_no_such_module:T")
    assert error == "upstreams.billing.type: cannot import 'rosetta_no_such_module': No module named 'rosetta_no_such_module'"


@pytest.mark.usefixtures("plugins")
async def test_a_translator_whose_constructor_fails_is_a_startup_error_without_credentials():
    from gateway.runtime import StartupError, build_runtime

    config = build_config({"upstreams": {"billing": {"type": "rosetta_plugin_ok:FailsToBuild"}}}, Path("."))
    with pytest.raises(StartupError) as caught:
        await build_runtime(config)
    (error,) = caught.value.errors
    assert error.startswith("upstreams.billing: translator 'rosetta_plugin_ok:FailsToBuild' failed to start: ValueError")
    assert "hunter2" not in error and "backend.example" in error
