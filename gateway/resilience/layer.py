"""The resilience step around every upstream call: cache → guard → fallback.

:class:`Resilience` is built with the runtime and wraps ``translator.handle``
in the pipeline's translate step::

    reply = await runtime.resilience.handle(exchange, translator, call)

A route with a ``cache`` answers safe reads from it; otherwise the call goes
through its upstream's :class:`~gateway.resilience.guard.UpstreamGuard`
(breaker, bulkhead, per-try timeout, retries) and, when that fails in a way
:func:`~gateway.resilience.fallback.takes_over` accepts, to the route's
fallback. Routes with none of these skip the layer (see :meth:`Resilience.bare`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from gateway.errors import GatewayError
from gateway.plugin import Call, Reply, Translator
from gateway.resilience.cache import (
    CACHE_NAME,
    CacheStore,
    ResponseCache,
    client_bypasses,
    open_store,
)
from gateway.resilience.fallback import FALLBACK_HEADER, Fallback, takes_over
from gateway.resilience.guard import UpstreamGuard, discard
from gateway.resilience.retry import is_idempotent

if TYPE_CHECKING:
    from gateway.config import Config, RouteConfig
    from gateway.pipeline import Exchange
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
        for route in config.routes:
            if route.cache is not None:
                store = self._store(route.cache.storage, route.cache.max_entries)
                self._caches[id(route)] = ResponseCache(_route_tag(route), route.cache, store)
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
        await call.read_body()  # the fallback may need to send it again
        idempotent = is_idempotent(call)
        try:
            reply = await guard.call(translator, call)
        except GatewayError as exc:
            if not takes_over(exc, idempotent):
                raise
            return await self._fall_back(x, fallback, call, exc)
        if not takes_over(reply, idempotent):
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
        if not skip_lookup:
            entry = await cache.lookup(key)
            if entry is not None:
                age = max(0, int(time.time() - entry.stored_at))
                ttl = max(0, int(cache.settings.ttl) - age)
                x.response_headers += [("Cache-Status", f"{CACHE_NAME}; hit; ttl={ttl}"), ("Age", str(age))]
                return entry.to_reply()
        reply = await self._send(x, translator, call)
        stored = not skip_store and await cache.store_reply(key, reply)
        forward = "request" if skip_lookup else "uri-miss"
        x.response_headers.append(("Cache-Status", f"{CACHE_NAME}; fwd={forward}" + ("; stored" if stored else "")))
        return reply

    def _store(self, uri: str, max_entries: int) -> CacheStore:
        store = self._stores.get(uri)
        if store is None:
            store = self._stores[uri] = open_store(uri, max_entries)
        return store


def _route_tag(route: RouteConfig) -> str:
    return ",".join(route.methods or ()) + route.template
