"""``redis+cluster://[:password@]host:port[,host:port]``: counters on a Redis Cluster.

Every key Rosetta writes starts with the hash tag ``{<key_prefix>}``, so all
counters live in one slot and a decision over several keys stays one atomic
script. The cluster then gives failover, not sharding, to rate limiting.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis import exceptions as rx
from redis.asyncio.cluster import ClusterNode, RedisCluster

from gateway.limits.storage._uri import parse_multi_host
from gateway.limits.storage.redis import RedisStorage, _Command

__all__ = ["ClusterStorage"]


class ClusterStorage(RedisStorage):
    """Counters on a Redis Cluster, in one hash slot."""

    def connect(self) -> Any:
        uri = parse_multi_host(self.uri, default_port=6379)
        options = self.client_options()
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in uri.hosts],
            password=uri.password,
            username=uri.username,
            **options,
        )

    async def _evalsha_all(self, commands: list[_Command]) -> list[Any]:
        """Each decision on its own (redis-py refuses scripts in cluster pipelines), concurrently."""
        replies = await asyncio.gather(
            *(self.client.evalsha(self._sha, len(keys), *keys, *args) for keys, args in commands),
            return_exceptions=True,
        )
        for reply in replies:
            if isinstance(reply, BaseException) and not isinstance(reply, rx.ResponseError):
                raise reply
        return list(replies)
