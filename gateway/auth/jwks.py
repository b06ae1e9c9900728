"""The signing keys of one issuer's JWKS URL: fetched, cached, refetched sparingly.

The keys are fetched by :func:`fetch_jwks` (blocking ``urllib``) in a worker
thread, so the event loop never waits on the identity provider. A fetch follows
no redirect, reads at most :data:`MAX_JWKS_BYTES` and stops reading once
``timeout`` has passed, even when the IdP keeps trickling bytes: the worker
threads are few and shared with the rest of the gateway (e.g. DNS look-ups),
so none may be held by a slow IdP. Fetches are *single-flight* and
*rate-limited*:

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
import http.client
import json
import logging
import math
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt import PyJWK, PyJWTError

__all__ = [
    "FETCH_ERRORS",
    "MAX_JWKS_BYTES",
    "JwksKeys",
    "KeysUnavailable",
    "SigningKey",
    "UnknownKey",
    "fetch_jwks",
    "key_problem",
    "parse_jwks",
]

log = logging.getLogger("rosetta.auth")

#: What a JWKS fetch can raise, all meaning "no fresh keys this time": socket,
#: URL and HTTP-status errors and our own deadline (OSError: ``URLError``,
#: ``HTTPError``, ``TimeoutError``), a broken HTTP answer (``HTTPException``), a
#: body too large, not JSON or not a JWK Set (ValueError).
FETCH_ERRORS: tuple[type[Exception], ...] = (OSError, http.client.HTTPException, ValueError)

#: The largest JWKS body read: a set of a few dozen keys takes tens of kilobytes.
MAX_JWKS_BYTES = 1 << 20
_CHUNK = 1 << 16

#: The smallest RSA modulus trusted to verify signatures (NIST SP 800-131A).
MIN_RSA_BITS = 2048
_PUBLIC_KEYS = (rsa.RSAPublicKey, ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)


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
            raw = await asyncio.wait_for(asyncio.to_thread(fetch_jwks, self.url, self._timeout), self._timeout * 2 + 1)
            keys = parse_jwks(raw)
        except FETCH_ERRORS as exc:
            log.warning("cannot fetch signing keys from %s: %s", self.url, _reason(exc))
            return
        if not keys:
            log.warning("the JWKS at %s holds no usable signing key", self.url)
            return
        self._keys, self._fetched_at = keys, self._clock()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects (a 3xx is an error): keys come from the configured URL only."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def fetch_jwks(url: str, timeout: float, max_bytes: int = MAX_JWKS_BYTES) -> Any:
    """The JSON document at ``url``, fetched within about ``timeout`` seconds (blocking).

    Each socket wait is bounded by ``timeout`` and reading stops once ``timeout``
    has passed since the start, so the call returns within twice ``timeout``
    however slowly the server sends. Raises one of :data:`FETCH_ERRORS`: a 3xx
    (redirects are not followed) or other error status, a body over
    ``max_bytes``, a body that is not JSON.
    """
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "rosetta"})
    try:
        response = _OPENER.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()  # an error status still holds its connection open
        raise
    with response:
        body = _read_body(response, deadline, max_bytes)
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("the JWKS nests too deeply to be a JWK Set") from None


def _read_body(response: Any, deadline: float, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read1(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise ValueError(f"the JWKS is larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise TimeoutError("the JWKS took longer than the timeout to arrive")
        chunks.append(chunk)
    return b"".join(chunks)


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
    """The key of one JWK Set entry, unless it is not for verifying signatures (``use``,
    ``key_ops``; RFC 7517 §4.2–4.3), does not parse, or fails :func:`key_problem`."""
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or not _may_verify(entry.get("key_ops")):
        return None
    try:
        jwk = PyJWK.from_dict(entry)
    except (PyJWTError, ValueError, TypeError):
        return None
    kid, alg = entry.get("kid"), entry.get("alg")
    problem = key_problem(jwk.key)
    if problem is not None:
        log.warning("a key of the JWKS (kid %r) is not used: %s", kid, problem)
        return None
    return SigningKey(
        kid=kid if isinstance(kid, str) else None,
        key_type=str(entry.get("kty")),
        algorithm=alg if isinstance(alg, str) else None,
        key=jwk.key,
    )


def _may_verify(key_ops: Any) -> bool:
    return key_ops is None or (isinstance(key_ops, list) and "verify" in key_ops)


def key_problem(key: Any) -> str | None:
    """Why ``key`` must not verify tokens, or ``None`` when it may.

    Private or symmetric key material published as a public key lets anybody
    sign; an RSA key under :data:`MIN_RSA_BITS` bits can be factored.
    """
    if not isinstance(key, _PUBLIC_KEYS):
        return "it is not a public key (private or secret key material is never trusted)"
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return f"a {key.key_size}-bit RSA key is too weak ({MIN_RSA_BITS} bits at least)"
    return None


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
