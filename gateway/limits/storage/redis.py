"""``redis://`` and ``rediss://``: counters shared by every worker and instance.

Each decision is one ``EVALSHA`` of :data:`~gateway.limits.storage._script.SLIDING_WINDOW`
(atomic in Redis). Decisions made while another batch is on the wire are
sent together in one pipeline, so a busy gateway pays one round trip per
batch rather than per call, and a quiet one sends each call at once.

Every operation is bounded: socket connect and read timeouts, no client-side
retries, and ``timeout`` around each batch. Redis exceptions become
:class:`~gateway.limits.storage.StorageError` here, by :data:`ERROR_TABLE`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aredis
from redis import exceptions as rx
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.limits.storage import Decision, StorageError
from gateway.limits.storage._script import SLIDING_WINDOW
from gateway.limits.window import Counts, Rule

__all__ = ["ERROR_TABLE", "FOREIGN_ERRORS", "RedisStorage", "map_error"]

#: Foreign exception → what the operator reads. First match wins; keep specific rows first.
ERROR_TABLE: tuple[tuple[type[BaseException], str], ...] = (
    (rx.TimeoutError, "did not answer in time"),
    (TimeoutError, "did not answer in time"),
    (rx.AuthenticationError, "refused our credentials"),
    (rx.BusyLoadingError, "is still loading its data"),
    (rx.ConnectionError, "is unreachable"),
    (rx.NoScriptError, "lost the rate-limit script"),
    (rx.ResponseError, "refused the command"),
    (rx.RedisClusterException, "cluster is not usable"),
    (rx.RedisError, "failed"),
    (rx.ChildDeadlockedError, "client was inherited across a fork"),
    (rx.IncorrectPolicyType, "client is misconfigured"),
    (OSError, "is unreachable"),
)

#: Every exception class of :data:`ERROR_TABLE`, for ``except`` clauses.
FOREIGN_ERRORS = tuple(row[0] for row in ERROR_TABLE)

_Pending = tuple[Sequence[str], list[Any], "asyncio.Future[list[Any]]"]


def map_error(exc: BaseException) -> StorageError:
    """The :class:`StorageError` for a foreign exception (see :data:`ERROR_TABLE`)."""
    for kind, reason in ERROR_TABLE:
        if isinstance(exc, kind):
            return StorageError(f"redis {reason} ({type(exc).__name__}: {exc})")
    return StorageError(f"redis failed ({type(exc).__name__}: {exc})")


class RedisStorage:
    """One Redis (or a Sentinel/Cluster in the subclasses) holding every counter."""

    def __init__(self, uri: str, timeout: float) -> None:
        self.uri = uri
        self.timeout = timeout
        self.client: Any = None
        self._sha = hashlib.sha1(SLIDING_WINDOW.encode()).hexdigest()
        self._pending: list[_Pending] = []
        self._flushing = False

    def client_options(self) -> dict[str, Any]:
        """Bounded, retry-free connection options for every client this storage makes."""
        return {
            "socket_timeout": self.timeout,
            "socket_connect_timeout": self.timeout,
            "retry": Retry(NoBackoff(), 0),
            "decode_responses": False,
            # CLIENT LIST then shows which gateway process holds which connection.
            "client_name": f"rosetta-limits-{os.getpid()}",
        }

    def connect(self) -> Any:
        """The asyncio client for :attr:`uri` (overridden by Sentinel and Cluster)."""
        return aredis.Redis.from_url(self.uri, **self.client_options())

    async def start(self) -> None:
        self.client = self.connect()

    async def close(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            await client.aclose()

    async def hit(self, keys: Sequence[str], rules: Sequence[Rule], cost: int) -> Decision:
        args: list[Any] = [cost]
        for rule in rules:
            args += (rule.amount, rule.window * 1000)
        reply = await self._submit(keys, args)
        counts = [
            Counts(int(reply[i + 1]), int(reply[i + 2]), int(reply[i]) / 1000)
            for i in range(1, len(reply), 3)
        ]
        return bool(reply[0]), counts

    async def _submit(self, keys: Sequence[str], args: list[Any]) -> list[Any]:
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending.append((keys, args, future))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                await self._send(batch)
        finally:
            self._flushing = False

    async def _send(self, batch: list[_Pending]) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                replies = await self._evalsha_all(batch)
                missing = [i for i, r in enumerate(replies) if isinstance(r, rx.NoScriptError)]
                if missing:  # Redis restarted or flushed its scripts: load once, resend those.
                    await self.client.script_load(SLIDING_WINDOW)
                    again = await self._evalsha_all([batch[i] for i in missing])
                    for i, reply in zip(missing, again, strict=True):
                        replies[i] = reply
        except (Exception, asyncio.CancelledError) as exc:
            error = map_error(exc)
            for *_, future in batch:
                _settle(future, error)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for (*_, future), reply in zip(batch, replies, strict=True):
            _settle(future, map_error(reply) if isinstance(reply, BaseException) else reply)

    async def _evalsha_all(self, batch: list[_Pending]) -> list[Any]:
        if len(batch) == 1:
            keys, args, _ = batch[0]
            try:
                return [await self.client.evalsha(self._sha, len(keys), *keys, *args)]
            except rx.ResponseError as exc:
                return [exc]
        pipe = self.client.pipeline(transaction=False)
        for keys, args, _ in batch:
            pipe.evalsha(self._sha, len(keys), *keys, *args)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies


def _settle(future: asyncio.Future[list[Any]], outcome: Any) -> None:
    if future.done():  # the caller gave up (cancelled)
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
