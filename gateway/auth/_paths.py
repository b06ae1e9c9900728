"""File paths in auth config, resolved like every other config path.

:mod:`gateway.config` imports the auth models, so they cannot import its path
types at import time; :data:`FilePath` defers to
:data:`gateway.config.ExistingPath` when a value is validated.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, TypeAdapter, ValidationError, ValidationInfo

__all__ = ["FilePath"]


@cache
def _existing() -> TypeAdapter[Any]:
    from gateway.config import ExistingPath

    return TypeAdapter(ExistingPath)


def _existing_file(value: Path, info: ValidationInfo) -> Path:
    try:
        return Path(_existing().validate_python(value, context=info.context))
    except ValidationError as exc:
        raise ValueError(exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")) from None


#: An existing file; a relative path is taken from the config file's folder.
FilePath = Annotated[Path, AfterValidator(_existing_file)]
