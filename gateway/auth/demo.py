"""The demo's bearer token: HS256, signed with the demo's generated secret.

The demo config trusts one issuer with an HMAC secret from the environment::

    auth:
      jwt:
        issuers:
          - {issuer: rosetta-demo, audience: rosetta, secret: "${ROSETTA_DEMO_JWT_SECRET}", algorithms: [HS256]}

and ``rosetta demo`` generates the secret at start (:func:`demo_secret`), puts
it in the environment and prints a token made by :func:`demo_token`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable

import jwt

__all__ = ["DEMO_AUDIENCE", "DEMO_ISSUER", "DEMO_SECRET_ENV", "demo_secret", "demo_token"]

DEMO_ISSUER = "rosetta-demo"
DEMO_AUDIENCE = "rosetta"
DEMO_SECRET_ENV = "ROSETTA_DEMO_JWT_SECRET"


def demo_secret() -> str:
    """A fresh random HMAC secret (256 bits), never written anywhere."""
    return secrets.token_urlsafe(32)


def demo_token(
    secret: str,
    *,
    subject: str = "demo",
    scopes: Iterable[str] = ("rx:read", "rx:write"),
    lifetime: float = 12 * 3600,
    now: float | None = None,
) -> str:
    """A signed HS256 token the demo config accepts, valid for ``lifetime`` seconds.

    >>> token = demo_token(demo_secret())
    >>> token.count(".")
    2
    """
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": DEMO_ISSUER,
        "aud": DEMO_AUDIENCE,
        "sub": subject,
        "scope": " ".join(scopes),
        "iat": issued,
        "exp": issued + int(lifetime),
    }
    return jwt.encode(claims, secret, algorithm="HS256")
