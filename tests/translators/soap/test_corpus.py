"""The corpus check `.ci/run` runs: every WSDL under a folder loads and lists its operations."""

from __future__ import annotations

from pathlib import Path

from tests.translators.soap.conftest import WSDL
from translators.soap.corpus import check_corpus, main


def test_rosettas_own_wsdls_all_load_with_their_operations() -> None:
    report = check_corpus(WSDL)
    assert report.failed == 0 and report.loaded == 5
    assert report.operations == 3 + 4 + 2 + 2 + 1
    assert any("PlaceOrder(code: xsd:string, quantity: xsd:int, deliverBy: xsd:date)" in line for line in report.lines)


def test_a_broken_wsdl_is_counted_and_named(tmp_path: Path) -> None:
    (tmp_path / "good.wsdl").write_bytes((WSDL / "drug_catalog.wsdl").read_bytes())
    (tmp_path / "bad.wsdl").write_text("<definitions")
    report = check_corpus(tmp_path)
    assert (report.loaded, report.failed, report.operations) == (1, 1, 3)
    assert any(line.startswith("FAIL bad.wsdl: cannot load WSDL") for line in report.lines)


def test_the_command_exits_non_zero_when_one_fails(tmp_path: Path, capsys: object) -> None:
    (tmp_path / "bad.wsdl").write_text("<definitions")
    assert main([str(tmp_path)]) == 1
    assert main([str(WSDL)]) == 0
    assert main([str(tmp_path / "missing")]) == 2
