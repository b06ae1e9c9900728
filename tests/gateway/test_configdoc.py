"""docs/configuration.md lists every key the config models accept."""

from gateway.configdoc import DOC, render


def test_the_key_reference_is_up_to_date():
    assert render() in DOC.read_text(encoding="utf-8"), "run: python -m gateway.configdoc"


def test_every_route_key_is_documented():
    from gateway.config import RouteConfig

    text = DOC.read_text(encoding="utf-8")
    assert all(f"| `{name}` |" in text for name in RouteConfig.model_fields)
