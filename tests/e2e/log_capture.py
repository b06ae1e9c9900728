"""Every log record Rosetta writes during the test session, for the secret scan.

:func:`install` wraps :meth:`logging.Logger.callHandlers` once per session, so
records are seen whatever handlers Rosetta's logging set-up installs or
replaces, and :meth:`logging.Logger.isEnabledFor`, so debug records are seen
(though not written) at any configured level. Each record is kept as the line an operator could see: message,
exception text and structured fields, *before* redaction, so the scan proves
secrets are never logged, not merely masked. Tests register the secrets they
use with :func:`remember`; ``tests/e2e/test_secret_scan.py`` runs last and
checks none of them was ever logged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["LINES", "SECRETS", "install", "remember", "run_last", "scan"]

#: Captured log lines, in order.
LINES: list[str] = []
#: Secret values the suite used (tokens, keys, passwords).
SECRETS: set[str] = set()

_PREFIXES = ("rosetta", "sanic", "gateway", "translators")
_SCAN_MODULE = "test_secret_scan.py"
_installed = False


def remember(secret: str) -> str:
    """Register a secret the scan must never find in a log line; return it."""
    if secret:
        SECRETS.add(secret)
    return secret


def install(path: Path | None = None) -> None:
    """Capture every Rosetta and Sanic log record from now on (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    original, original_enabled = logging.Logger.callHandlers, logging.Logger.isEnabledFor
    sink = path.open("a", encoding="utf-8") if path is not None else None

    def enabled(self: logging.Logger, level: int) -> bool:
        # Debug records too: an operator may run at DEBUG, so they must be clean as well.
        return self.name.startswith(_PREFIXES) or original_enabled(self, level)

    def capturing(self: logging.Logger, record: logging.LogRecord) -> None:
        if record.name.startswith(_PREFIXES):
            line = _render(record)
            LINES.append(line)
            if sink is not None:
                sink.write(line + "\n")
                sink.flush()
            if not original_enabled(self, record.levelno):
                return  # below the configured level: captured, not written
        original(self, record)

    logging.Logger.isEnabledFor = enabled  # type: ignore[method-assign]
    logging.Logger.callHandlers = capturing  # type: ignore[method-assign]

    from gateway.observability.logging import ACCESS_LOG

    def access(fields: dict[str, Any]) -> None:
        # The access log bypasses the logging module; its lines are scanned too.
        line = f"rosetta.access | INFO | {fields.get('request_id', '')} | request | fields={fields!r}"
        LINES.append(line)
        if sink is not None:
            sink.write(line + "\n")
            sink.flush()

    ACCESS_LOG.listeners.append(access)


def _render(record: logging.LogRecord) -> str:
    from gateway.observability.logging import REQUEST_ID

    parts: list[Any] = [record.name, record.levelname, REQUEST_ID.get() or ""]
    try:
        parts.append(record.getMessage())
    except Exception:  # a bad format string still shows its raw parts
        parts += [record.msg, record.args]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(logging.Formatter().formatException(record.exc_info))
    for key, value in vars(record).items():
        if key not in _STANDARD:
            parts.append(f"{key}={value!r}")
    return " | ".join(str(p) for p in parts)


_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def scan(lines: Iterable[str], secrets: Iterable[str]) -> list[tuple[str, str]]:
    """Each (secret, line) pair where a secret appears in a line."""
    found = []
    for line in lines:
        for secret in secrets:
            if secret in line:
                found.append((secret, line))
    return found


def run_last(items: list[Any]) -> None:
    """Move the secret scan to the end of the session, after every test that logs."""
    scan_items = [i for i in items if os.path.basename(str(i.fspath)) == _SCAN_MODULE]
    items[:] = [i for i in items if i not in scan_items] + scan_items
