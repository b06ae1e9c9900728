"""Counter storages, one backend per module behind a scheme → class map.

Every storage makes one decision per call, atomically, for all the rules a
request is subject to: either every counter takes the cost, or none does (a
call refused by one limit never spends another). The arithmetic is
:mod:`gateway.limits.window`'s.

==================  ====================================  ==========================
scheme              backend                               shared by
==================  ====================================  ==========================
memory://           :class:`memory.MemoryStorage`         one process
redis://, rediss:// :class:`redis.RedisStorage`           every worker and instance
redis+sentinel://   :class:`redis_sentinel.SentinelStorage`  (same, via Sentinel)
redis+cluster://    :class:`redis_cluster.ClusterStorage`    (same, on one hash slot)
==================  ====================================  ==========================

Failures are reported as :class:`StorageError` only; foreign exceptions are
mapped inside each backend.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Protocol
from urllib.parse import urlsplit

from gateway.limits.window import Counts, Rule

__all__ = ["BACKENDS", "Decision", "Storage", "StorageError", "open_storage"]

#: URI scheme → ``module:Class`` of its backend (imported only when used).
BACKENDS: Mapping[str, str] = {
    "memory": "gateway.limits.storage.memory:MemoryStorage",
    "redis": "gateway.limits.storage.redis:RedisStorage",
    "rediss": "gateway.limits.storage.redis:RedisStorage",
    "redis+sentinel": "gateway.limits.storage.redis_sentinel:SentinelStorage",
    "redis+cluster": "gateway.limits.storage.redis_cluster:ClusterStorage",
}

#: (admitted, the counters of each rule after the decision)
Decision = tuple[bool, list[Counts]]


class StorageError(Exception):
    """The storage could not decide (unreachable, timed out, refused the command)."""


class Storage(Protocol):
    """What the limiter needs from a counter storage."""

    async def start(self) -> None:
        """Connect (a storage that is down at start is not an error: calls will say so)."""

    async def close(self) -> None:
        """Release connections."""

    async def hit(self, keys: Sequence[str], rules: Sequence[Rule], cost: int) -> Decision:
        """Admit a call of ``cost`` under every ``rules[i]`` counted at ``keys[i]``, or none."""
        ...


def open_storage(uri: str, timeout: float) -> Storage:
    """The storage for ``uri``; every operation is bounded by ``timeout`` seconds."""
    module_name, _, cls_name = BACKENDS[urlsplit(uri).scheme].partition(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    storage: Storage = cls(uri, timeout)
    return storage
