"""Structured logging: one JSON object per line, every line tagged with the request id.

Secrets never reach a log line: Rosetta logs the path without the query string,
never headers or bodies, and :func:`redact` scrubs values that look like
credentials from anything else it logs.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
from typing import Any

import orjson

__all__ = ["REQUEST_ID", "access_logger", "configure", "logger", "redact"]

#: The current request id, set by the front door for the whole request.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

logger = logging.getLogger("rosetta")
access_logger = logging.getLogger("rosetta.access")

_SECRETISH = re.compile(
    r"(?i)(bearer\s+|basic\s+|(?:password|passwd|secret|token|api[-_]?key)\s*[=:]\s*)[^\s,;&\"']+"
)


def redact(text: str) -> str:
    """Replace anything that looks like a credential value with ``***``."""
    return _SECRETISH.sub(lambda m: m.group(1) + "***", text)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        fields = getattr(record, "fields", None)
        if fields:
            entry.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = redact(f"{record.exc_info[0].__name__}: {record.exc_info[1]}")
        return orjson.dumps(entry).decode()


def configure(level: str = "INFO", stream: Any = None) -> None:
    """Send Rosetta's logs, as JSON lines, to ``stream`` (stderr by default)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_JsonFormatter())
    for name in ("rosetta", "sanic.root", "sanic.error"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(level)
        log.propagate = False
        log.disabled = False


def log_access(fields: dict[str, Any], started: float) -> None:
    """Write the one access line of a request."""
    if access_logger.isEnabledFor(logging.INFO):
        fields["ms"] = round((time.perf_counter() - started) * 1000, 2)
        access_logger.info("request", extra={"fields": fields})
