"""API keys: a header value checked against SHA-256 digests, without timing leaks.

Why a dictionary lookup of the digest is timing-safe: Rosetta hashes the
presented key first and looks the *digest* up. The time a lookup takes can
depend on how many leading characters the presented digest shares with a
stored one, but a caller cannot steer that: changing one byte of the key
changes its digest unpredictably, so learning "the first n hex digits match"
tells nothing about any key (to use it one would need SHA-256 preimages).
Comparing the raw key byte by byte, by contrast, would leak the key's prefix.
Keys themselves are never stored, only their digests, so the config leaks
nothing either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from gateway.plugin import Consumer

__all__ = ["ApiKeyTable", "digest"]

# Keys longer than this are refused before hashing (a header this long is no key).
MAX_KEY_LENGTH = 1024


def digest(key: str) -> str:
    """The hex SHA-256 of ``key`` as stored in config: ``printf %s "$KEY" | sha256sum``."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyTable:
    """Digest → :class:`Consumer`, built once per config.

    >>> table = ApiKeyTable({digest("s3cret-key"): Consumer(id="acme", method="api_key")})
    >>> table.lookup("s3cret-key").id
    'acme'
    >>> table.lookup("guess") is None
    True
    """

    def __init__(self, consumers: Mapping[str, Consumer]) -> None:
        self._by_digest = dict(consumers)

    def __len__(self) -> int:
        return len(self._by_digest)

    def lookup(self, key: str) -> Consumer | None:
        """The consumer whose key this is, or ``None``."""
        if not key or len(key) > MAX_KEY_LENGTH:
            return None
        try:
            hashed = digest(key)
        except UnicodeEncodeError:  # header bytes that are not UTF-8 arrive as lone surrogates
            return None
        return self._by_digest.get(hashed)
