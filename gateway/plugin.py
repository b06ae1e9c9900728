"""The translator interface: the one contract between Rosetta's core and a protocol.

A translator is built from its upstream's config, starts up, lists its
operations (each with request/response JSON Schemas), handles one normalised
:class:`Call` at a time and returns a normalised :class:`Reply`, and closes::

    class EchoTranslator(Translator):
        type_name = "echo"
        settings_model = EchoSettings          # a subclass of UpstreamSettings

        async def start(self) -> None: ...
        def operations(self) -> list[Operation]:
            return [Operation(name="Echo", method="POST", path="/Echo")]
        async def handle(self, call: Call) -> Reply:
            return Reply(json=await call.arguments())
        async def close(self) -> None: ...

The core finds a translator class by the upstream's ``type``: a built-in name
(``rest``, ``soap``, ``grpc``), a name registered in the entry point group
``rosetta.translators``, or a ``package.module:Class`` path. It never imports a
concrete translator itself.

Translators raise only :mod:`gateway.errors` exceptions: foreign exceptions
(httpx, zeep, grpc …) are mapped inside the translator, at one boundary.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from gateway.auth.upstream import UpstreamAuth
from gateway.errors import BadRequest, MalformedBody
from gateway.resilience.settings import ResilienceSettings

__all__ = [
    "ANONYMOUS",
    "ENTRY_POINT_GROUP",
    "NOTHING",
    "Call",
    "Consumer",
    "CorpusReport",
    "Operation",
    "Reply",
    "Translator",
    "TranslatorContext",
    "TranslatorLoadError",
    "UpstreamSettings",
    "load_translator_class",
    "parse_json",
]

ENTRY_POINT_GROUP = "rosetta.translators"

# Built-ins by name, as import strings: the core never imports them directly.
_BUILTINS: Mapping[str, str] = {
    "rest": "translators.rest:RestTranslator",
    "soap": "translators.soap:SoapTranslator",
    "grpc": "translators.grpc:GrpcTranslator",
}


class UpstreamSettings(BaseModel):
    """Settings every upstream has; a translator's own model extends this one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(description="Translator: rest, soap, grpc, an entry point name or module:Class.")
    timeout: float = Field(30.0, gt=0, le=3600, description="Seconds a whole upstream call may take.")
    forward_auth: bool = Field(
        False, description="Pass the caller's own credentials (Authorization, the API-key header, X-Consumer-*) to the upstream."
    )
    auth: UpstreamAuth | None = Field(
        None, description="Credentials and identity headers Rosetta sends to this upstream."
    )
    resilience: ResilienceSettings = Field(
        default_factory=ResilienceSettings,  # type: ignore[arg-type]
        description="Timeouts per try, bulkhead, retries and circuit breaker (all off by default).",
    )


@dataclass(frozen=True, slots=True)
class Operation:
    """One thing a translator can do, and how it is exposed under a route prefix.

    ``path`` is a template relative to the route prefix in Google's HTTP rule
    syntax: literal segments, ``*`` (one segment), ``**`` (any rest),
    ``{var}``, ``{var=pattern}``, dotted names ``{shelf.id}`` and a ``:verb``
    suffix. ``method`` is an HTTP method or ``*`` for any. ``extra`` is the
    translator's own data (e.g. a gRPC binding's ``body`` field).
    """

    name: str
    method: str = "POST"
    path: str = ""
    request_schema: Mapping[str, Any] = field(default_factory=dict)
    response_schema: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    idempotent: bool = False
    streaming: str | None = None  # None, "server", "client" or "bidi"
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Consumer:
    """Who is calling, as established by the auth step (``anonymous`` when no auth)."""

    id: str
    scopes: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    method: str = "none"  # "jwt", "api_key", "mtls" or "none"
    settings: Mapping[str, Any] = field(default_factory=dict)


ANONYMOUS = Consumer(id="anonymous")

BodyReader = Callable[[], Awaitable[bytes]]


@dataclass(slots=True)
class Call:
    """One normalised request, handed to :meth:`Translator.handle`.

    ``path`` is the request path relative to the route prefix (REST
    passthrough), ``path_params`` the template variables it matched,
    ``headers`` the end-to-end request headers (hop-by-hop ones and, unless
    the upstream forwards it, ``Authorization`` already removed). The body is
    read on demand: :meth:`read_body` (whole, bounded by the size limit) or
    :meth:`stream_body` (chunks as they arrive), once.
    """

    operation: Operation
    method: str
    path: str
    query_string: str
    query: Mapping[str, list[str]]
    path_params: Mapping[str, str]
    headers: Sequence[tuple[str, str]]
    request_id: str
    client_ip: str = ""
    scheme: str = "http"
    host: str = ""
    consumer: Consumer = ANONYMOUS
    route_options: Mapping[str, Any] = field(default_factory=dict)
    deadline: float | None = None  # loop.time() by which the call must finish
    content_length: int | None = None  # the declared body size; None when chunked or absent
    chunked: bool = False  # the body arrives with Transfer-Encoding: chunked
    _read: BodyReader | None = None
    _stream: Callable[[], AsyncIterator[bytes]] | None = None
    _body: bytes | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of request header ``name`` (case-insensitive)."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return default

    async def read_body(self) -> bytes:
        """The whole request body (``b""`` when there is none)."""
        if self._body is None:
            self._body = await self._read() if self._read is not None else b""
        return self._body

    def stream_body(self) -> AsyncIterator[bytes] | None:
        """The body as chunks, without holding it whole; ``None`` when already read."""
        if self._body is not None or self._stream is None:
            return None
        return self._stream()

    async def json_body(self) -> Any:
        """The body parsed as JSON; ``None`` when empty. Malformed JSON is a 400."""
        raw = await self.read_body()
        if not raw.strip():
            return None
        return parse_json(raw)

    async def arguments(self) -> dict[str, Any]:
        """Body, query and path parameters merged: path wins over query, query over body.

        The body must be a JSON object (or empty). Query keys with dots
        (``a.b=1``) become nested objects; a repeated key becomes a list.
        """
        body = await self.json_body()
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise BadRequest(
                f"the request body must be a JSON object, not {_json_kind(body)}"
            )
        merged = dict(body)
        for key, values in self.query.items():
            _set_dotted(merged, key, values[0] if len(values) == 1 else list(values))
        for key, value in self.path_params.items():
            _set_dotted(merged, key, value)
        return merged


