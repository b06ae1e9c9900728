"""``memory://`` response cache: an LRU dict in this process (each worker has its own)."""

from __future__ import annotations

import time
from collections import OrderedDict

from gateway.resilience.cache import CachedReply

__all__ = ["MemoryStore", "entry_size"]


def entry_size(key: str, entry: CachedReply) -> int:
    """Bytes an entry is counted as: its key, body and headers (Python's own overhead aside)."""
    return len(key) + len(entry.body) + sum(len(k) + len(v) for k, v in entry.headers)


class MemoryStore:
    """At most ``max_entries`` replies and ``max_bytes`` of them (:func:`entry_size`), the least
    recently used dropped first; an entry larger than ``max_bytes`` is not kept.

    Example::

        store = MemoryStore(max_entries=10_000, max_bytes=64 << 20)
        await store.put(key, entry, ttl=30.0)
    """

    def __init__(self, max_entries: int, max_bytes: int | None = None) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size = 0  #: bytes held now
        self._entries: OrderedDict[str, tuple[float, CachedReply, int]] = OrderedDict()

    async def get(self, key: str) -> CachedReply | None:
        found = self._entries.get(key)
        if found is None:
            return None
        expires, entry, _ = found
        if expires <= time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry

    async def put(self, key: str, entry: CachedReply, ttl: float) -> None:
        size = entry_size(key, entry)
        self._drop(key)
        if self.max_bytes is not None and size > self.max_bytes:
            return
        self._entries[key] = (time.monotonic() + ttl, entry, size)
        self.size += size
        while len(self._entries) > self.max_entries or (self.max_bytes is not None and self.size > self.max_bytes):
            _, (_, _, dropped) = self._entries.popitem(last=False)
            self.size -= dropped

    async def close(self) -> None:
        self._entries.clear()
        self.size = 0

    def _drop(self, key: str) -> None:
        found = self._entries.pop(key, None)
        if found is not None:
            self.size -= found[2]

    def __len__(self) -> int:
        return len(self._entries)
