"""A response cache for safe reads, per route.

A call is cacheable when its route has ``cache:`` and it is a GET or HEAD,
or names an operation listed in ``cache.operations`` (a SOAP or gRPC read
called with POST). Entries are keyed by route, method, operation, the
canonical arguments (path, query parameters sorted by name with each one's
values in the order given, path parameters, JSON body with sorted keys), the
caller's ``Accept``, ``Accept-Encoding`` and ``Accept-Language`` (a reply may
be negotiated on them) and the consumer, so one consumer never sees another's
reply.

Only complete ``200`` replies without ``Set-Cookie``, ``no-store`` or
``private`` are stored, up to ``max_body_bytes``; so is a reply whose
``Vary`` names only those negotiation headers, never one that varies on
anything else (``Cookie``, ``Authorization``, ``*`` …), which the key cannot
tell apart. A client's
``Cache-Control: no-cache`` (or ``no-store``) skips the lookup; the fresh
reply still refreshes the entry unless it said ``no-store``. Responses say
what happened in ``Cache-Status`` (RFC 9211), and hits carry ``Age``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from gateway.plugin import NOTHING, Call, Reply
from gateway.resilience.settings import CacheSettings

__all__ = ["CacheStore", "CachedReply", "ResponseCache", "cache_key", "open_store"]

_SAFE_METHODS = frozenset({"GET", "HEAD"})
_NEGOTIATED = ("accept", "accept-encoding", "accept-language")  # request headers in the key
_UNCACHEABLE_DIRECTIVES = ("no-store", "private")
CACHE_NAME = "Rosetta"


@dataclass(slots=True)
class CachedReply:
    """A stored reply: what is needed to answer again, and when it was stored."""

    status: int
    body: bytes
    content_type: str | None
    headers: list[tuple[str, str]] = field(default_factory=list)
    stored_at: float = 0.0

    def to_reply(self) -> Reply:
        return Reply(status=self.status, body=self.body, content_type=self.content_type, headers=list(self.headers))


class CacheStore(Protocol):
    """Where entries live (``memory://`` or ``redis://``)."""

    async def get(self, key: str) -> CachedReply | None: ...
    async def put(self, key: str, entry: CachedReply, ttl: float) -> None: ...
    async def close(self) -> None: ...


def open_store(uri: str, max_entries: int) -> CacheStore:
    """The store for ``uri``."""
    if uri.startswith("memory:"):
        from gateway.resilience.cache.memory import MemoryStore

        return MemoryStore(max_entries)
    from gateway.resilience.cache.redis import RedisStore

    return RedisStore(uri)


def cache_key(route_tag: str, call: Call, body: Any) -> str:
    """The key of ``call``'s reply: route, method, operation, canonical arguments, consumer."""
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
    ]
    digest = hashlib.sha256(orjson.dumps(material, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return "rosetta:cache:" + digest


class ResponseCache:
    """The cache of one route."""

    def __init__(self, route_tag: str, settings: CacheSettings, store: CacheStore) -> None:
        self.route_tag = route_tag
        self.settings = settings
        self.store = store

    def applies(self, call: Call) -> bool:
        """Whether ``call`` is a safe read this route caches."""
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
        return cache_key(self.route_tag, call, body)

    async def lookup(self, key: str) -> CachedReply | None:
        return await self.store.get(key)

    async def store_reply(self, key: str, reply: Reply) -> bool:
        """Store ``reply`` if it may be shared later; whether it was stored."""
        entry = self._entry(reply)
        if entry is None:
            return False
        await self.store.put(key, entry, self.settings.ttl)
        return True

    def _entry(self, reply: Reply) -> CachedReply | None:
        if reply.status != 200 or reply.stream is not None or not _shareable(reply.headers):
            return None
        content_type: str | None = reply.content_type
        if reply.json is not NOTHING:
            body, content_type = orjson.dumps(reply.json), content_type or "application/json"
        else:
            body = reply.body or b""
        if len(body) > self.settings.max_body_bytes:
            return None
        # Keep the reply as sent from now on: the entry's bytes are the response body.
        reply.json, reply.body, reply.content_type = NOTHING, body, content_type
        return CachedReply(reply.status, body, content_type, list(reply.headers), time.time())


def _shareable(headers: Sequence[tuple[str, str]]) -> bool:
    for name, value in headers:
        lname = name.lower()
        if lname == "set-cookie":
            return False
        if lname == "cache-control" and any(d in value.lower() for d in _UNCACHEABLE_DIRECTIVES):
            return False
        if lname == "vary" and any(v.strip().lower() not in _NEGOTIATED for v in value.split(",") if v.strip()):
            return False
    return True


def client_bypasses(call: Call) -> tuple[bool, bool]:
    """(skip the lookup, skip storing) from the client's ``Cache-Control``."""
    value = (call.header("cache-control") or "").lower()
    no_store = "no-store" in value
    return no_store or "no-cache" in value, no_store
