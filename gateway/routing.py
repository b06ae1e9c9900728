"""The route table: which upstream operation answers ``METHOD /path``.

Path templates use Google's HTTP rule syntax (the one gRPC transcoding uses),
so REST, SOAP and gRPC routes share one matcher::

    /v1/refill/{rx}                 one segment, captured as "rx"
    /v1/{name=shelves/*/books/*}    a multi-segment capture
    /v1/shelves/{shelf.id}          dotted field names are kept as-is
    /files/{path=**}                the rest of the path (zero or more segments)
    /v1/{name=*}:cancel             a custom verb suffix

A :class:`RouteTable` is immutable: a reload builds a new one and swaps it whole.
Literal segments win over variables; among equals, the earlier route wins.
A ``HEAD`` no endpoint takes itself goes to the path's ``GET`` endpoint (RFC
9110 §9.3.2), and a 405's ``Allow`` lists ``HEAD`` wherever ``GET`` is.

The front door routes on :func:`clean_path` of the request path, and sends
upstream what the route matched of that same path: ``/pub/../admin`` is the
``/admin`` route's call, checked by its auth, never ``/pub`` reaching an
upstream path beside the one it is scoped to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from gateway.config import RouteConfig
from gateway.errors import InvalidPath, MethodNotAllowed, NotFound
from gateway.plugin import Operation

__all__ = ["Endpoint", "RouteTable", "TemplateError", "clean_path", "compile_template"]


_DOTS = {".": 1, "%2e": 1, "..": 2, ".%2e": 2, "%2e.": 2, "%2e%2e": 2}  # lower-cased


def clean_path(path: str) -> str:
    """``path`` with its ``.`` and ``..`` segments resolved (RFC 3986 §5.2.4), plain or
    percent-encoded (``%2e``); :class:`InvalidPath` when ``..`` climbs above the root, when
    a dot segment carries ``;`` parameters (``..;/admin``, which some servers read as
    ``..``), or when an encoded slash hides one (``a%2F..%2Fadmin``, for servers that
    decode ``%2F`` before resolving dot segments).

    ``/v1/./a/../b`` → ``/v1/b``; ``/v1/a/..`` → ``/v1/``. A path with no ``/.`` and
    no ``%2`` (the usual case) is returned as it is after two substring tests.
    """
    if ("/." not in path and "%2" not in path) or not path.startswith("/"):  # "*" (OPTIONS *) as it is
        return path
    segments = path.split("/")[1:]
    out: list[str] = []
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        dots = _dot_segment(segment)
        if dots == 0:
            out.append(segment)
            continue
        if dots == 2:
            if not out:
                raise InvalidPath("the request path climbs above its root with '..'")
            out.pop()
        if index == last:
            out.append("")
    return "/" + "/".join(out)


def _dot_segment(segment: str) -> int:
    """1 for ``.``, 2 for ``..`` (either spelled with ``%2e``), else 0."""
    if not segment or ("." not in segment and "%" not in segment):
        return 0
    lowered = segment.lower()
    dots = _DOTS.get(lowered, 0)
    if dots:
        return dots
    if ";" in lowered and _DOTS.get(lowered.partition(";")[0]):
        raise InvalidPath("a '.' or '..' path segment may not carry ';' parameters")
    if "%2f" in lowered and any(part in (".", "..") for part in unquote(lowered).split("/")):
        raise InvalidPath("an encoded '/' in the path may not set off a '.' or '..' segment")
    return 0


class TemplateError(ValueError):
    """A path template does not follow the syntax above."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One exposed operation: a full path template, its methods and who serves it."""

    template: str
    methods: frozenset[str] | None  # None: any method
    upstream: str
    operation: Operation
    route: RouteConfig
    route_index: int
    regex: re.Pattern[str] = field(compare=False, repr=False)
    variables: tuple[str, ...] = ()
    rank: tuple[int, ...] = ()
    prefix_len: int = 0  # characters of the request path that belong to the route prefix

    def match(self, path: str) -> dict[str, str] | None:
        found = self.regex.match(path)
        if found is None:
            return None
        return {
            name: _unquoted(value)
            for name, value in zip(self.variables, found.groups(), strict=True)
            if value is not None
        }


