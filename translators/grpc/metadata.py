"""What gRPC metadata can carry, checked before a call is made. No I/O.

gRPC metadata ("Custom-Metadata" in the gRPC over HTTP/2 protocol spec) has
lower-case keys of letters, digits, ``-``, ``_`` and ``.``. A key ending in
``-bin`` holds bytes, base64-encoded in text; any other key holds printable
ASCII (0x20-0x7E). grpc fails a whole call whose metadata breaks these rules
(an ``InternalError``, or a ``TypeError`` for text under a ``-bin`` key), and
silently drops what it sets itself (``grpc-*``, ``content-type``, ``te``,
``user-agent``). So Rosetta refuses such keys when the config loads, and such
values before the call: a configured one when the config loads, a forwarded
header as a 400 naming it::

    key_problem("x-tenant")          # None
    key_problem("grpc-timeout")      # "grpc sets 'grpc-*' keys itself"
    outgoing("x-tenant", "acme")     # "acme"
    outgoing("x-trace-bin", "AAEC")  # b"\\x00\\x01\\x02"
    outgoing("x-tenant", "café")     # ValueError: not printable ASCII
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import NoReturn

__all__ = ["key_problem", "outgoing"]

_KEY = re.compile(r"^[0-9a-z_.-]+$")
_SET_BY_GRPC = frozenset({"content-type", "te", "user-agent"})
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]*$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]*={0,2}$")


def key_problem(key: str) -> str | None:
    """Why ``key`` (lower case) cannot be a metadata key Rosetta sends; ``None`` when it can."""
    if not _KEY.match(key):
        return "metadata keys hold lower-case letters, digits, '-', '_' and '.'"
    if key.startswith("grpc-"):
        return "grpc sets 'grpc-*' keys itself"
    if key in _SET_BY_GRPC:
        return f"grpc sets '{key}' itself"
    return None


def outgoing(key: str, text: str) -> str | bytes:
    """``text`` as the value of metadata ``key``: bytes from base64 for ``-bin`` keys, else ``text``.

    Raises ``ValueError`` saying what is wrong, without repeating the value
    (it may be a secret).
    """
    if key.endswith("-bin"):
        return _decoded(text)
    if not _PRINTABLE_ASCII.match(text):
        _refuse("holds characters gRPC metadata cannot carry (printable ASCII only)")
    return text


def _decoded(text: str) -> bytes:
    stripped = text.strip()
    if not _BASE64.match(stripped):
        _refuse("is not base64, which a '-bin' key takes")
    try:
        return base64.urlsafe_b64decode(stripped.replace("+", "-").replace("/", "_") + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError):
        _refuse("is not base64, which a '-bin' key takes")


def _refuse(reason: str) -> NoReturn:
    raise ValueError(f"the value {reason}")
