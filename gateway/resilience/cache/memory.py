"""``memory://`` response cache: an LRU dict in this process (each worker has its own)."""

from __future__ import annotations

import time
from collections import OrderedDict

from gateway.resilience.cache import CachedReply

__all__ = ["MemoryStore"]


class MemoryStore:
    """At most ``max_entries`` replies, the least recently used dropped first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, CachedReply]] = OrderedDict()

    async def get(self, key: str) -> CachedReply | None:
        found = self._entries.get(key)
        if found is None:
            return None
        expires, entry = found
        if expires <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    async def put(self, key: str, entry: CachedReply, ttl: float) -> None:
        self._entries[key] = (time.monotonic() + ttl, entry)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def close(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
