"""``redis+cluster://[:password@]host:port[,host:port]``: counters on a Redis Cluster.

Every key Rosetta writes starts with the hash tag ``{<key_prefix>}``, so all
counters live in one slot and a decision over several keys stays one atomic
script. The cluster then gives failover, not sharding, to rate limiting.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.cluster import ClusterNode, RedisCluster

from gateway.limits.storage._uri import parse_multi_host
from gateway.limits.storage.redis import RedisStorage

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
            cluster_error_retry_attempts=1,
            **options,
        )
