"""A response cache for safe reads, per route.

A call is cacheable when its route has ``cache:`` and it is a GET or HEAD,
or names an operation listed in ``cache.operations`` (a SOAP or gRPC read
called with POST) — never one whose request body is a stream (gRPC client
streaming or bidi), which keying would have to hold whole. Entries are keyed
by route, method, operation, the canonical arguments (path, query parameters
sorted by name with each one's values in the order given, path parameters,
JSON body with sorted keys), the caller's ``Accept``, ``Accept-Encoding`` and
``Accept-Language`` (a reply may be negotiated on them) and the consumer, so
one consumer never sees another's reply.

When the upstream receives the caller's credentials (``forward_auth``), their
values are part of the key too: the upstream may answer each caller
differently, so callers with different tokens never share an entry.

Only complete ``200`` replies without ``Set-Cookie``, ``no-store``,
``no-cache`` or ``private`` are stored, up to ``max_body_bytes``; so is a
reply whose ``Vary`` names only those negotiation headers, never one that
varies on anything else (``Cookie``, ``Authorization``, ``*`` …), which the
key cannot tell apart. An entry stays fresh for the route's ``ttl`` or the
upstream's own lifetime (``s-maxage``, else ``max-age``, less its ``Age``;
RFC 9111 §4.2), whichever ends first; a reply already stale is not stored. A
client's ``Cache-Control: no-cache`` (or ``no-store``) skips the lookup; the
fresh reply still refreshes the entry unless it said ``no-store``. Responses
say what happened in ``Cache-Status`` (RFC 9211), and hits carry ``Age``:
the age the reply had upstream plus its time in the cache.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from gateway.plugin import NOTHING, Call, Reply
from gateway.resilience.retry import streams_body
from gateway.resilience.settings import CacheSettings

__all__ = ["CacheStore", "CachedReply", "ResponseCache", "cache_key", "open_store"]

_SAFE_METHODS = frozenset({"GET", "HEAD"})
_NEGOTIATED = ("accept", "accept-encoding", "accept-language")  # request headers in the key
# RFC 9111 §5.2.2: never stored (no-store, private), or never reused unchecked (no-cache).
_UNCACHEABLE_DIRECTIVES = frozenset({"no-store", "private", "no-cache"})
CACHE_NAME = "Rosetta"


@dataclass(slots=True)
class CachedReply:
    """A stored reply: what is needed to answer again, and when it was stored."""

    status: int
    body: bytes
    content_type: str | None
    headers: list[tuple[str, str]] = field(default_factory=list)
    stored_at: float = 0.0  # wall-clock time the upstream made the reply (storing time less its Age)
    ttl: float = 0.0  # seconds it is fresh for, from ``stored_at``

    def to_reply(self) -> Reply:
        return Reply(status=self.status, body=self.body, content_type=self.content_type, headers=list(self.headers))

    def age(self, now: float | None = None) -> float:
        """Seconds since the upstream made the reply (RFC 9111 §4.2.3)."""
        return max(0.0, (time.time() if now is None else now) - self.stored_at)

    def ttl_left(self, now: float | None = None) -> float:
        """Seconds it stays fresh from ``now``."""
        return max(0.0, self.ttl - self.age(now))


class CacheStore(Protocol):
    """Where entries live (``memory://`` or ``redis://``)."""

    async def get(self, key: str) -> CachedReply | None: ...
    async def put(self, key: str, entry: CachedReply, ttl: float) -> None: ...
    async def close(self) -> None: ...


def open_store(uri: str, max_entries: int, max_bytes: int | None = None) -> CacheStore:
    """The store for ``uri`` (the bounds apply to ``memory://``)."""
    if uri.startswith("memory:"):
        from gateway.resilience.cache.memory import MemoryStore

        return MemoryStore(max_entries, max_bytes)
    from gateway.resilience.cache.redis import RedisStore

    return RedisStore(uri)


def cache_key(route_tag: str, call: Call, body: Any, credentials: Sequence[str] = ()) -> str:
    """The key of ``call``'s reply: route, method, operation, canonical arguments, consumer,
    and the values of the ``credentials`` headers the call carries to the upstream."""
    material = [
        route_tag,
        call.method,
        call.operation.name,
        call.path,
        sorted(call.query.items()),  # by name; a repeated parameter's order can matter
        sorted(call.path_params.items()),
        body,
        [call.header(name) for name in _NEGOTIATED],
        call.consumer.id,
        [call.header(name) for name in credentials],
    ]
    digest = hashlib.sha256(orjson.dumps(material, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return "rosetta:cache:" + digest


class ResponseCache:
    """The cache of one route."""

    def __init__(
        self, route_tag: str, settings: CacheSettings, store: CacheStore, credentials: Sequence[str] = ()
    ) -> None:
        self.route_tag = route_tag
        self.settings = settings
        self.store = store
        self.credentials = tuple(credentials)  # request headers that identify the caller

    def applies(self, call: Call) -> bool:
        """Whether ``call`` is a safe read this route caches (never a streamed request body)."""
        if streams_body(call):
            return False
        return call.method in _SAFE_METHODS or call.operation.name in self.settings.operations

    async def key(self, call: Call) -> str | None:
        """The key of ``call``; ``None`` when its body is not JSON (it will not be cached)."""
        body: Any = None
        if call.method not in _SAFE_METHODS:
            raw = await call.read_body()
            try:
                body = orjson.loads(raw) if raw.strip() else None
            except orjson.JSONDecodeError:
                return None
        return cache_key(self.route_tag, call, body, self.credentials)

    async def lookup(self, key: str) -> CachedReply | None:
        return await self.store.get(key)

    async def store_reply(self, key: str, reply: Reply) -> bool:
        """Store ``reply`` if it may be shared later; whether it was stored."""
        entry = self._entry(reply)
        if entry is None:
            return False
        await self.store.put(key, entry, entry.ttl_left())
        return True

    def _entry(self, reply: Reply) -> CachedReply | None:
        if reply.status != 200 or reply.stream is not None or not _shareable(reply.headers):
            return None
        lifetime, upstream_age = _freshness(reply.headers, self.settings.ttl)
        if lifetime <= upstream_age:
            return None  # stale already
        content_type: str | None = reply.content_type
        if reply.json is not NOTHING:
            body, content_type = orjson.dumps(reply.json), content_type or "application/json"
        else:
            body = reply.body or b""
        if len(body) > self.settings.max_body_bytes:
            return None
        # Keep the reply as sent from now on: the entry's bytes are the response body.
        reply.json, reply.body, reply.content_type = NOTHING, body, content_type
        kept = [(k, v) for k, v in reply.headers if k.lower() != "age"]  # a hit sends its own
        return CachedReply(reply.status, body, content_type, kept, time.time() - upstream_age, lifetime)


def _shareable(headers: Sequence[tuple[str, str]]) -> bool:
    for name, value in headers:
        lname = name.lower()
        if lname == "set-cookie":
            return False
        if lname == "cache-control" and not _UNCACHEABLE_DIRECTIVES.isdisjoint(_directives(value)):
            return False
        if lname == "vary" and any(v.strip().lower() not in _NEGOTIATED for v in value.split(",") if v.strip()):
            return False
    return True


def _freshness(headers: Sequence[tuple[str, str]], ttl: float) -> tuple[float, float]:
    """(seconds the reply is fresh for, its age upstream): ``ttl``, shortened by the upstream's
    ``s-maxage`` or else ``max-age`` (RFC 9111 §4.2.1), and its ``Age`` (§5.1)."""
    directives: dict[str, str | None] = {}
    age = 0.0
    for name, value in headers:
        lname = name.lower()
        if lname == "cache-control":
            directives.update(_directives(value))
        elif lname == "age":
            age = max(age, _seconds(value) or 0.0)
    given = _seconds(directives.get("s-maxage"))
    if given is None:
        given = _seconds(directives.get("max-age"))
    return (ttl if given is None else min(ttl, given)), age


def _directives(value: str) -> dict[str, str | None]:
    """``Cache-Control`` directives by lower-case name, with their (unquoted) arguments."""
    found: dict[str, str | None] = {}
    for part in value.split(","):
        name, sep, argument = part.partition("=")
        if name.strip():
            found[name.strip().lower()] = argument.strip().strip('"') if sep else None
    return found


def _seconds(value: str | None) -> float | None:
    """A delta-seconds value (RFC 9111 §1.2.2); ``None`` when absent or malformed."""
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


def client_bypasses(call: Call) -> tuple[bool, bool]:
    """(skip the lookup, skip storing) from the client's ``Cache-Control``."""
    value = (call.header("cache-control") or "").lower()
    no_store = "no-store" in value
    return no_store or "no-cache" in value, no_store
