"""XSD simple types: JSON ↔ XML text, strict from bodies, lenient from query strings."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.soap.simple import SimpleType, TypeMismatch, builtin


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("int", "42", 42),
        ("long", "-9007199254740993", -9007199254740993),
        ("unsignedByte", "255", 255),
        ("double", "2.5", 2.5),
        ("double", "1E3", 1000.0),
        ("double", "INF", "INF"),
        ("float", "NaN", "NaN"),
        ("decimal", "0.10", "0.10"),
        ("boolean", "true", True),
        ("boolean", "0", False),
        ("date", "2024-02-29", "2024-02-29"),
        ("dateTime", " 2024-02-29T10:00:00Z ", "2024-02-29T10:00:00Z"),
        ("base64Binary", "AAEC\n AwQ=", "AAECAwQ="),
        ("string", "", ""),
        ("int", "", None),
        ("int", "not-a-number", "not-a-number"),
    ],
)
def test_xml_text_becomes_typed_json(name: str, text: str, expected: object) -> None:
    assert builtin(name).to_json(text) == expected


def test_decimal_can_come_out_as_a_number() -> None:
    assert builtin("decimal").to_json("12.50", "number") == 12.5


def test_a_list_type_is_a_json_array() -> None:
    tags = SimpleType("list", "string", item=builtin("int"))
    assert tags.to_json("1 2  3") == [1, 2, 3]
    assert tags.to_text([1, 2]) == "1 2"
    assert tags.xsd == "xsd:int[]"


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("int", 5, "5"),
        ("int", 5.0, "5"),
        ("double", 0.1, "0.1"),
        ("double", "-INF", "-INF"),
        ("decimal", 0.1, "0.1"),
        ("decimal", "12345678901234567890.5", "12345678901234567890.5"),
        ("decimal", 1e-7, "0.0000001"),
        ("boolean", True, "true"),
        ("date", "2024-02-29", "2024-02-29"),
        ("dateTime", "2024-02-29T10:00:00.123+05:30", "2024-02-29T10:00:00.123+05:30"),
        ("time", "23:59:59Z", "23:59:59Z"),
        ("duration", "P1Y2M3DT4H5M6.5S", "P1Y2M3DT4H5M6.5S"),
        ("hexBinary", "0aFF", "0aFF"),
    ],
)
def test_json_values_become_xml_text(name: str, value: object, text: str) -> None:
    assert builtin(name).to_text(value) == text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("int", "5"),
        ("int", True),
        ("int", 2**31),
        ("unsignedInt", -1),
        ("byte", 128),
        ("double", "1.5"),
        ("double", None),
        ("decimal", "1,5"),
        ("decimal", float("inf")),
        ("boolean", "true"),
        ("boolean", 1),
        ("date", "2024-02-30"),
        ("date", "24-02-01"),
        ("dateTime", "2024-02-01 10:00"),
        ("duration", "P"),
        ("base64Binary", "not base64!"),
        ("hexBinary", "abc"),
        ("string", 5),
    ],
)
def test_a_json_value_of_the_wrong_type_is_refused(name: str, value: object) -> None:
    with pytest.raises(TypeMismatch):
        builtin(name).to_text(value)


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [("int", "5", "5"), ("boolean", "1", "true"), ("double", "2.5", "2.5"), ("decimal", "3.10", "3.10")],
)
def test_query_string_values_are_parsed_leniently(name: str, value: str, text: str) -> None:
    assert builtin(name).to_text(value, lenient=True) == text


def test_lenient_parsing_still_refuses_nonsense() -> None:
    with pytest.raises(TypeMismatch):
        builtin("int").to_text("five", lenient=True)


@settings(max_examples=60)
@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_longs_round_trip(value: int) -> None:
    long = builtin("long")
    assert long.to_json(long.to_text(value)) == value


@settings(max_examples=60)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=6))
def test_decimals_round_trip_without_losing_digits(value: object) -> None:
    dec = builtin("decimal")
    assert dec.to_json(dec.to_text(str(value))) == str(value)


@settings(max_examples=40)
@given(st.binary(max_size=64))
def test_base64_round_trips(value: bytes) -> None:
    text = base64.b64encode(value).decode()
    assert builtin("base64Binary").to_json(builtin("base64Binary").to_text(text)) == text


@pytest.mark.parametrize(
    ("name", "value", "lenient"),
    [
        ("date", "２０２４-01-01", False),
        ("dateTime", "2024-01-01T1٠:00:00Z", False),
        ("duration", "P１D", False),
        ("gYear", "２０２４", False),
        ("decimal", "١٢.٥", False),
        ("double", "１.5", True),
    ],
)
def test_digits_other_than_ascii_are_refused(name: str, value: str, lenient: bool) -> None:
    """XSD lexical forms take the digits 0-9 only; others would reach the backend as they are."""
    with pytest.raises(TypeMismatch):
        builtin(name).to_text(value, lenient=lenient)


def test_a_time_zone_offset_past_fourteen_hours_is_refused() -> None:
    with pytest.raises(TypeMismatch):
        builtin("dateTime").to_text("2024-01-01T10:00:00+14:30")
    assert builtin("dateTime").to_text("2024-01-01T10:00:00-14:00") == "2024-01-01T10:00:00-14:00"


@pytest.mark.parametrize(
    ("name", "value"),
    [("integer", 1.2345678901234568e29), ("nonNegativeInteger", 1.2345678901234568e29), ("long", 1e18),
     ("decimal", 1.2345678901234568e29)],
)
def test_a_json_number_too_large_to_be_exact_is_refused(name: str, value: float) -> None:
    """123456789012345678901234567890 reaches Rosetta as a double: its last digits are gone."""
    with pytest.raises(TypeMismatch, match="exact"):
        builtin(name).to_text(value)


def test_a_query_value_with_thousands_of_digits_is_refused_not_a_crash() -> None:
    with pytest.raises(TypeMismatch):
        builtin("int").to_text("9" * 5000, lenient=True)


def test_an_integer_no_json_number_can_carry_may_be_sent_as_a_string_of_digits() -> None:
    """Past 64 bits only: a value a JSON number carries exactly must still be a number."""
    assert builtin("integer").to_text("123456789012345678901234567890") == "123456789012345678901234567890"
    assert builtin("negativeInteger").to_text(" -18446744073709551617 ") == "-18446744073709551617"
    for name, text in (("integer", "5"), ("integer", "18446744073709551615"), ("long", "99999999999999999999")):
        with pytest.raises(TypeMismatch):
            builtin(name).to_text(text)


@pytest.mark.parametrize("text", ["123456789012345678901234567890", "-18446744073709551617", "9" * 5000])
def test_integers_beyond_64_bits_come_out_as_strings(text: str) -> None:
    """A JSON encoder (and most clients) stop at 64 bits; a string keeps every digit."""
    assert builtin("integer").to_json(text) == text


@pytest.mark.parametrize(("name", "text", "expected"), [("double", "1e400", "INF"), ("float", "-1e400", "-INF")])
def test_a_double_beyond_its_range_is_infinity_as_a_string(name: str, text: str, expected: str) -> None:
    assert builtin(name).to_json(text) == expected


def test_a_decimal_too_large_for_a_number_stays_a_string() -> None:
    assert builtin("decimal").to_json("9" * 400, "number") == "9" * 400


@pytest.mark.parametrize("items", [["a b"], ["a", ""], ["tab\there"]])
def test_list_items_holding_whitespace_are_refused(items: list[str]) -> None:
    """An xs:list is whitespace-separated: "a b" would reach the backend as two items."""
    with pytest.raises(TypeMismatch, match="whitespace"):
        SimpleType("list", "string", item=builtin("string")).to_text(items)