def _unquoted(value: str) -> str:
    """A path variable's value, percent-decoded; :class:`InvalidPath` when the decoded bytes
    are not UTF-8 (``%ff``), which would otherwise reach the backend as U+FFFD."""
    if "%" not in value:
        return value
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise InvalidPath("a path variable is percent-encoded bytes that are not UTF-8") from None


def compile_template(template: str) -> tuple[re.Pattern[str], tuple[str, ...], tuple[int, ...]]:
    """Compile a path template into a regex, its variable names and a specificity rank."""
    if not template.startswith("/"):
        raise TemplateError(f"template {template!r} must start with '/'")
    body, verb = _split_verb(template[1:])
    names: list[str] = []
    pattern = _segments(body, names, lazy=bool(verb)) if body else ""
    regex = "^/" + pattern if pattern and not pattern.startswith("(?:/") else "^" + (pattern or "/")
    if verb:
        regex += re.escape(":" + verb)
    literals = sum(1 for s in _split(body) if s and "{" not in s and "*" not in s)
    rank = (-literals, body.count("**"), -len(template))
    return re.compile(regex + "$"), tuple(names), rank


def _split_verb(body: str) -> tuple[str, str]:
    """Split off a ``:verb`` suffix: everything after the first ':' past the last '/' and '}'."""
    start = max(body.rfind("/"), body.rfind("}")) + 1
    colon = body.find(":", start)
    if colon < 0:
        return body, ""
    return body[:colon], body[colon + 1 :]


