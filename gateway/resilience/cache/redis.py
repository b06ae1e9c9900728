"""``redis://`` response cache, shared by every worker and instance.

An entry is one string ``<JSON head>\\n<body>`` with a ``PX`` expiry. The
cache is an optimisation: when Redis fails, a lookup is a miss and a store
is skipped, with one log line per outage, and the call goes on.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
import redis.asyncio as aredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.limits.storage.redis import FOREIGN_ERRORS, map_error
from gateway.resilience.cache import CachedReply

__all__ = ["RedisStore"]

log = logging.getLogger("rosetta")
_TIMEOUT = 0.25


class RedisStore:
    """Replies in Redis, each expiring on its own."""

    def __init__(self, uri: str, timeout: float = _TIMEOUT) -> None:
        self.client: Any = aredis.Redis.from_url(
            uri,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._failing = False

    async def get(self, key: str) -> CachedReply | None:
        try:
            raw = await self.client.get(key)
        except FOREIGN_ERRORS as exc:
            self._failed(exc)
            return None
        self._ok()
        return _decode(raw) if raw is not None else None

    async def put(self, key: str, entry: CachedReply, ttl: float) -> None:
        try:
            await self.client.set(key, _encode(entry), px=max(1, int(ttl * 1000)))
        except FOREIGN_ERRORS as exc:
            self._failed(exc)
            return
        self._ok()

    async def close(self) -> None:
        await self.client.aclose()

    def _failed(self, exc: BaseException) -> None:
        if not self._failing:
            self._failing = True
            log.error("response cache storage failed: %s; serving without the cache", map_error(exc))

    def _ok(self) -> None:
        if self._failing:
            self._failing = False
            log.warning("response cache storage answers again")


def _encode(entry: CachedReply) -> bytes:
    head = [entry.status, entry.content_type, entry.headers, entry.stored_at, entry.ttl]
    return orjson.dumps(head) + b"\n" + entry.body


def _decode(raw: bytes) -> CachedReply | None:
    head, _, body = raw.partition(b"\n")
    try:
        status, content_type, headers, stored_at, ttl = orjson.loads(head)
    except (orjson.JSONDecodeError, ValueError, TypeError):
        return None  # not an entry of this format: a miss
    return CachedReply(status, body, content_type, [tuple(h) for h in headers], stored_at, ttl)
