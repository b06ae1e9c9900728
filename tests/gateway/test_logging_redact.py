"""Log lines: credentials are scrubbed, and no value — a lone surrogate, bytes, an
object — can make a line fail, leave the one-JSON-object-per-line format, or turn
into the logging module's own traceback quoting the raw arguments."""

import io
import logging

import orjson
import pytest

from gateway.observability.logging import AccessLog, configure, redact, redact_urls


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("connect redis://:hunter2@h:6379/0 failed", "connect redis://***@h:6379/0 failed"),
        ("GET https://bob:hun@ter2@idp/jwks", "GET https://***@idp/jwks"),
        ("GET https://idp/jwks?client=a&access_token=hunter2", "GET https://idp/jwks?client=***&access_token=***"),
        ("{'password': 'hunter2', 'user': 'bob'}", "{'password': '***', 'user': 'bob'}"),
        ('{"client_secret": "hunter2"}', '{"client_secret": "***"}'),
        ("Authorization: Digest username=bob, response=hunter2", "Authorization: ***"),
        ("Proxy-Authorization: Negotiate hunter2", "Proxy-Authorization: ***"),
        ("Cookie: session=hunter2; theme=dark", "Cookie: ***"),
        ("private_key=hunter2 pwd=hunter3", "private_key=*** pwd=***"),
        ("Authorization: Bearer abc.def.ghi", "Authorization: ***"),
        ("sent Bearer abc.def.ghi", "sent Bearer ***"),
        ("x-api-key: hunter2", "x-api-key: ***"),
    ],
)
def test_redact_hides_the_credential_and_keeps_the_rest(text, expected):
    assert redact(text) == expected


def test_redact_urls_touches_only_urls():
    text = "secret: HS256 needs 32 bytes; storage 'rediss://u:pw@h/0'"
    assert redact_urls(text) == "secret: HS256 needs 32 bytes; storage 'rediss://***@h/0'"


def test_a_url_without_credentials_is_left_alone():
    assert redact("no upstream at http://127.0.0.1:9101/x@y") == "no upstream at http://127.0.0.1:9101/x@y"


@pytest.fixture
def rosetta_log():
    stream = io.StringIO()
    log = logging.getLogger("rosetta")
    saved = log.handlers[:], log.level, log.propagate
    configure(stream=stream)
    yield log, stream
    log.handlers[:], log.level, log.propagate = saved[0], saved[1], saved[2]


def lines_of(stream):
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def test_a_log_record_with_a_lone_surrogate_is_still_one_json_line(rosetta_log, capsys):
    log, stream = rosetta_log
    log.warning("no route for %s", "/a\udcff", extra={"fields": {"path": "/b\ud800", "raw": b"\xff"}})
    (line,) = lines_of(stream)
    assert line["msg"] == "no route for /a\\udcff"
    assert line["path"] == "/b\\ud800" and line["raw"] == "\\xff"
    assert "Logging error" not in capsys.readouterr().err


def test_a_log_record_with_arguments_that_do_not_fit_never_shows_them(rosetta_log, capsys):
    log, stream = rosetta_log
    record = log.makeRecord("rosetta", logging.WARNING, __file__, 1, "retry %d of upstream", ("password=hunter2",), None)
    log.handlers[0].handle(record)  # straight to the handler: the suite's log capture formats records itself
    (line,) = lines_of(stream)
    assert line["msg"] == "retry %d of upstream (its arguments did not fit the message)"
    assert "hunter2" not in capsys.readouterr().err + stream.getvalue()


def test_structured_fields_cannot_replace_the_redacted_message(rosetta_log):
    log, stream = rosetta_log
    log.warning("calling", extra={"fields": {"msg": "password=hunter2", "level": "debug", "upstream": "a"}})
    (line,) = lines_of(stream)
    assert (line["msg"], line["level"], line["upstream"]) == ("calling", "warning", "a")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("/a\udcff\"\n", '/a\\udcff"\n'),
        (b"/raw\xff", "/raw\\xff"),
        (1 << 70, str(1 << 70)),
        (("a", "b\ud800"), ["a", "b\\ud800"]),
    ],
)
def test_an_access_line_with_a_field_orjson_refuses_is_still_one_valid_line(value, written):
    stream = io.StringIO()
    AccessLog(stream).write({"path": value, "status": 200})
    (line,) = stream.getvalue().splitlines()
    assert orjson.loads(line)["path"] == written


def test_an_access_line_with_an_object_field_writes_its_text():
    class Consumer:
        def __str__(self):
            return "acme"

    stream = io.StringIO()
    AccessLog(stream).write({"consumer": Consumer()})
    assert orjson.loads(stream.getvalue())["consumer"] == "acme"


def test_an_access_line_nested_past_what_json_can_write_keeps_its_request_id():
    deep: dict = {}
    node = deep
    for _ in range(300):
        node["a"] = node = {}
    stream = io.StringIO()
    AccessLog(stream).write({"request_id": "r1", "detail": deep})
    line = orjson.loads(stream.getvalue())
    assert (line["request_id"], line["msg"]) == ("r1", "a log line nested too deeply to write")
