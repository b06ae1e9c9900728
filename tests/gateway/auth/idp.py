"""A local identity provider for the token tests: a real HTTP server on 127.0.0.1.

It serves its JSON Web Key Set at ``/.well-known/jwks.json``, signs tokens with
its current key, rotates keys, can answer errors, hang, pad its answer or trickle
it byte by byte, and counts how often its JWKS was fetched and how often a
client hung up before the end of it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.e2e.log_capture import remember

ISSUER = "https://idp.test"
AUDIENCE = "rosetta"


@cache
def rsa_key(n: int) -> rsa.RSAPrivateKey:
    """The n-th RSA key of the session (generated once: key generation is slow)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims for the test issuer; ``None`` values drop a claim."""
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ana", "scope": "rx:read", "iat": now, "exp": now + 300}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A token assembled by hand (for `alg: none` and forged HMAC tokens)."""
    head = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    return remember_token(head + "." + b64url(signature))


def hs256_with(secret: bytes, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """An HS256 token signed with ``secret`` (e.g. an RSA public key, as in alg confusion)."""
    head = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    signature = hmac.new(secret, head.encode(), hashlib.sha256).digest()
    return remember_token(head + "." + b64url(signature))


def remember_token(token: str) -> str:
    """Register the token, and its signature on its own, for the secret scan."""
    signature = token.rsplit(".", 1)[-1]
    if len(signature) >= 16:
        remember(signature)
    return remember(token)


class LocalIdP:
    """An identity provider serving its JWKS on 127.0.0.1 (``port=0``: any free port)."""

    issuer = ISSUER

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.current = self.add_key(rsa_key(0))
        self.hits = 0
        self.status = 200
        self.delay = 0.0
        self.extra_jwks: list[dict[str, Any]] = []
        self.body: bytes | None = None  # served instead of the JWKS when set
        self.padding = 0  # bytes of JSON whitespace after the JWKS
        self.trickle = 0.0  # seconds between bytes of the answer (no Content-Length then)
        self.hung_up = 0
        self.redirect_to: str | None = None  # answer 302 to this URL
        self._server: ThreadingHTTPServer | None = None

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    def add_key(self, key: rsa.RSAPrivateKey) -> str:
        kid = uuid.uuid4().hex[:12]
        self.keys[kid] = key
        return kid

    def rotate(self, key_index: int = 1) -> str:
        """Publish a new key and sign with it from now on (old keys stay published)."""
        self.current = self.add_key(rsa_key(key_index))
        return self.current

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys + self.extra_jwks}

    def answer(self) -> bytes:
        """The body of the next JWKS answer."""
        if self.status != 200:
            return b"<html>oops</html>"
        if self.body is not None:
            return self.body
        return json.dumps(self.jwks()).encode() + b" " * self.padding

    def token(self, kid: str | None = None, key: rsa.RSAPrivateKey | None = None, **overrides: Any) -> str:
        """A token signed with the current key (or ``key``), with ``claims(**overrides)``."""
        kid = kid or self.current
        signing = key or self.keys[kid]
        return remember_token(jwt.encode(claims(**overrides), signing, algorithm="RS256", headers={"kid": kid}))

    def start(self) -> LocalIdP:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                idp.hits += 1
                if idp.delay:
                    time.sleep(idp.delay)
                try:
                    self.send_response(302 if idp.redirect_to else idp.status)
                    if idp.redirect_to:
                        self.send_header("Location", idp.redirect_to)
                    self.send_header("Content-Type", "application/json")
                    self._send_body(idp.answer())
                except (BrokenPipeError, ConnectionResetError):
                    idp.hung_up += 1  # the gateway gave up waiting (a hanging IdP)

            def _send_body(self, body: bytes) -> None:
                if not idp.trickle:
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_header("Connection", "close")
                self.end_headers()
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(idp.trickle)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
