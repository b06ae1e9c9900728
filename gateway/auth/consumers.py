"""The consumers Rosetta knows, and the :class:`Consumer` each credential stands for."""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

from gateway.auth.apikeys import ApiKeyTable
from gateway.auth.settings import AuthSettings, ConsumerSettings
from gateway.plugin import Consumer

__all__ = ["ConsumerDirectory"]

_NO_SETTINGS: MappingProxyType[str, object] = MappingProxyType({})


class ConsumerDirectory:
    """Builds consumers: the credential's own scopes/roles plus those configured for the id.

    A consumer that is not listed under ``auth.consumers`` still calls (a
    token's ``sub`` need not be listed); it just has no extra grants or settings.
    """

    def __init__(self, settings: AuthSettings) -> None:
        self._known: dict[str, ConsumerSettings] = {c.id: c for c in settings.all_consumers()}
        self._settings = {
            c.id: MappingProxyType(c.consumer_settings()) for c in settings.all_consumers()
        }
        self._api_keys = ApiKeyTable(
            {
                sha: self.consumer(entry.consumer, "api_key", entry.scopes, entry.roles)
                for sha, entry in settings.key_digests()
            }
        )

    @property
    def api_keys(self) -> ApiKeyTable:
        """Every configured API key (``auth.api_keys.keys`` and the consumers' own)."""
        return self._api_keys

    def consumer(
        self, consumer_id: str, method: str, scopes: Iterable[str] = (), roles: Iterable[str] = ()
    ) -> Consumer:
        """The consumer ``consumer_id`` authenticated by ``method``."""
        known = self._known.get(consumer_id)
        if known is None:
            return Consumer(consumer_id, frozenset(scopes), frozenset(roles), method, _NO_SETTINGS)
        return Consumer(
            id=consumer_id,
            scopes=frozenset(scopes).union(known.scopes),
            roles=frozenset(roles).union(known.roles),
            method=method,
            settings=self._settings[consumer_id],
        )
