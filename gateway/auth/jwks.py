"""The signing keys of one issuer's JWKS URL: fetched, cached, refetched sparingly.

The keys are fetched with PyJWT's :class:`~jwt.PyJWKClient` (blocking
``urllib``) in a worker thread with a bounded timeout, so the event loop never
waits on the identity provider. Fetches are *single-flight* and *rate-limited*:

- an unknown ``kid`` triggers at most one fetch per ``refresh_interval``; every
  request that arrives while it runs waits for that same fetch (no refetch
  storm when many tokens with unknown ``kid`` arrive at once);
- keys older than ``max_age`` are refetched in the background while the old
  ones keep serving;
- a failed fetch keeps the keys already known; with none known yet,
  :class:`KeysUnavailable` is raised (the gateway answers 503) and the next
  attempt waits for the interval again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jwt import PyJWK, PyJWKClient, PyJWTError

__all__ = ["FETCH_ERRORS", "JwksKeys", "KeysUnavailable", "SigningKey", "UnknownKey"]

log = logging.getLogger("rosetta.auth")

#: What a JWKS fetch can raise, all meaning "no fresh keys this time": PyJWT's
#: client errors (connection, HTTP status, not a JWK Set), a body that is not
#: JSON (ValueError), socket errors and our own deadline.
FETCH_ERRORS: tuple[type[Exception], ...] = (PyJWTError, ValueError, OSError, TimeoutError)


class KeysUnavailable(Exception):
    """No signing keys could be fetched yet from the issuer's JWKS URL."""


class UnknownKey(Exception):
    """The token names a key the issuer does not publish (even after a refetch)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One usable key: its JWK type, the algorithm it declares (if any) and the key object."""

    kid: str | None
    key_type: str
    algorithm: str | None
    key: Any


class JwksKeys:
    """Signing keys of one JWKS URL. ``fetches`` counts fetch attempts."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        refresh_interval: float,
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._client = PyJWKClient(url, cache_jwk_set=False, timeout=timeout)
        self._timeout = timeout
        self._interval = refresh_interval
        self._max_age = max_age
        self._clock = clock
        self._keys: Mapping[str | None, SigningKey] | None = None
        self._fetched_at = -math.inf
        self._attempted_at = -math.inf
        self._inflight: asyncio.Future[None] | None = None
        self.fetches = 0

    async def start(self, required: bool) -> None:
        """Fetch the keys once; raise :class:`KeysUnavailable` only when ``required``."""
        await self._refresh()
        if self._keys is None and required:
            raise KeysUnavailable(f"cannot fetch the JWKS at {self.url}")

    async def close(self) -> None:
        """Stop a background fetch (its thread ends by its own timeout)."""
        if self._inflight is not None:
            self._inflight.cancel()

    async def key(self, kid: str | None) -> SigningKey:
        """The key for ``kid``; refetches at most once per interval when it is unknown."""
        found = self._pick(kid)
        if found is not None:
            if self._clock() - self._fetched_at > self._max_age:
                self._refresh_in_background()
            return found
        if self._inflight is not None or self._due():
            await self._refresh()
        if self._keys is None:
            raise KeysUnavailable(f"no keys fetched yet from {self.url}")
        found = self._pick(kid)
        if found is None:
            raise UnknownKey("the token's key is not published by its issuer")
        return found

    def _pick(self, kid: str | None) -> SigningKey | None:
        keys = self._keys
        if not keys:
            return None
        if kid is None and len(keys) == 1:
            return next(iter(keys.values()))
        return keys.get(kid) if kid is not None else None

    def _due(self) -> bool:
        return self._clock() - self._attempted_at >= self._interval

    def _refresh_in_background(self) -> None:
        if self._inflight is None and self._due():
            self._start_fetch()

    async def _refresh(self) -> None:
        """Join the fetch in flight, or start one."""
        inflight = self._inflight or self._start_fetch()
        await asyncio.shield(inflight)

    def _start_fetch(self) -> asyncio.Future[None]:
        self._attempted_at = self._clock()
        self.fetches += 1
        task = asyncio.ensure_future(self._fetch())
        self._inflight = task
        task.add_done_callback(self._fetch_done)
        return task

    def _fetch_done(self, task: asyncio.Future[None]) -> None:
        if self._inflight is task:
            self._inflight = None

    async def _fetch(self) -> None:
        try:
            raw = await asyncio.wait_for(asyncio.to_thread(self._client.fetch_data), self._timeout + 1)
            keys = parse_jwks(raw)
        except FETCH_ERRORS as exc:
            log.warning("cannot fetch signing keys from %s: %s", self.url, _reason(exc))
            return
        if not keys:
            log.warning("the JWKS at %s holds no usable signing key", self.url)
            return
        self._keys, self._fetched_at = keys, self._clock()


def parse_jwks(raw: Any) -> dict[str | None, SigningKey]:
    """The usable signing keys of a JWK Set document; unusable entries are skipped."""
    entries = raw.get("keys") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWK Set (no 'keys' list)")
    keys: dict[str | None, SigningKey] = {}
    for entry in entries:
        key = _signing_key(entry)
        if key is not None:
            keys[key.kid] = key
    return keys


def _signing_key(entry: Any) -> SigningKey | None:
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
        return None
    try:
        jwk = PyJWK.from_dict(entry)
    except (PyJWTError, ValueError, TypeError):
        return None
    kid, alg = entry.get("kid"), entry.get("alg")
    return SigningKey(
        kid=kid if isinstance(kid, str) else None,
        key_type=str(entry.get("kty")),
        algorithm=alg if isinstance(alg, str) else None,
        key=jwk.key,
    )


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
