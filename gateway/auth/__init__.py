"""Who is calling: authentication and access policy, enforced once at the front door.

- :mod:`gateway.auth.gate` — :class:`AuthGate`, the auth step of the pipeline;
- :mod:`gateway.auth.settings` — the ``auth:`` config models;
- :mod:`gateway.auth.jwt` / :mod:`~gateway.auth.jwks` — bearer JWTs and issuer keys;
- :mod:`gateway.auth.apikeys` — API keys stored as SHA-256 digests;
- :mod:`gateway.auth.policies` — the route policy plug-in interface and stock policies;
- :mod:`gateway.auth.upstream` — credentials and identity headers toward upstreams;
- :mod:`gateway.auth.tls` — HTTPS, client certificates (mTLS), upstream TLS;
- :mod:`gateway.auth.demo` — the demo's token.

Deny by default: a route with no ``auth`` key requires one of the configured
methods, and with none configured it refuses every call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.auth.settings import AuthSettings

if TYPE_CHECKING:
    from gateway.auth.gate import AuthGate

__all__ = ["AuthGate", "AuthSettings"]


def __getattr__(name: str) -> Any:
    # The gate imports the translator interface, which imports this package's
    # upstream models: load it on first use to keep that import order acyclic.
    if name == "AuthGate":
        from gateway.auth.gate import AuthGate

        return AuthGate
    raise AttributeError(f"module 'gateway.auth' has no attribute {name!r}")