NOTHING: Any = object()


@dataclass(slots=True)
class Reply:
    """A translator's normalised answer: exactly one of ``json``, ``body`` or ``stream``."""

    status: int = 200
    json: Any = NOTHING
    body: bytes | None = None
    stream: AsyncIterator[bytes] | None = None
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TranslatorContext:
    """What the core gives every translator at construction."""

    upstream: str
    config_dir: Path
    max_body_bytes: int = 1_048_576
    request_id_header: str = "X-Request-ID"


class Translator(abc.ABC):
    """Base class of every translator. See the module docstring for an example."""

    type_name: ClassVar[str] = ""
    settings_model: ClassVar[type[UpstreamSettings]] = UpstreamSettings
    #: A prefix route over a passthrough translator forwards every method and path.
    passthrough: ClassVar[bool] = False

    def __init__(self, name: str, settings: UpstreamSettings, context: TranslatorContext) -> None:
        self.name = name
        self.settings = settings
        self.context = context

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open clients and load definitions (WSDLs, protos). Called once before serving."""

    @abc.abstractmethod
    def operations(self) -> Sequence[Operation]:
        """Every operation this upstream offers, as exposed under a prefix route."""

    def operation(self, ref: str) -> Operation:
        """The operation a ``path`` route names by ``ref`` (e.g. ``Add`` or ``pkg.Svc/Get``)."""
        from gateway.errors import UnknownOperation

        for op in self.operations():
            if op.name == ref:
                return op
        raise UnknownOperation(f"upstream '{self.name}' has no operation '{ref}'")

    def prepare_route(self, options: Mapping[str, Any]) -> None:
        """Check a route's ``options`` once, at start-up; raise ``ValueError`` to refuse them.

        A translator that takes route options (e.g. ``rest``'s ``xml``) prepares
        what it needs here; :attr:`Call.route_options` is the same mapping.
        """
        if options:
            raise ValueError(f"'{self.type_name or self.name}' upstreams take no route options")

    @abc.abstractmethod
    async def handle(self, call: Call) -> Reply:
        """Perform one call. Raise only :mod:`gateway.errors` exceptions."""

    @classmethod
    def check_corpus(cls, folder: Path) -> CorpusReport:
        """Load every service definition under ``folder`` as an upstream would, and count."""
        raise NotImplementedError(f"'{cls.type_name}' translators have no definitions to check")

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release clients and channels. Called once at shutdown or after a reload."""

    async def ready(self) -> bool:
        """Whether the upstream can take calls now (used by readiness checks)."""
        return True


@dataclass(frozen=True, slots=True)
class CorpusReport:
    """How a folder of service definitions (WSDLs, protos) loaded, for ``rosetta check --corpus``."""

    loaded: int
    failed: int
    operations: int
    lines: tuple[str, ...] = ()


class TranslatorLoadError(Exception):
    """A translator type could not be found or is not a :class:`Translator`."""


def load_translator_class(type_name: str) -> type[Translator]:
    """The translator class for an upstream ``type``: built-in, entry point or ``module:Class``."""
    target = _BUILTINS.get(type_name)
    if target is None and ":" not in type_name:
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == type_name]
        if not found:
            known = ", ".join(sorted({*_BUILTINS, *entry_points(group=ENTRY_POINT_GROUP).names}))
            raise TranslatorLoadError(f"unknown translator type '{type_name}' (known: {known})")
        target = found[0].value
    cls = _import_object(target or type_name)
    if not (isinstance(cls, type) and issubclass(cls, Translator)):
        raise TranslatorLoadError(f"'{type_name}' is not a Translator subclass")
    model = cls.settings_model
    if not (isinstance(model, type) and issubclass(model, UpstreamSettings)):
        raise TranslatorLoadError(f"'{type_name}'.settings_model is not an UpstreamSettings subclass")
    return cls


def _import_object(path: str) -> Any:
    """The object ``package.module:name`` names; any failure is a :class:`TranslatorLoadError`.

    Importing runs the module's code, which may raise anything (a syntax
    error, a missing setting): that is the translator's failure to load,
    never a traceback out of the config loader.
    """
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise TranslatorLoadError(f"'{path}' is not a 'package.module:Class' path")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        reason = str(exc) if isinstance(exc, ImportError) else f"{type(exc).__name__}: {exc}"
        raise TranslatorLoadError(f"cannot import '{module_name}': {reason}") from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise TranslatorLoadError(f"'{module_name}' has no attribute '{attr}'") from None


def parse_json(raw: bytes) -> Any:
    """Parse JSON bytes; malformed input is a :class:`MalformedBody` (400)."""
    import orjson

    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"the request body is not valid JSON: {exc}") from None


def _json_kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def _set_dotted(target: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = target
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[leaf] = value
