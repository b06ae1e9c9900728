"""Text of XML elements and attributes → JSON scalars, by XSD type or by inference.

Rules (also in docs/xml-json.md):

* integer types (``int``, ``long``, ``short``, ``byte``, ``integer`` and their
  unsigned/positive kinds) → ``int`` within 64 bits (−2⁶³ … 2⁶⁴−1, what the
  gateway's JSON writer carries); larger integers stay strings;
* ``double``/``float`` → ``float``, except ``INF``, ``-INF``, ``NaN`` and values
  that overflow a double (``1e400``), which JSON cannot carry and stay strings;
* ``boolean`` → ``true``/``false`` (``1``/``0`` too);
* ``decimal`` → string by default (no precision lost), a number on request;
* every other type (dates, times, durations, ``base64Binary``, ``hexBinary``,
  ``anyURI``, ``QName`` …) → the string as written;
* text that does not match its declared type is kept as the string it is.

Without a schema, ``infer_types`` recognises only unambiguous numbers and
``true``/``false``: no leading zeros (``"007"`` stays a string), integers within
±(2⁵³−1) and decimals of at most 15 significant digits, so a JavaScript client
gets exactly the value that was sent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Literal

__all__ = ["INTEGER_TYPES", "STRING_EMPTY_TYPES", "DecimalMode", "converters", "infer"]

DecimalMode = Literal["string", "number"]

INTEGER_TYPES = frozenset(
    {
        "int", "integer", "long", "short", "byte",
        "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
        "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte",
    }
)  # fmt: skip
_FLOAT_TYPES = frozenset({"double", "float"})
# Types whose empty element is the empty string rather than null.
STRING_EMPTY_TYPES = frozenset(
    {"string", "normalizedString", "token", "anyURI", "base64Binary", "hexBinary"}
)

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DOUBLE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_INFER_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,15})")
_INFER_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
_SAFE_INT = 2**53 - 1
_MIN_INT, _MAX_INT = -(2**63), 2**64 - 1  # the integers orjson writes
_MAX_INT_DIGITS = 20  # digits of _MAX_INT: longer plain digit runs never fit
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


def _to_int(text: str) -> Any:
    if len(text) < _MAX_INT_DIGITS and text.isdigit() and text.isascii():  # the common case
        return int(text)
    return _bounded_int(text) if _INTEGER.fullmatch(text) else text


def _bounded_int(text: str) -> Any:
    """The integer ``text`` (already matched) if JSON can carry it, else ``text``.

    Digits are counted before converting: ``int()`` of a long digit string is
    slow, and refused outright past Python's 4300-digit limit.
    """
    if len(text.lstrip("+-").lstrip("0")) > _MAX_INT_DIGITS:
        return text
    value = int(text)
    return value if _MIN_INT <= value <= _MAX_INT else text


def _to_float(text: str) -> Any:
    if not _DOUBLE.fullmatch(text):
        return text
    value = float(text)
    return value if math.isfinite(value) else text


def _to_bool(text: str) -> Any:
    return _BOOLEANS.get(text, text)


def _decimal_number(text: str) -> Any:
    if not _DECIMAL.fullmatch(text):
        return text
    if "." not in text:
        return _bounded_int(text)
    value = float(text)
    return value if math.isfinite(value) else text


@cache
def converters(decimals: DecimalMode = "string") -> Mapping[str, Callable[[str], Any]]:
    """Built-in XSD type → function turning its text into the JSON value.

    Types not in the mapping (strings, dates, binary …) keep their text.
    """
    table: dict[str, Callable[[str], Any]] = dict.fromkeys(INTEGER_TYPES, _to_int)
    table.update(dict.fromkeys(_FLOAT_TYPES, _to_float), boolean=_to_bool)
    if decimals == "number":
        table["decimal"] = _decimal_number
    return table


def infer(text: str) -> Any:
    """``"42"`` → 42, ``"4.5"`` → 4.5, ``"true"`` → True; anything else unchanged."""
    if text == "true":
        return True
    if text == "false":
        return False
    if _INFER_INT.fullmatch(text):
        value = int(text)
        return value if -_SAFE_INT <= value <= _SAFE_INT else text
    if _INFER_FLOAT.fullmatch(text) and len(text.lstrip("-0.").replace(".", "")) <= 15:
        return float(text)
    return text
