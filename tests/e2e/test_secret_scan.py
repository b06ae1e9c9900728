"""No secret the suite used — tokens, API keys, HMAC secrets, passwords — is ever logged.

Runs after every other test (see ``tests/conftest.py``) over every log line the
session captured (``tests/e2e/log_capture.py``).
"""

from tests.e2e import log_capture


def test_the_scanner_finds_a_secret_in_a_line():
    lines = ["rosetta | INFO | call with Bearer abc.def.ghi", "rosetta | INFO | nothing here"]
    assert log_capture.scan(lines, {"abc.def.ghi"}) == [("abc.def.ghi", lines[0])]
    assert log_capture.scan(lines, {"zzz"}) == []


def test_no_secret_used_by_the_suite_appears_in_any_log_line():
    if log_capture.SECRETS:
        assert log_capture.LINES, "secrets were used but no log line was captured: capture is broken"
    found = log_capture.scan(log_capture.LINES, log_capture.SECRETS)
    shown = [f"{secret[:6]}… in: {line[:200]}" for secret, line in found[:5]]
    assert not found, "secrets were logged:\n" + "\n".join(shown)
