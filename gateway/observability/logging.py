"""Structured logging: one JSON object per line, every line tagged with the request id.

Lines go to an :class:`~gateway.observability.output.Output` that never waits for
the log's reader (see :mod:`gateway.observability.output`): a stalled reader costs
dropped, counted lines, never a blocked event loop.

Secrets never reach a log line: Rosetta logs the path without the query string,
never headers or bodies, and :func:`redact` scrubs values that look like
credentials from anything else it logs.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import logging
import re
import sys
import time
from typing import Any

import orjson

from gateway.observability.output import Output, output_for

__all__ = [
    "ACCESS_LOG",
    "REQUEST_ID",
    "AccessLog",
    "configure",
    "log_access",
    "logger",
    "redact",
    "redact_urls",
]

#: The current request id, set by the front door for the whole request.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

logger = logging.getLogger("rosetta")

# A value after a credential-ish name: ``password=x``, ``api-key: x``, ``'secret': 'x'``, ``"token": "x"``.
_SECRETISH = re.compile(
    r"(?i)(bearer\s+|basic\s+|"
    r"(?:password|passwd|pwd|secret|token|api[-_]?key|private[-_]?key)[\"']?\s*[=:]\s*[\"']?)[^\s,;&\"']+"
)
# Headers whose whole value is a credential, whatever its scheme (Digest, Negotiate, a session cookie).
_CREDENTIAL_HEADER = re.compile(r"(?i)((?:proxy-)?authorization|cookie)([\"']?\s*[=:]\s*[\"']?)[^\r\n\"']+")
# A URL: its user information (``user:password@``) and its query string.
_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#\"'<>]*@)?([^\s?#\"'<>]*)(\?[^\s#\"'<>]*)?")
_QUERY_VALUE = re.compile(r"=[^&;]*")


def redact(text: str) -> str:
    """Replace anything that looks like a credential value with ``***``.

    Caught: URL user information and query values (see :func:`redact_urls`),
    ``Bearer``/``Basic`` credentials, the whole value of ``Authorization``,
    ``Proxy-Authorization`` and ``Cookie``, and the value after a name such
    as ``password``, ``secret``, ``token``, ``api_key`` or ``private_key``
    (``=``, ``:``, quoted or not)::

        redact("GET https://bob:hunter2@idp/jwks?token=abc")  # 'GET https://***@idp/jwks?token=***'
    """
    text = redact_urls(text)
    text = _CREDENTIAL_HEADER.sub(lambda m: m.group(1) + m.group(2) + "***", text)
    return _SECRETISH.sub(lambda m: m.group(1) + "***", text)


def redact_urls(text: str) -> str:
    """``text`` with every URL's user information and query values replaced by ``***``.

    Only URLs are touched, so it suits messages that quote a URL among other
    words (config errors)::

        redact_urls("unknown storage 'redis://:pw@h:6379'")  # "unknown storage 'redis://***@h:6379'"
    """
    if "://" not in text:
        return text
    return _URL.sub(_redact_url, text)


def _redact_url(match: re.Match[str]) -> str:
    scheme, userinfo, rest, query = match.groups()
    return scheme + ("***@" if userinfo else "") + rest + (_QUERY_VALUE.sub("=***", query) if query else "")


class _JsonFormatter(logging.Formatter):
    """One JSON object per record; never raises, so a record can never end up in
    the logging module's own error report (a traceback quoting its raw arguments)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(_message(record)),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                entry.setdefault(str(key), value)  # never replaces the redacted msg
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = redact(f"{record.exc_info[0].__name__}: {record.exc_info[1]}")
        return _dumps(entry).decode()


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 - arguments that do not fit the format are not shown
        return f"{record.msg} (its arguments did not fit the message)"


