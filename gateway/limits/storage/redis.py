"""``redis://`` and ``rediss://``: counters shared by every worker and instance.

Each decision is one ``EVALSHA`` of :data:`~gateway.limits.storage._script.SLIDING_WINDOW`
(atomic in Redis). Decisions made while another batch is on the wire are
sent together, pipelined on one connection, so a busy gateway pays one round
trip per batch rather than per call, and a quiet one sends each call at once.
Replies are parsed by hiredis.

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

from gateway.deadlines import TaskDeadline, loop_deadlines
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

#: How a connection Redis has closed fails (a timeout is no sign of that, and is never resent).
_CLOSED = (rx.ConnectionError, ConnectionResetError, BrokenPipeError)

_Pending = tuple[Sequence[str], list[Any], "asyncio.Future[list[Any]]"]
_Command = tuple[Sequence[str], list[Any]]


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
        self._conn: Any = None
        self._pending: list[_Pending] = []
        self._busy = False  # a decision or batch is on the wire

    def client_options(self) -> dict[str, Any]:
        """Bounded, retry-free connection options for every client this storage makes."""
        return {
            "socket_timeout": self.timeout,
            "socket_connect_timeout": self.timeout,
            "retry": Retry(NoBackoff(), 0),
            "decode_responses": False,
            # A key holds what callers sent (a token's subject, a forwarded address), which may
            # be no valid Unicode (a lone surrogate): it must be counted, not fail as an outage.
            # Keys stay distinct: surrogatepass encodes every string differently.
            "encoding_errors": "surrogatepass",
            # CLIENT LIST then shows which gateway process holds which connection.
            "client_name": f"rosetta-limits-{os.getpid()}",
        }

    def connect(self) -> Any:
        """The asyncio client for :attr:`uri` (overridden by Sentinel and Cluster)."""
        return aredis.Redis.from_url(self.uri, **self.client_options())

    async def start(self) -> None:
        self.client = self.connect()

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self.client.connection_pool.release(conn)
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
        """Send at once when the line is free; else join the next batch."""
        if self._busy:
            future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
            self._pending.append((keys, args, future))
            return await future
        self._busy = True
        try:
            reply = (await self._run([(keys, args)]))[0]
        except StorageError as exc:
            self._fail_pending(exc)  # queued behind a failed line: fail them now, not after another timeout
            raise
        finally:
            self._next_batch()
        if isinstance(reply, BaseException):
            raise map_error(reply)
        return reply  # type: ignore[no-any-return]

    def _fail_pending(self, error: StorageError) -> None:
        pending, self._pending = self._pending, []
        for *_, future in pending:
            _settle(future, error)

    def _next_batch(self) -> None:
        if self._pending:
            asyncio.get_running_loop().create_task(self._flush())
        else:
            self._busy = False

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    replies = await self._run([(keys, args) for keys, args, _ in batch])
                except (StorageError, asyncio.CancelledError) as exc:
                    error = exc if isinstance(exc, StorageError) else StorageError("redis call cancelled")
                    for *_, future in batch:
                        _settle(future, error)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                for (*_, future), reply in zip(batch, replies, strict=True):
                    _settle(future, map_error(reply) if isinstance(reply, BaseException) else reply)
        finally:
            self._busy = False

    async def _run(self, commands: list[_Command]) -> list[Any]:
        """Every command's reply (an error reply in its place); :class:`StorageError` if the line fails."""
        deadlines = loop_deadlines()
        try:
            with TaskDeadline(deadlines, deadlines.loop.time() + self.timeout):
                replies = await self._evalsha_all(commands)
                missing = [i for i, r in enumerate(replies) if isinstance(r, rx.NoScriptError)]
                if missing:  # Redis restarted or flushed its scripts: load once, resend those.
                    await self.client.script_load(SLIDING_WINDOW)
                    again = await self._evalsha_all([commands[i] for i in missing])
                    for i, reply in zip(missing, again, strict=True):
                        replies[i] = reply
        except Exception as exc:
            raise map_error(exc) from None
        return replies

    async def _evalsha_all(self, commands: list[_Command]) -> list[Any]:
        """One EVALSHA per decision, written at once on this storage's own connection.

        redis-py's pipeline object costs more than the scripts here; an error
        reply is returned in its place, not raised. A connection Redis closed
        while it was idle (its ``timeout`` setting, a restart) is found closed
        before any reply: the commands are sent once more on a new connection.
        """
        if self._conn is None:
            self._conn = await self.client.connection_pool.get_connection()
            # _run bounds every exchange on this connection with one coarse deadline;
            # redis-py's own per-read and per-write timers (asyncio.timeout, wait_for)
            # would cost several µs per decision on top.
            self._conn.socket_timeout = None
        conn = self._conn
        reused = conn.is_connected
        packed = conn.pack_commands([("EVALSHA", self._sha, len(k), *k, *a) for k, a in commands])
        replies: list[Any] = []
        try:
            await _exchange(conn, packed, len(commands), replies)
        except _CLOSED:
            if replies or not reused:
                raise
            # Nothing came back on a connection opened earlier: Redis had closed it, idle,
            # before reading the commands (a crash in between loses its counters anyway).
            await _exchange(conn, packed, len(commands), replies)
        return replies


async def _exchange(conn: Any, packed: list[bytes], count: int, replies: list[Any]) -> None:
    """Send ``packed`` on ``conn`` and append its ``count`` replies to ``replies`` as they come."""
    try:
        await conn.send_packed_command(packed, check_health=False)
        for _ in range(count):
            replies.append(await _reply(conn))
    except BaseException:
        await conn.disconnect()  # replies may be left unread; it reconnects on next use
        raise


async def _reply(conn: Any) -> Any:
    try:
        return await conn.read_response()
    except rx.ResponseError as exc:
        return exc


def _settle(future: asyncio.Future[list[Any]], outcome: Any) -> None:
    if future.done():  # the caller gave up (cancelled)
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
