"""``redis+sentinel://[:password@]host:port[,host:port]/service[/db]``: Redis found through Sentinel.

Decisions go to the current master of ``service``; after a failover the
client asks the sentinels again. Everything else is :class:`RedisStorage`.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.sentinel import Sentinel

from gateway.limits.storage._uri import parse_multi_host
from gateway.limits.storage.redis import RedisStorage

__all__ = ["SentinelStorage"]


class SentinelStorage(RedisStorage):
    """Counters on the master a set of sentinels names."""

    def connect(self) -> Any:
        uri = parse_multi_host(self.uri, default_port=26379)
        if not uri.path:
            raise ValueError(f"{self.uri!r} names no service: add '/<service name>'")
        options = self.client_options()
        sentinel = Sentinel(list(uri.hosts), sentinel_kwargs=dict(options), **options)
        db = int(uri.path[1]) if len(uri.path) > 1 else 0
        return sentinel.master_for(uri.path[0], password=uri.password, username=uri.username, db=db)