def _dumps(entry: dict[str, Any], option: int = 0) -> bytes:
    """``entry`` as JSON; a value orjson refuses (a lone surrogate, bytes, an object)
    is written as escaped text instead of failing the line."""
    try:
        return orjson.dumps(entry, option=option)
    except TypeError:  # orjson.JSONEncodeError is one
        pass
    try:
        return orjson.dumps(_jsonable(entry), option=option)
    except (TypeError, RecursionError):  # nested past orjson's (or Python's) depth limit
        kept: dict[str, Any] = {key: entry[key] for key in ("ts", "level", "logger", "request_id") if key in entry}
        kept["msg"] = "a log line nested too deeply to write"
        return orjson.dumps(_jsonable(kept), option=option)


def _jsonable(value: Any) -> Any:
    """``value`` with every string valid UTF-8 (surrogates as ``\\udcff``) and every
    value orjson cannot write turned into its text."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_jsonable(str(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else str(value)
    if isinstance(value, bytes | bytearray):
        return _jsonable(bytes(value).decode("utf-8", "backslashreplace"))
    return _jsonable(_text(value))


def _text(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - a value whose __str__ fails is named by its type
        return f"<{type(value).__name__}>"


def configure(level: str = "INFO", stream: Any = None) -> None:
    """Send Rosetta's logs, as JSON lines, to ``stream`` (stderr by default).

    Rosetta's, Sanic's and the access log's lines share one output, which never
    blocks (see :func:`~gateway.observability.output.output_for`).
    """
    stream = stream or sys.stderr
    handler = _OutputHandler(output_for(stream))
    for name in ("rosetta", "sanic.root", "sanic.error"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(level)
        log.propagate = False
        log.disabled = False
    ACCESS_LOG.stream = stream


class _OutputHandler(logging.Handler):
    """A logging handler writing each record as one JSON line to an :class:`Output`."""

    def __init__(self, output: Output) -> None:
        super().__init__()
        self.output = output
        self.setFormatter(_JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.output.write((self.format(record) + "\n").encode())


class AccessLog:
    """The access log: one JSON line per request, written without the logging machinery.

    The ``logging`` module costs tens of microseconds per record, a large share
    of a proxied request; access lines are instead serialised with orjson and
    handed to the output in batches, one per event-loop iteration. Listeners (tests,
    a future audit sink) see every line's fields as they are produced.
    """

    def __init__(self, stream: Any = None) -> None:
        self.listeners: list[Any] = []
        self._pending: list[bytes] = []
        self.stream = stream or sys.stderr

    @property
    def stream(self) -> Any:
        """Where the lines go; set it to send them elsewhere (through its :func:`output_for`)."""
        return self._stream

    @stream.setter
    def stream(self, stream: Any) -> None:
        self._stream = stream
        self._output = output_for(stream)

    def write(self, fields: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(fields)
        if not self._pending:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write at once
                self._pending.append(_line(fields))
                self.flush()
                return
        self._pending.append(_line(fields))

    def flush(self) -> None:
        """Hand every pending line to the output now (which never blocks)."""
        if not self._pending:
            return
        lines = b"".join(self._pending)
        self._pending.clear()
        self._output.write(lines)


def _line(fields: dict[str, Any]) -> bytes:
    # int(...)/1000, not round(): round() of a float costs 0.4 µs (it formats the number).
    ts = int(time.time() * 1000) / 1000
    entry = {"ts": ts, "level": "info", "logger": "rosetta.access", "msg": "request", **fields}
    try:
        return orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # a field orjson refuses: still one valid line, never a failed request
        return _dumps(entry, orjson.OPT_APPEND_NEWLINE)


#: The process's access log.
ACCESS_LOG = AccessLog()
atexit.register(ACCESS_LOG.flush)  # before the output's drain: exit handlers run last-registered first


def log_access(fields: dict[str, Any], started: float) -> None:
    """Write the one access line of a request."""
    fields["ms"] = int((time.perf_counter() - started) * 100_000 + 0.5) / 100  # to 0.01 ms
    ACCESS_LOG.write(fields)
