"""The fixed 1 KB JSON document every upstream and baseline in the benchmarks returns."""

from __future__ import annotations

import json

__all__ = ["PAYLOAD", "make_payload"]


def make_payload(size: int = 1024) -> bytes:
    """A JSON object of exactly ``size`` bytes (ASCII, no single quotes)."""
    items = [{"id": i, "name": f"item-{i}", "price": 10 + i, "tags": ["a", "b"]} for i in range(12)]
    doc = {"service": "pharmacy", "items": items, "pad": ""}
    raw = json.dumps(doc, separators=(",", ":"))
    while len(raw) > size - 2:
        items.pop()
        raw = json.dumps(doc, separators=(",", ":"))
    doc["pad"] = "x" * (size - len(raw))
    encoded = json.dumps(doc, separators=(",", ":")).encode()
    assert len(encoded) == size, len(encoded)
    return encoded


PAYLOAD = make_payload()
