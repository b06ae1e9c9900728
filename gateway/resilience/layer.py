"""The resilience step around every upstream call: cache → guard → fallback.

:class:`Resilience` is built with the runtime and wraps ``translator.handle``
in the pipeline's translate step::

    reply = await runtime.resilience.handle(exchange, translator, call)

A route with a ``cache`` answers safe reads from it; otherwise the call goes
through its upstream's :class:`~gateway.resilience.guard.UpstreamGuard`
(breaker, bulkhead, per-try timeout, retries) and, when that fails in a way
:func:`~gateway.resilience.fallback.takes_over` accepts, to the route's
fallback. Routes with none of these skip the layer (see :meth:`Resilience.bare`).

Concurrent misses on one cache key are collapsed: the first goes to the
upstream, the others wait for it and are served the entry it stored (or, when
its reply could not be stored, each goes on its own). This holds per worker
process; with ``redis://`` each process sends at most one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from gateway.auth.upstream import IDENTITY_HEADERS
from gateway.errors import GatewayError
from gateway.plugin import Call, Reply, Translator
from gateway.resilience.cache import (
    CACHE_NAME,
    CachedReply,
    CacheStore,
    ResponseCache,
    client_bypasses,
    open_store,
)
from gateway.resilience.fallback import FALLBACK_HEADER, Fallback, takes_over
from gateway.resilience.guard import UpstreamGuard, discard
from gateway.resilience.retry import streams_body

if TYPE_CHECKING:
    from gateway.config import Config, RouteConfig
    from gateway.pipeline import Exchange
    from gateway.resilience.settings import CacheSettings
    from gateway.routing import RouteTable

__all__ = ["Resilience"]


class Resilience:
    """Per runtime: one guard per upstream, a cache and a fallback per route that asks."""

    def __init__(self, config: Config, translators: Mapping[str, Translator], routes: RouteTable) -> None:
        self.translators = translators
        self.routes = routes
        self.guards = {name: UpstreamGuard(name, s.resilience) for name, s in config.upstreams.items()}
        self._stores: dict[str, CacheStore] = {}
        self._caches: dict[int, ResponseCache] = {}
        self._fallbacks: dict[int, Fallback] = {}
        self._flights: dict[str, asyncio.Event] = {}  # cache misses being fetched, by key
        credentials = _credential_headers(config)
        for route in config.routes:
            if route.cache is not None:
                store = self._store(route.cache)
                self._caches[id(route)] = ResponseCache(_route_tag(route), route.cache, store, credentials)
            if route.fallback is not None:
                self._fallbacks[id(route)] = Fallback.build(route.fallback, routes)
        passive = {name for name, guard in self.guards.items() if guard.passive}
        self._bare = frozenset(
            id(r) for r in config.routes if r.upstream in passive and id(r) not in self._caches and id(r) not in self._fallbacks
        )

    def bare(self, route: RouteConfig) -> bool:
        """Whether calls on ``route`` need nothing of this layer (no cache, guard or fallback):
        the pipeline then calls the translator itself, a few awaits shorter."""
        return id(route) in self._bare

    async def close(self) -> None:
        """Close the cache stores."""
        await asyncio.gather(*(s.close() for s in self._stores.values()), return_exceptions=True)

    async def handle(self, x: Exchange, translator: Translator, call: Call) -> Reply:
        """The reply to ``call`` on ``x``'s route: cached, guarded, or from the fallback."""
        if self._caches:
            cache = self._caches.get(id(x.endpoint.route))
            if cache is not None and cache.applies(call):
                return await self._cached(x, cache, translator, call)
        return await self._send(x, translator, call)

    async def _send(self, x: Exchange, translator: Translator, call: Call) -> Reply:
        guard = self.guards[translator.name]
        fallback = self._fallbacks.get(id(x.endpoint.route)) if self._fallbacks else None
        if fallback is None:
            return await guard.call(translator, call)
        streamed = streams_body(call)
        if not streamed:
            await call.read_body()  # the fallback may need to send it again
        idempotent = guard.idempotent(call)
        try:
            reply = await guard.call(translator, call)
        except GatewayError as exc:
            if not takes_over(exc, idempotent, streamed):
                raise
            return await self._fall_back(x, fallback, call, exc)
        if not takes_over(reply, idempotent, streamed):
            return reply
        return await self._fall_back(x, fallback, call, reply)

    async def _fall_back(self, x: Exchange, fallback: Fallback, call: Call, failure: Reply | GatewayError) -> Reply:
        try:
            translator, replacement = fallback.target(call, self.translators, self.routes)
        except GatewayError:
            if isinstance(failure, GatewayError):
                raise failure from None
            return failure
        await discard(failure)
        x.response_headers.append((FALLBACK_HEADER, fallback.label))
        return await self.guards[translator.name].call(translator, replacement)

    async def _cached(self, x: Exchange, cache: ResponseCache, translator: Translator, call: Call) -> Reply:
        skip_lookup, skip_store = client_bypasses(call)
        key = await cache.key(call)
        if key is None:
            return await self._send(x, translator, call)
        if skip_lookup:
            return await self._miss(x, cache, translator, call, key, "request", store=not skip_store)
        entry = await cache.lookup(key)
        if entry is not None:
            return _serve(x, entry, "hit", ttl=True)
        flight = self._flights.get(key)
        if flight is None:
            return await self._lead(x, cache, translator, call, key)
        await flight.wait()
        entry = await cache.lookup(key)
        if entry is not None:
            return _serve(x, entry, "fwd=uri-miss; collapsed", ttl=False)
        return await self._miss(x, cache, translator, call, key, "uri-miss")

    async def _lead(self, x: Exchange, cache: ResponseCache, translator: Translator, call: Call, key: str) -> Reply:
        """Fetch a miss while concurrent misses on ``key`` wait, however this call ends."""
        flight = self._flights[key] = asyncio.Event()
        try:
            return await self._miss(x, cache, translator, call, key, "uri-miss")
        finally:
            del self._flights[key]
            flight.set()

    async def _miss(
        self, x: Exchange, cache: ResponseCache, translator: Translator, call: Call, key: str, forward: str,
        store: bool = True,
    ) -> Reply:
        """Send the call and store its reply, unless the fallback answered: a stand-in's
        reply must not be served as the route's own once the upstream is back."""
        reply = await self._send(x, translator, call)
        stored = store and not _fell_back(x) and await cache.store_reply(key, reply)
        x.response_headers.append(("Cache-Status", f"{CACHE_NAME}; fwd={forward}" + ("; stored" if stored else "")))
        return reply

    def _store(self, settings: CacheSettings) -> CacheStore:
        """The route's store: its own ``memory://`` LRU (its own ``max_entries``), or the
        ``redis://`` store every route naming that URI shares."""
        uri = settings.storage
        if uri.startswith("memory:"):
            uri = f"{uri}#{len(self._stores)}"
        store = self._stores.get(uri)
        if store is None:
            store = self._stores[uri] = open_store(settings.storage, settings.max_entries, settings.max_bytes)
        return store


def _serve(x: Exchange, entry: CachedReply, status: str, ttl: bool) -> Reply:
    """The stored reply, with ``Cache-Status`` and ``Age``."""
    now = time.time()
    detail = f"{status}; ttl={int(entry.ttl_left(now))}" if ttl else status
    x.response_headers += [("Cache-Status", f"{CACHE_NAME}; {detail}"), ("Age", str(int(entry.age(now))))]
    return entry.to_reply()


def _fell_back(x: Exchange) -> bool:
    return any(name == FALLBACK_HEADER for name, _ in x.response_headers)


def _credential_headers(config: Config) -> tuple[str, ...]:
    """Request headers that identify the caller to an upstream they are forwarded to."""
    keys = config.auth.api_keys
    key_header = keys.header if keys is not None else "X-API-Key"
    return ("authorization", key_header.lower(), *(h.lower() for h in IDENTITY_HEADERS))


def _route_tag(route: RouteConfig) -> str:
    return ",".join(route.methods or ()) + route.template
