"""`rosetta check`'s proto corpus loader: counts files, methods and HTTP bindings."""

from __future__ import annotations

from pathlib import Path

import pytest

from translators.grpc.corpus import check_corpus, main

SHARED = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "protos"


def test_the_repository_protos_all_load():
    root = Path(__file__).resolve().parents[3] / "protos"
    loaded, failed, methods, bindings = check_corpus(root)
    assert failed == 0 and loaded >= 2 and methods >= 7 and bindings >= 8


def test_a_broken_file_is_counted_and_named(tmp_path, capsys):
    (tmp_path / "good.proto").write_text('syntax = "proto3";\nservice S { rpc A(M) returns (M); }\nmessage M {}\n')
    (tmp_path / "bad.proto").write_text('syntax = "proto3";\nmessage M {\n')
    report = check_corpus(tmp_path)
    assert tuple(report) == (1, 1, 1, 0)
    assert report.failures[0][0] == "bad.proto"
    assert main(str(tmp_path)) == 1
    assert "bad.proto" in capsys.readouterr().out


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared proto corpus is only checked where it exists")
def test_the_shared_corpus_loads():
    report = check_corpus(SHARED)
    assert report.failed == 0, report.failures
    assert report.loaded >= 18 and report.methods >= 59 and report.bindings >= 60
