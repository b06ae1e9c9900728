"""Rosetta's configuration: one YAML file, validated on load into typed models.

:func:`load_config` reads the file, expands ``${VAR}`` and ``${VAR:-default}``
from the environment, resolves relative file paths against the file's folder,
validates every upstream with its translator's own settings model, and checks
the cross references. The YAML is read strictly: a key given twice, an alias
loop, nesting deeper than :data:`MAX_DEPTH` or more than :data:`MAX_VALUES`
values once aliases are expanded is an error. Every problem is reported with
its path::

    routes[2].upstream: no upstream named 'wether' (did you mean 'weather'?)

The result is immutable; a reload builds a new :class:`Config` and swaps it whole.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.auth.settings import AuthSettings
from gateway.auth.tls import TlsSettings
from gateway.limits.settings import LimitsSettings, RateString
from gateway.limits.settings import config_errors as limits_config_errors
from gateway.observability.logging import redact_urls
from gateway.plugin import TranslatorLoadError, UpstreamSettings, load_translator_class
from gateway.resilience.settings import CacheSettings, FallbackSettings
from gateway.resilience.settings import config_errors as resilience_config_errors
from gateway.yamlfile import MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES, YamlFileError, read_yaml

__all__ = [
    "Config",
    "ConfigError",
    "ConfigPath",
    "ExistingPath",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_VALUES",
    "RouteConfig",
    "ServerSettings",
    "build_config",
    "expand_env",
    "load_config",
    "server_option_errors",
]


class ConfigError(Exception):
    """The config is invalid; ``errors`` lists ``path: message`` lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _resolve(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    value = value.expanduser()
    if not value.is_absolute() and base is not None:
        value = Path(base) / value
    return value


def _resolve_existing(value: Path, info: ValidationInfo) -> Path:
    value = _resolve(value, info)
    if not value.is_file():
        raise ValueError(f"file not found: {value}")
    return value


#: A file path; relative paths are taken from the config file's folder.
ConfigPath = Annotated[Path, AfterValidator(_resolve)]
#: Like :data:`ConfigPath`, and the file must exist when the config loads.
ExistingPath = Annotated[Path, AfterValidator(_resolve_existing)]

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class ServerSettings(BaseModel):
    """The front door: where Rosetta listens and what it accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8080, ge=0, le=65535, description="Port to listen on (0 picks a free one).")
    workers: int = Field(
        1, ge=1, le=64,
        description="Sanic worker processes; with 1 the `rosetta` process serves by itself, with more "
        "Sanic's worker manager starts and watches them.",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=0, description="Largest request body accepted; larger is a 413."
    )
    request_id_header: str = Field("X-Request-ID", description="Header carrying the request id.")
    access_log: bool = Field(True, description="Write one access log line per request.")
    graceful_shutdown: float = Field(
        15.0, ge=0, description="Seconds in-flight requests get to finish on SIGTERM."
    )
    tls: TlsSettings | None = Field(None, description="Serve HTTPS (and verify client certificates).")


class RouteConfig(BaseModel):
    """One route: a ``prefix`` exposing a whole upstream, or one hand-shaped ``path``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prefix: str | None = Field(None, description="Expose every operation of the upstream under it.")
    path: str | None = Field(None, description="Expose one operation at this path template.")
    methods: tuple[str, ...] | None = Field(None, description="HTTP methods of a path route.")
    upstream: str = Field(description="Name of the upstream serving the route.")
    operation: str | None = Field(
        None,
        description="REST: upstream path; SOAP: operation name; gRPC: package.Service/Method.",
    )
    auth: Literal["none", "jwt", "api_key", "mtls"] | tuple[Literal["jwt", "api_key", "mtls"], ...] | None = Field(
        None, description="Accepted credentials; unset means any configured method (never none)."
    )
    scopes: tuple[str, ...] = Field((), description="Scopes the consumer must all have.")
    roles: tuple[str, ...] = Field((), description="Roles of which the consumer needs one.")
    policies: tuple[str, ...] = Field((), description="Extra checks by import path 'pkg.mod:Class'.")
    rate_limit: RateString | None = Field(None, description="Rate limit, e.g. '30/minute;1000/day'.")
    cost: int = Field(1, ge=0, le=1_000_000, description="How much one call counts against limits.")
    timeout: float | None = Field(None, gt=0, le=3600, description="Overrides the upstream timeout.")
    options: Mapping[str, Any] = Field(
        default_factory=dict, description="Translator options for this route (e.g. xml)."
    )
    fallback: FallbackSettings | None = Field(
        None, description="Route or upstream answering while this one's breaker is open or it is unreachable."
    )
    cache: CacheSettings | None = Field(None, description="Response cache for safe reads.")

    @field_validator("prefix", "path")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must start with '/'")
        if value is not None and len(value) > 1 and value.endswith("/"):
            value = value.rstrip("/")
        return value

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        upper = tuple(m.upper() for m in value)
        unknown = [m for m in upper if m not in _METHODS]
        if unknown:
            raise ValueError(f"unknown HTTP method {unknown[0]!r} (expected one of {sorted(_METHODS)})")
        return upper

    @model_validator(mode="after")
    def _prefix_or_path(self) -> RouteConfig:
        if (self.prefix is None) == (self.path is None):
            raise ValueError("a route needs exactly one of 'prefix' or 'path'")
        if self.prefix is not None and (self.operation or self.methods):
            raise ValueError("'operation' and 'methods' belong to 'path' routes, not 'prefix' routes")
        return self

    @property
    def template(self) -> str:
        return self.prefix if self.prefix is not None else str(self.path)


class Config(BaseModel):
    """The whole validated configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    server: ServerSettings = Field(default_factory=ServerSettings)  # type: ignore[arg-type]
    upstreams: Mapping[str, UpstreamSettings] = Field(default_factory=dict)
    routes: tuple[RouteConfig, ...] = ()
    auth: AuthSettings = Field(default_factory=lambda: AuthSettings())
    limits: LimitsSettings = Field(default_factory=lambda: LimitsSettings())
    base_dir: Path = Field(Path("."), description="Folder of the config file (set by the loader).")


#: ``$$``, a well-formed ``${NAME}`` / ``${NAME:-default}``, or any other ``${`` (malformed).
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^${}]*))?\}|\$\{[^}]*\}?")


def expand_env(value: Any, env: Mapping[str, str] | None = None, path: str = "") -> Any:
    """Expand ``${VAR}`` / ``${VAR:-default}`` in every string value; ``$$`` is a literal ``$``.

    As in the shell, the default (no ``$``, ``{`` or ``}`` in it) stands in for
    a variable that is unset or empty. Any other ``${`` (``${VAR-x}``, ``${ VAR }``, an unclosed ``${VAR``)
    is an error, never kept as literal text: a mistyped reference must not
    become a secret anyone reading the file knows. A value is expanded once
    (a variable holding ``${OTHER}`` stays as it is), keys never are. Errors
    name the path and the variable, never a value::

        expand_env({"auth": {"secret": "${JWT_SECRET}"}}, {})
        # ConfigError: auth.secret: environment variable 'JWT_SECRET' is not set
    """
    env = os.environ if env is None else env
    errors: list[str] = []
    result = _expand(value, env, path, errors)
    if errors:
        raise ConfigError(errors)
    return result


def _expand(value: Any, env: Mapping[str, str], path: str, errors: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, env, _key_path(path, k, errors), errors) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, f"{path}[{i}]", errors) for i, v in enumerate(value)]
    if not isinstance(value, str) or "$" not in value:
        return value
    return _VAR.sub(lambda match: _substitute(match, env, path, errors), value)


def _key_path(path: str, key: Any, errors: list[str]) -> str:
    where = _join(path, key)
    if isinstance(key, str) and "${" in key:
        errors.append(f"{where}: variables are expanded in values only, not in keys")
    return where


def _substitute(match: re.Match[str], env: Mapping[str, str], path: str, errors: list[str]) -> str:
    text, name, default = match.group(0), match.group(1), match.group(2)
    if text == "$$":
        return "$"
    if name is None:
        shown = text if len(text) <= 40 else text[:40] + "…"
        errors.append(
            f"{path or '<root>'}: malformed variable reference {shown!r} "
            "(write ${NAME} or ${NAME:-default}; $$ is a literal $)"
        )
        return ""
    if env.get(name) or (name in env and default is None):
        return _checked(name, env[name], path, errors)
    if default is not None:
        return default
    errors.append(f"{path or '<root>'}: environment variable '{name}' is not set")
    return ""


def _checked(name: str, value: str, path: str, errors: list[str]) -> str:
    """``value``, unless it holds bytes that are not UTF-8 (surrogates, as Python reads them)."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        errors.append(f"{path or '<root>'}: environment variable '{name}' is not valid UTF-8")
        return ""
    return value


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, expand and validate the config file at ``path``; raise :class:`ConfigError`."""
    path = Path(path)
    try:
        raw = read_yaml(path)
    except YamlFileError as exc:
        raise ConfigError(exc.errors) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([f"{path}: the config must be a mapping of keys to values"])
    return build_config(expand_env(raw, env), path.resolve().parent)


def build_config(raw: Mapping[str, Any], base_dir: Path) -> Config:
    """Validate an already expanded config mapping; paths resolve against ``base_dir``."""
    errors: list[str] = []
    context = {"base_dir": base_dir}
    upstreams = _build_upstreams(raw.get("upstreams") or {}, context, errors)
    data = {**raw, "upstreams": {}, "base_dir": base_dir}
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as exc:
        errors.extend(_format_errors(exc, ""))
        raise ConfigError(errors) from None
    config = config.model_copy(update={"upstreams": upstreams})
    errors.extend(_check_references(config, raw))
    if errors:
        raise ConfigError(errors)
    return config


def _build_upstreams(
    raw: Any, context: dict[str, Any], errors: list[str]
) -> dict[str, UpstreamSettings]:
    if not isinstance(raw, dict):
        errors.append("upstreams: expected a mapping of upstream names to settings")
        return {}
    built: dict[str, UpstreamSettings] = {}
    for name, data in raw.items():
        where = f"upstreams.{name}"
        if not isinstance(name, str):
            errors.append(f"{where}: an upstream name must be a string, not {type(name).__name__}")
        elif not isinstance(data, dict) or "type" not in data:
            errors.append(f"{where}.type: required (rest, soap, grpc or module:Class)")
        else:
            _build_upstream(name, data, context, built, errors)
    return built


def _build_upstream(
    name: str, data: dict[str, Any], context: dict[str, Any], built: dict[str, UpstreamSettings], errors: list[str]
) -> None:
    """Validate one upstream with its translator's settings model into ``built``.

    A plug-in's settings model may fail in ways pydantic does not wrap (a
    validator raising ``RuntimeError``): that is this upstream's error too,
    never a traceback.
    """
    where = f"upstreams.{name}"
    try:
        cls = load_translator_class(str(data["type"]))
        built[name] = cls.settings_model.model_validate(data, context=context)
    except TranslatorLoadError as exc:
        errors.append(f"{where}.type: {redact_urls(str(exc))}")
    except ValidationError as exc:
        errors.extend(_format_errors(exc, where))
    except Exception as exc:  # noqa: BLE001 - a plug-in's own failure, reported with its upstream
        errors.append(f"{where}: settings of translator '{data['type']}' failed: {_describe(exc)}")


def _describe(exc: BaseException) -> str:
    return redact_urls(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def _check_references(config: Config, raw: Mapping[str, Any]) -> list[str]:
    errors = []
    upstreams = raw.get("upstreams")
    names = [name for name in upstreams if isinstance(name, str)] if isinstance(upstreams, dict) else []
    for i, route in enumerate(config.routes):
        if route.upstream not in names:
            hint = difflib.get_close_matches(route.upstream, names, n=1)
            suffix = f" (did you mean '{hint[0]}'?)" if hint else ""
            errors.append(f"routes[{i}].upstream: no upstream named '{route.upstream}'{suffix}")
    errors += _shadowed_routes(config.routes)
    errors += limits_config_errors(config) + resilience_config_errors(config)
    return errors


def _shadowed_routes(routes: tuple[RouteConfig, ...]) -> list[str]:
    """Calls an earlier route takes before a later one could ever see them.

    That is a ``prefix`` repeated with the same upstream, or a ``path``
    repeated (variable names aside) with a method in common, or with neither
    giving methods and both naming the same operation. Overlaps that depend on
    the translators' operations are left to the route table.
    """
    errors: list[str] = []
    first: dict[tuple[str, ...], tuple[int, str]] = {}
    for i, route in enumerate(routes):
        keys = _route_keys(route)
        clashes = [first[key] for key, _ in keys if key in first]
        if clashes:
            earlier, what = clashes[0]
            field = "prefix" if route.prefix is not None else "path"
            errors.append(f"routes[{i}].{field}: routes[{earlier}] already serves {what}, which this route would never see")
        for key, what in keys:
            first.setdefault(key, (i, what))
    return errors


def _route_keys(route: RouteConfig) -> list[tuple[tuple[str, ...], str]]:
    """What ``route`` serves, each as a comparable key and its description."""
    if route.prefix is not None:
        return [(("prefix", route.prefix, route.upstream), f"{route.prefix} from upstream '{route.upstream}'")]
    path = str(route.path)
    template = re.sub(r"\{[^}=]*(=[^}]*)?\}", lambda m: "{" + (m.group(1) or "") + "}", path)
    if route.methods is None:
        operation = route.operation or path
        return [(("path", template, route.upstream, operation), f"{path} with operation '{operation}'")]
    return [(("path", template, method), f"{method} {path}") for method in route.methods]


def server_option_errors(options: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``server`` settings given on the command line (``--port 99999``),
    one ``--name: message`` line each; validated as the config's own ``server`` is."""
    try:
        ServerSettings.model_validate(options)
    except ValidationError as exc:
        return ["--" + line for line in _format_errors(exc, "")]
    return []


def _format_errors(exc: ValidationError, prefix: str) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False):
        path = prefix
        for part in err["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif not str(part).startswith(("function-", "literal[", "tuple[")):
                path = _join(path, part)
        message = "unknown key" if err["type"] == "extra_forbidden" else redact_urls(err["msg"])
        message = message.removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message += " (check the spelling; see docs/configuration.md)"
        lines.append(f"{path or '<root>'}: {message}")
    return lines
