"""XmlOptions: the validated ``xml:`` block, refusing what cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from translators.xmljson import XmlOptions


def test_defaults_are_xmltodicts_conventions() -> None:
    options = XmlOptions()
    assert (options.attr_prefix, options.text_key, options.namespaces) == ("@", "#text", "prefix")
    assert not options.infer_types and options.force_list == ()


def test_the_documented_yaml_shape_validates(tmp_path: Path) -> None:
    (tmp_path / "xsd").mkdir()
    (tmp_path / "xsd" / "inventory.xsd").write_text(
        "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'/>"
    )
    raw = {
        "namespaces": "strip",
        "force_list": ["items/item"],
        "schema": "xsd/inventory.xsd",
        "root": "order",
    }
    options = XmlOptions.model_validate(raw, context={"base_dir": tmp_path})
    assert options.schema_file == tmp_path / "xsd" / "inventory.xsd"
    assert options.force_list == ("items/item",)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"nmespaces": "strip"}, "Extra inputs are not permitted"),
        ({"namespaces": "keep"}, "namespaces"),
        ({"attr_prefix": "a"}, "cannot start an XML name"),
        ({"text_key": ""}, "at least 1 character"),
        ({"attr_prefix": "#", "text_key": "#text"}, "text_key must not start with attr_prefix"),
        ({"force_list": ["items//item"]}, "is not an XML local name"),
        ({"force_list": ["items/it em"]}, "is not an XML local name"),
        ({"root": "1order"}, "not a valid XML element name"),
        ({"item_name": "a b"}, "not a valid XML element name"),
        ({"xmlns": {"p": ""}}, "needs a non-empty namespace URI"),
        ({"xmlns": {"xmlns": "urn:x"}}, "cannot be bound"),
        ({"namespaces": {"urn:a": "p", "urn:b": "p"}}, "same prefix"),
        (
            {"null": "nil", "xmlns": {"xsi": "urn:not-xsi"}},
            "prefix 'xsi' must be the XSI namespace",
        ),
        ({"max_depth": 0}, "greater than or equal to 1"),
        ({"max_depth": 10_000}, "less than or equal to 500"),
        ({"schema": "missing.xsd"}, "file not found"),
        ({"decimals": "float"}, "decimals"),
    ],
)
def test_invalid_options_are_refused_with_a_reason(raw: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError, match=message):
        XmlOptions.model_validate(raw)


def test_route_overrides_are_validated_on_top_of_the_upstreams_options() -> None:
    base = XmlOptions(namespaces="strip", root="order")
    merged = base.with_overrides({"root": "invoice", "infer_types": True})
    assert (merged.namespaces, merged.root, merged.infer_types) == ("strip", "invoice", True)
    with pytest.raises(ValidationError):
        base.with_overrides({"root": "not valid"})


def test_options_are_immutable() -> None:
    with pytest.raises(ValidationError):
        XmlOptions().root = "x"  # type: ignore[misc]
