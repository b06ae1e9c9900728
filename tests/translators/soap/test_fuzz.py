"""Property tests of the pure codec: any JSON gets a typed answer, valid shapes round-trip."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import InvalidArguments
from tests.translators.soap.test_codec import OPS, echo
from translators.soap.envelope import build_request

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from(["id", "label", "ratio", "amount", "active", "scores", "tags", "child", "note",
                         "circle", "square", "price", "extra", "anything", "@version", "unknown"])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, _json, max_size=6))
def test_any_json_is_either_built_or_refused_with_field_errors(shape: dict[str, Any]) -> None:
    try:
        build_request(OPS["Echo"], {"shape": shape})
    except InvalidArguments as exc:
        assert exc.extra["errors"] and all({"field", "expected", "message"} <= set(e) for e in exc.extra["errors"])


_xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12) | st.sampled_from(
    [" padded ", "", "\t\n", "a\r\nb", "<&>\"'"]
)
_word = st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=6)


def _shapes(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    fields = {
        "label": _xml_text,
        "ratio": st.floats(allow_nan=False, allow_infinity=False, width=64),
        "amount": st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
        "active": st.booleans(),
        "scores": st.lists(st.integers(-(2**31), 2**31 - 1), max_size=3),
        "tags": st.lists(_word, max_size=3),
        "note": st.none() | _xml_text,
    }
    if depth:
        fields["child"] = st.lists(_shapes(depth - 1), max_size=2)
    return st.fixed_dictionaries(
        {"id": st.integers(-(2**63), 2**63 - 1)}, optional=fields  # type: ignore[arg-type]
    )


def _expected(shape: dict[str, Any]) -> dict[str, Any]:
    out = {"scores": [], "pair": [], "child": [], **shape}
    out["child"] = [_expected(c) for c in out["child"]]
    if out.get("tags") == []:
        out["tags"] = []
    return out


@settings(max_examples=120, deadline=None)
@given(_shapes(2))
def test_valid_shapes_round_trip_through_xml(shape: dict[str, Any]) -> None:
    assert echo(build_request(OPS["Echo"], {"shape": shape})) == {"shape": _expected(shape)}
