"""The rosetta command: check, version, and clear errors for broken configs."""

import re
import subprocess
import sys

import pytest

from gateway import __version__
from gateway.cli import main

FAKE = "gateway.testing:FakeTranslator"


def write(tmp_path, text):
    path = tmp_path / "rosetta.yaml"
    path.write_text(text)
    return path


def test_check_prints_the_route_table(tmp_path, capsys):
    path = write(tmp_path, f"upstreams:\n  calc: {{type: '{FAKE}'}}\nroutes:\n  - {{prefix: /calc, upstream: calc, auth: none}}\n")
    assert main(["check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "POST /calc/Echo -> calc Echo" in out
    assert "GET  /calc/status/{code} -> calc Status" in out


def test_check_on_a_broken_config_prints_each_error_path_and_exits_1(tmp_path, capsys):
    path = write(
        tmp_path,
        "server: {prot: 1}\n"
        f"upstreams:\n  weather: {{type: '{FAKE}', colour: red}}\n"
        "routes:\n  - {prefix: /w, upstream: wether}\n",
    )
    assert main(["check", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "error: server.prot: unknown key" in err
    assert "error: upstreams.weather.colour: unknown key" in err


def test_check_reports_a_route_to_a_missing_upstream(tmp_path, capsys):
    path = write(tmp_path, f"upstreams:\n  weather: {{type: '{FAKE}'}}\nroutes:\n  - {{prefix: /w, upstream: wether}}\n")
    assert main(["check", "--config", str(path)]) == 1
    assert "routes[0].upstream: no upstream named 'wether' (did you mean 'weather'?)" in capsys.readouterr().err


def test_check_reports_an_unset_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ROSETTA_UNSET_FOR_TEST", raising=False)
    path = write(tmp_path, "server: {host: '${ROSETTA_UNSET_FOR_TEST}'}\n")
    assert main(["check", "--config", str(path)]) == 1
    assert "server.host: environment variable 'ROSETTA_UNSET_FOR_TEST' is not set" in capsys.readouterr().err


def test_check_reports_a_missing_config_file(tmp_path, capsys):
    assert main(["check", "--config", str(tmp_path / "none.yaml")]) == 1
    assert "config file not found" in capsys.readouterr().err


def test_check_reports_an_operation_the_upstream_lacks(tmp_path, capsys):
    path = write(tmp_path, f"upstreams:\n  f: {{type: '{FAKE}'}}\nroutes:\n  - {{path: /x, upstream: f, operation: Nope}}\n")
    assert main(["check", "--config", str(path)]) == 1
    assert "routes[0]: upstream 'f' has no operation 'Nope'" in capsys.readouterr().err


def test_version_is_printed_by_the_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "gateway", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"rosetta {__version__}"


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2


def test_run_without_a_config_is_a_usage_error():
    with pytest.raises(SystemExit) as caught:
        main(["run"])
    assert caught.value.code == 2


def test_check_without_a_config_or_corpus_is_a_usage_error(capsys):
    assert main(["check"]) == 2
    assert "--config FILE" in capsys.readouterr().err


def test_check_loads_a_corpus_of_wsdls_and_counts_operations(capsys):
    from pathlib import Path

    wsdl = Path(__file__).resolve().parents[2] / "wsdl"
    assert main(["check", "--corpus", f"soap={wsdl}"]) == 0
    out = capsys.readouterr().out
    assert "GetDrug(code: xsd:string)" in out
    assert re.search(r"soap corpus .*: [1-9]\d* loaded, 0 failed, [1-9]\d* operations", out)


def test_check_reports_a_corpus_that_fails_to_load(tmp_path, capsys):
    (tmp_path / "broken.wsdl").write_text("<definitions>not closed")
    assert main(["check", "--corpus", f"soap={tmp_path}"]) == 1
    assert "1 failed" in capsys.readouterr().out


def test_check_refuses_a_corpus_folder_that_does_not_exist(tmp_path, capsys):
    assert main(["check", "--corpus", f"soap={tmp_path / 'nope'}"]) == 1
    assert "expected TYPE=DIR" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (["--port", "99999"], "error: --port: Input should be less than or equal to 65535"),
        (["--port", "-1"], "error: --port: Input should be greater than or equal to 0"),
        (["--workers", "0"], "error: --workers: Input should be greater than or equal to 1"),
        (["--workers", "65"], "error: --workers: Input should be less than or equal to 64"),
    ],
)
def test_run_refuses_out_of_range_command_line_options_before_serving(tmp_path, capsys, options, error):
    path = write(tmp_path, f"upstreams:\n  calc: {{type: '{FAKE}'}}\nroutes:\n  - {{prefix: /calc, upstream: calc, auth: none}}\n")
    assert main(["run", "--config", str(path), *options]) == 1
    assert error in capsys.readouterr().err