def _split(body: str) -> list[str]:
    """Split on '/' outside braces."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in body:
        if ch == "/" and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += ch == "{"
        depth -= ch == "}"
        current.append(ch)
    parts.append("".join(current))
    if depth != 0:
        raise TemplateError(f"unbalanced braces in {body!r}")
    return parts


def _segments(body: str, names: list[str], lazy: bool) -> str:
    parts = _split(body)
    out = ""
    for i, segment in enumerate(parts):
        piece, tail = _segment(segment, names, lazy)
        if tail and i == len(parts) - 1 and i > 0:
            out += f"(?:/{piece})?"
        else:
            out += ("/" if i else "") + piece
    return out


def _segment(segment: str, names: list[str], lazy: bool) -> tuple[str, bool]:
    """Regex for one segment and whether it may match zero segments (``**``)."""
    one = "[^/]+?" if lazy else "[^/]+"
    if segment == "*":
        return one, False
    if segment == "**":
        return ".*", True
    if segment.startswith("{") and segment.endswith("}"):
        name, _, inner = segment[1:-1].partition("=")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
            raise TemplateError(f"bad variable name {name!r}")
        names.append(name)
        if not inner:
            return f"({one})", False
        inner_names: list[str] = []
        pattern = _segments(inner, inner_names, lazy)
        if inner_names:
            raise TemplateError(f"nested variable in {segment!r}")
        return f"({pattern})", inner == "**"
    if any(ch in segment for ch in "{}*"):
        raise TemplateError(f"bad segment {segment!r}")
    return re.escape(segment), False


@dataclass(frozen=True, slots=True)
class RouteTable:
    """Every endpoint, indexed by first path segment; match() is the hot path."""

    endpoints: tuple[Endpoint, ...]
    _index: Mapping[str, tuple[Endpoint, ...]] = field(default_factory=dict, repr=False)
    _wild: tuple[Endpoint, ...] = ()
    _exact: Mapping[str, tuple[tuple[Endpoint, dict[str, str]], ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, endpoints: Iterable[Endpoint]) -> RouteTable:
        ordered = tuple(sorted(endpoints, key=lambda e: (e.rank, e.route_index)))
        index: dict[str, list[Endpoint]] = {}
        wild: list[Endpoint] = []
        for endpoint in ordered:
            first = _first_segment(endpoint.template)
            if first is None:
                wild.append(endpoint)
            else:
                index.setdefault(first, []).append(endpoint)
        frozen = {k: tuple(sorted(v + wild, key=lambda e: (e.rank, e.route_index))) for k, v in index.items()}
        table = cls(ordered, frozen, tuple(wild))
        paths = {e.template for e in ordered if _literal(e)}
        exact = {path: table.candidates(path) for path in paths}
        return cls(ordered, frozen, tuple(wild), exact)

    def match(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
        """The endpoint for ``method path`` and its variables; 404 or 405 otherwise.

        A path that is exactly a literal template (no variables) is looked up
        directly: the endpoints matching it were found, in rank order, when the
        table was built.
        """
        exact = self._exact.get(path)
        if exact is not None:
            for endpoint, params in exact:
                if endpoint.methods is None or method in endpoint.methods:
                    return endpoint, dict(params)
        return self.scan(method, path)

    def candidates(self, path: str) -> tuple[tuple[Endpoint, dict[str, str]], ...]:
        """Every endpoint matching ``path`` with its variables, in the order :meth:`scan` tries them."""
        found = []
        for endpoint in self._index.get(_first_of_path(path), self._wild):
            params = endpoint.match(path)
            if params is not None:
                found.append((endpoint, params))
        return tuple(found)

    def scan(self, method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
        """:meth:`match` by trying every candidate template in rank order."""
        candidates = self._index.get(_first_of_path(path), self._wild)
        allowed: set[str] = set()
        for endpoint in candidates:
            params = endpoint.match(path)
            if params is None:
                continue
            if endpoint.methods is None or method in endpoint.methods:
                return endpoint, params
            allowed |= endpoint.methods
        if method == "HEAD" and "GET" in allowed:
            # RFC 9110 §9.3.2: HEAD is a GET without the body (the front door drops it).
            return self.scan("GET", path)
        if "GET" in allowed:
            allowed.add("HEAD")
        if allowed:
            allow = ", ".join(sorted(allowed))
            raise MethodNotAllowed(
                f"{method} is not allowed on {path}; use {allow}", headers={"Allow": allow}
            )
        raise NotFound(f"no route matches {path}")

    def describe(self) -> list[tuple[str, str, str, str]]:
        """``(methods, path, upstream, operation)`` rows, for ``rosetta check``."""
        rows = []
        for e in self.endpoints:
            methods = ",".join(sorted(e.methods)) if e.methods else "*"
            signature = e.operation.extra.get("signature") or e.operation.name
            rows.append((methods, e.template, e.upstream, str(signature)))
        return rows


def _first_segment(template: str) -> str | None:
    first = template[1:].split("/", 1)[0]
    if not first or any(ch in first for ch in "{}*:"):
        return None
    return first


def _literal(endpoint: Endpoint) -> bool:
    """Whether ``endpoint`` matches its own template string and nothing else."""
    template = endpoint.template
    return not any(ch in template for ch in "{}*") and endpoint.regex.fullmatch(template) is not None


def _first_of_path(path: str) -> str:
    return path[1:].split("/", 1)[0]


def endpoints_for_route(
    index: int, route: RouteConfig, operations: Sequence[Operation], named: Operation | None
) -> list[Endpoint]:
    """The endpoints one route exposes: every operation under a prefix, or one path."""
    if route.path is not None:
        assert named is not None
        methods = route.methods or ((named.method,) if named.method != "*" else None)
        return [_endpoint(route.path, methods, named, route, index, 0)]
    prefix = "" if route.prefix == "/" else str(route.prefix)
    return [
        _endpoint(prefix + (op.path or "/"), None if op.method == "*" else (op.method,), op, route, index, len(prefix))
        for op in operations
    ]


def _endpoint(
    template: str, methods: Sequence[str] | None, op: Operation, route: RouteConfig, index: int, prefix_len: int
) -> Endpoint:
    regex, names, rank = compile_template(template)
    return Endpoint(
        template=template,
        methods=frozenset(m.upper() for m in methods) if methods else None,
        upstream=route.upstream,
        operation=op,
        route=route,
        route_index=index,
        regex=regex,
        variables=names,
        rank=rank,
        prefix_len=prefix_len,
    )

