"""Generate the key reference of ``docs/configuration.md`` from the config models.

``python -m gateway.configdoc`` rewrites the part of the file between the
``keys:begin`` and ``keys:end`` markers, so the reference always lists every
key the models accept, with its type, default and description. A test fails
when the file is out of date.
"""

from __future__ import annotations

import re
import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from gateway.config import Config, RouteConfig
from gateway.plugin import load_translator_class

__all__ = ["DOC", "render", "update"]

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
_BEGIN, _END = "<!-- keys:begin -->", "<!-- keys:end -->"


def render() -> str:
    """The generated key reference, as Markdown."""
    sections: list[tuple[str, Any]] = [
        ("server", Config.model_fields["server"].annotation),
        ("upstreams.NAME (type: rest)", load_translator_class("rest").settings_model),
        ("upstreams.NAME (type: soap)", load_translator_class("soap").settings_model),
        ("upstreams.NAME (type: grpc)", load_translator_class("grpc").settings_model),
        ("routes[]", RouteConfig),
        ("auth", Config.model_fields["auth"].annotation),
        ("limits", Config.model_fields["limits"].annotation),
    ]
    out: list[str] = []
    for title, model in sections:
        assert isinstance(model, type) and issubclass(model, BaseModel)
        out += [f"### `{title}`", "", "| key | type | default | description |", "|---|---|---|---|"]
        out += _rows(model, "")
        out.append("")
    return "\n".join(out)


def _rows(model: type[BaseModel], prefix: str, seen: frozenset[type] = frozenset()) -> list[str]:
    rows = []
    for name, info in model.model_fields.items():
        key = prefix + (info.alias or name)
        nested = _model_in(info.annotation)
        default = _default(info)
        rows.append(f"| `{key}` | {_type_name(info.annotation)} | {default} | {info.description or ''} |")
        if nested is not None and nested not in seen:
            suffix = "[]." if _is_sequence(info.annotation) else ("{}." if _is_mapping(info.annotation) else ".")
            rows += _rows(nested, key + suffix, seen | {model})
    return rows


def _default(info: Any) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        try:
            value = info.default_factory()
        except TypeError:
            return "—"
        return "—" if isinstance(value, BaseModel) else f"`{_plain(value)}`"
    return f"`{_plain(info.default)}`" if info.default is not PydanticUndefined else "—"


def _plain(value: Any) -> str:
    if isinstance(value, tuple | list | frozenset | set):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}" if not value else str(value)
    return str(value).replace("|", "\\|")


def _args(annotation: Any) -> tuple[Any, ...]:
    return typing.get_args(annotation)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in _args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        return True
    return any(_is_sequence(a) for a in _args(annotation)) if origin in (typing.Union, types.UnionType) else False


def _is_mapping(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin in (dict, typing.Mapping) or (hasattr(origin, "__name__") and origin.__name__ == "Mapping")


def _type_name(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if not _args(annotation) else None
    text = text or str(annotation)
    text = re.sub(r"\b(typing|collections\.abc|pathlib|pydantic\.\w+|gateway\.[\w.]+|translators\.[\w.]+)\.", "", text)
    text = re.sub(r"Annotated\[(\w+), [^\]]*\]", r"\1", text)
    text = text.replace("NoneType", "None").replace("|", "\\|")
    return text


def update(path: Path = DOC) -> bool:
    """Rewrite the generated part of ``path``; return whether it changed."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(_BEGIN)
    _, _, tail = rest.partition(_END)
    new = f"{head}{_BEGIN}\n{render()}\n{_END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    changed = update()
    print(f"{DOC}: {'updated' if changed else 'up to date'}")
    sys.exit(0)
