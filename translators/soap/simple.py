"""XSD simple types: JSON value ↔ XML text, and their JSON Schema. Pure, no I/O.

Rules, XML text → JSON (also in docs/soap.md):

* integer types (``int``, ``long``, ``unsignedShort`` …) → JSON integers; one
  beyond 64 bits (an unbounded ``integer``) stays a string, every digit kept;
* ``float``/``double`` → JSON numbers (``INF``, ``-INF`` and ``NaN`` stay strings,
  and so does a value past the double's range: ``1e400`` is ``"INF"``);
* ``boolean`` → ``true``/``false``;
* ``decimal`` → a string, every digit kept (``decimal_as: number`` gives a number);
* dates, times, durations: their ISO 8601 text; ``base64Binary``: base64 text;
* anything else → the string as written; an empty non-string element → ``null``.

JSON → XML text is strict: the JSON type must match (``"5"`` is not an
``xsd:int`` in a body), except for values that came from the query string or
path, which are strings by nature and are parsed (``lenient=True``). Digits a
double would lose are kept apart: ``decimal`` also takes strings, so does an
integer past 64 bits (which no JSON number carries exactly), and a JSON number
of 2^53 or more with a fraction or exponent (already rounded by the parser) is
refused in an integer or decimal field. Lexical forms take ASCII digits only.

Example::

    st = builtin("int")
    st.to_text(5)           # "5"
    st.to_text("5")         # raises TypeMismatch
    st.to_json("7")         # 7
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

__all__ = ["DecimalMode", "SimpleType", "TypeMismatch", "builtin"]

DecimalMode = Literal["string", "number"]


class TypeMismatch(ValueError):
    """A JSON value does not fit its XSD type; ``str()`` says why."""


_INT_RANGES: dict[str, tuple[int | None, int | None]] = {
    "integer": (None, None),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
_TZ = r"(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))?"
_DATE = r"-?\d{4,}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_TIME = r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?|24:00:00(?:\.0+)?"
# Lexical forms of XML Schema 1.1 Part 2 §3.3 (a subset of ISO 8601).
_PATTERNS: dict[str, str] = {
    "date": _DATE + _TZ,
    "dateTime": f"{_DATE}T(?:{_TIME}){_TZ}",
    "time": f"(?:{_TIME}){_TZ}",
    "duration": r"-?P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?",
    "gYear": r"-?\d{4,}" + _TZ,
    "gYearMonth": r"-?\d{4,}-(?:0[1-9]|1[0-2])" + _TZ,
    "gMonth": r"--(?:0[1-9]|1[0-2])" + _TZ,
    "gMonthDay": r"--(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])" + _TZ,
    "gDay": r"---(?:0[1-9]|[12]\d|3[01])" + _TZ,
}
# re.ASCII: in Python \d also matches "２" or "٣", which no XSD lexical form allows.
_COMPILED = {name: re.compile(pattern, re.ASCII) for name, pattern in _PATTERNS.items()}
_FORMATS = {"date": "date", "dateTime": "date-time", "time": "time", "duration": "duration",
            "anyURI": "uri"}  # fmt: skip
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_DOUBLE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?INF|NaN", re.ASCII)
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")
_EXACT = 2**53  # a double (what JSON numbers are parsed to) holds every integer below it
_JSON_INT = (-(2**63), 2**64 - 1)  # what Rosetta's JSON encoder writes as a number
_MAX_DIGITS = 4000  # below Python's int() limit (sys.get_int_max_str_digits, 4300)
_XML_SPACE = re.compile(r"[ \t\n\r]")
_SPECIAL_FLOATS = {"INF": "INF", "-INF": "-INF", "+INF": "INF", "NaN": "NaN"}
# Types whose empty element is the empty string; for the others it means "no value".
_EMPTY_IS_STRING = frozenset(
    {"string", "normalizedString", "token", "anyURI", "base64Binary", "hexBinary", "anySimpleType"}
)

Kind = Literal["integer", "float", "decimal", "boolean", "base64", "hex", "pattern", "string"]


@dataclass(frozen=True, slots=True)
class SimpleType:
    """One XSD simple type as Rosetta converts it; ``name`` is the built-in it derives from."""

    name: str  # XSD built-in local name: "int", "decimal", "dateTime" …
    kind: Kind
    item: SimpleType | None = None  # xs:list of this item type

    @property
    def xsd(self) -> str:
        """The prefixed name errors and signatures show, e.g. ``xsd:int`` or ``xsd:int[]``."""
        return f"xsd:{self.name}" if self.item is None else f"{self.item.xsd}[]"

    # -- XML text -> JSON ---------------------------------------------------
    def to_json(self, text: str | None, decimal_as: DecimalMode = "string") -> Any:
        """The JSON value of XML ``text``; text that does not fit the type stays a string."""
        if self.item is not None:
            return [self.item.to_json(part, decimal_as) for part in (text or "").split()]
        if not text:
            return "" if self.name in _EMPTY_IS_STRING else None
        if self.kind == "string":
            return text  # xs:string keeps its whitespace (XML Schema Part 2 §4.3.6)
        return _READERS[self.kind](text.strip(), decimal_as)

    # -- JSON -> XML text -----------------------------------------------------
    def to_text(self, value: Any, lenient: bool = False) -> str:
        """The XML text of a JSON ``value``; raise :class:`TypeMismatch` when it does not fit.

        ``lenient`` accepts the string form of numbers and booleans (query and path values).
        """
        if self.item is not None:
            if isinstance(value, str) and lenient:
                value = value.split()
            if not isinstance(value, list):
                raise TypeMismatch("expected an array")
            return " ".join(_list_item(self.item.to_text(v, lenient)) for v in value)
        return _WRITERS[self.kind](self, value, lenient)

    def json_schema(self, decimal_as: DecimalMode | None = None) -> dict[str, Any]:
        """JSON Schema of the value; ``decimal_as=None`` (requests) accepts strings and numbers."""
        if self.item is not None:
            return {"type": "array", "items": self.item.json_schema(decimal_as)}
        schema = _SCHEMAS[self.kind](self, decimal_as)
        schema["description"] = self.xsd
        return schema


def builtin(name: str) -> SimpleType:
    """The :class:`SimpleType` of the XSD built-in with local name ``name``."""
    if name in _INT_RANGES:
        return SimpleType(name, "integer")
    if name in ("float", "double"):
        return SimpleType(name, "float")
    kind: Kind = {
        "decimal": "decimal",
        "boolean": "boolean",
        "base64Binary": "base64",
        "hexBinary": "hex",
    }.get(name, "pattern" if name in _PATTERNS else "string")  # type: ignore[assignment]
    return SimpleType(name, kind)


def _list_item(text: str) -> str:
    """An xs:list item: its items are separated by whitespace, so they hold none."""
    if not text or _XML_SPACE.search(text):
        raise TypeMismatch("a list item cannot be empty or hold whitespace (xs:list items are space-separated)")
    return text


# -- readers (XML text -> JSON) ---------------------------------------------
def _read_integer(text: str, _: DecimalMode) -> Any:
    if len(text.lstrip("+-").lstrip("0")) > 20 or not _INTEGER.fullmatch(text):
        return text  # 21 digits are past 64 bits; thousands would be past int()'s limit
    value = int(text)
    return value if _JSON_INT[0] <= value <= _JSON_INT[1] else text


def _read_float(text: str, _: DecimalMode) -> Any:
    if text in _SPECIAL_FLOATS or not _DOUBLE.fullmatch(text):
        return text
    value = float(text)
    if math.isinf(value):  # past the type's range: XSD 1.1 Part 2 §3.3.5.2 rounds it to ±INF
        return "-INF" if value < 0 else "INF"
    return value


def _read_decimal(text: str, decimal_as: DecimalMode) -> Any:
    if decimal_as == "number" and _DECIMAL.fullmatch(text):
        value = float(text)
        return value if math.isfinite(value) else text
    return text


def _read_boolean(text: str, _: DecimalMode) -> Any:
    return {"true": True, "1": True, "false": False, "0": False}.get(text, text)


def _read_base64(text: str, _: DecimalMode) -> Any:
    return "".join(text.split())


def _read_text(text: str, _: DecimalMode) -> Any:
    return text


_READERS: dict[str, Callable[[str, DecimalMode], Any]] = {
    "integer": _read_integer,
    "float": _read_float,
    "decimal": _read_decimal,
    "boolean": _read_boolean,
    "base64": _read_base64,
    "hex": _read_text,
    "pattern": _read_text,
    "string": _read_text,
}


# -- writers (JSON -> XML text) ---------------------------------------------
def _write_integer(st: SimpleType, value: Any, lenient: bool) -> str:
    low, high = _INT_RANGES[st.name]
    if isinstance(value, str):
        value = _parse_integer(value.strip(), lenient)
    exact = not isinstance(value, float)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeMismatch("expected an integer")
    if (low is not None and value < low) or (high is not None and value > high):
        raise TypeMismatch(f"{value} is out of range for {st.xsd}")
    if not exact and abs(value) >= _EXACT:
        raise TypeMismatch("a JSON number this large is not exact after parsing; write it as a whole "
                           "number without a fraction or exponent (past 64 bits: a string of digits)")
    return str(value)


def _parse_integer(text: str, lenient: bool) -> Any:
    """The integer a string of digits spells, if taken here; else the string, refused by the caller.

    Query and path values are always taken; a body's string only past 64 bits,
    where no JSON number is exact.
    """
    if not _INTEGER.fullmatch(text):
        return text
    if len(text) > _MAX_DIGITS:
        raise TypeMismatch(f"more than {_MAX_DIGITS} digits")
    value = int(text)
    return value if lenient or not _JSON_INT[0] <= value <= _JSON_INT[1] else text


def _write_float(st: SimpleType, value: Any, lenient: bool) -> str:
    if isinstance(value, str) and (value in _SPECIAL_FLOATS or (lenient and _DOUBLE.fullmatch(value))):
        return _SPECIAL_FLOATS.get(value, value)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeMismatch("expected a number")
    return repr(float(value)) if isinstance(value, float) else str(value)


def _write_decimal(st: SimpleType, value: Any, lenient: bool) -> str:
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value.strip()):
            raise TypeMismatch("expected a decimal number (a JSON number or a string like \"12.50\")")
        return value.strip()
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeMismatch("expected a decimal number")
    if isinstance(value, float) and abs(value) >= _EXACT:
        raise TypeMismatch("a JSON number this large is not exact after parsing; send the decimal as a string")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise TypeMismatch("expected a finite decimal number")
    return format(number, "f")


def _write_boolean(st: SimpleType, value: Any, lenient: bool) -> str:
    if lenient and isinstance(value, str) and value in ("true", "false", "1", "0"):
        return "true" if value in ("true", "1") else "false"
    if not isinstance(value, bool):
        raise TypeMismatch("expected true or false")
    return "true" if value else "false"


def _write_base64(st: SimpleType, value: Any, lenient: bool) -> str:
    if not isinstance(value, str):
        raise TypeMismatch("expected a base64 string")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise TypeMismatch("expected a base64 string") from None
    return value


def _write_hex(st: SimpleType, value: Any, lenient: bool) -> str:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise TypeMismatch("expected a string of hexadecimal digit pairs")
    return value


def _write_pattern(st: SimpleType, value: Any, lenient: bool) -> str:
    if not isinstance(value, str) or not _COMPILED[st.name].fullmatch(value):
        raise TypeMismatch(f"expected an ISO 8601 {st.name} string")
    if st.name in ("date", "dateTime"):
        _check_calendar(value)
    return value


_YMD = re.compile(r"-?(\d{4,})-(\d\d)-(\d\d)", re.ASCII)


def _check_calendar(text: str) -> None:
    match = _YMD.match(text)
    year, month, day = (int(part) for part in match.groups()) if match else (1, 1, 1)
    if 1 <= year <= 9999:
        try:
            dt.date(year, month, day)
        except ValueError:
            raise TypeMismatch(f"{text!r} is not a calendar date") from None


def _write_string(st: SimpleType, value: Any, lenient: bool) -> str:
    if not isinstance(value, str):
        raise TypeMismatch("expected a string")
    return value


_WRITERS: dict[str, Callable[[SimpleType, Any, bool], str]] = {
    "integer": _write_integer,
    "float": _write_float,
    "decimal": _write_decimal,
    "boolean": _write_boolean,
    "base64": _write_base64,
    "hex": _write_hex,
    "pattern": _write_pattern,
    "string": _write_string,
}


# -- JSON Schemas -------------------------------------------------------------
def _schema_integer(st: SimpleType, _: DecimalMode | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    low, high = _INT_RANGES[st.name]
    if low is not None:
        schema["minimum"] = low
    if high is not None:
        schema["maximum"] = high
    if low is None or high is None:  # past 64 bits (20 digits or more) a string of digits
        return {"oneOf": [schema, {"type": "string", "pattern": "^[+-]?[0-9]{20,}$"}]}
    return schema


def _schema_float(st: SimpleType, _: DecimalMode | None) -> dict[str, Any]:
    return {"oneOf": [{"type": "number"}, {"enum": ["INF", "-INF", "NaN"]}]}


def _schema_decimal(st: SimpleType, decimal_as: DecimalMode | None) -> dict[str, Any]:
    text = {"type": "string", "pattern": "^" + _DECIMAL.pattern + "$"}
    if decimal_as is None:
        return {"oneOf": [{"type": "number"}, text]}
    return {"type": "number"} if decimal_as == "number" else text


def _schema_pattern(st: SimpleType, _: DecimalMode | None) -> dict[str, Any]:
    schema = {"type": "string", "pattern": f"^(?:{_PATTERNS[st.name]})$"}
    if st.name in _FORMATS:
        schema["format"] = _FORMATS[st.name]
    return schema


def _schema_string(st: SimpleType, _: DecimalMode | None) -> dict[str, Any]:
    schema = {"type": "string"}
    if st.name in _FORMATS:
        schema["format"] = _FORMATS[st.name]
    return schema


_SCHEMAS: dict[str, Callable[[SimpleType, DecimalMode | None], dict[str, Any]]] = {
    "integer": _schema_integer,
    "float": _schema_float,
    "decimal": _schema_decimal,
    "boolean": lambda st, _: {"type": "boolean"},
    "base64": lambda st, _: {"type": "string", "contentEncoding": "base64"},
    "hex": lambda st, _: {"type": "string", "pattern": "^(?:[0-9a-fA-F]{2})*$"},
    "pattern": _schema_pattern,
    "string": _schema_string,
}
