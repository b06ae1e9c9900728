"""A pool of keep-alive HTTP/1.1 connections to one upstream origin.

Idle connections wait in a LIFO deque (the most recently used one is the most
likely still open and warm); at most ``max_connections`` exist at once, and a
request that finds them all busy waits, bounded by its timeout, for one to
come back::

    pool = HttpPool("http://127.0.0.1:9101/api", max_connections=64)
    response = await pool.request("GET", "/items?page=2", [("Accept", "application/json")],
                                  timeout=5)
    print(response.status, await response.read())
    await pool.aclose()
"""

from __future__ import annotations

import asyncio
import ssl as _ssl
from collections import deque
from collections.abc import AsyncIterable, Sequence
from functools import partial
from urllib.parse import urlsplit

from gateway.deadlines import Deadlines, loop_deadlines
from translators._http._connection import Connection, StaleConnection
from translators._http._head import encode_head
from translators._http.errors import ConnectError, ConnectTimeout, PoolTimeout, ReadTimeout
from translators._http.response import HttpResponse

__all__ = ["Body", "HttpPool"]

Body = bytes | AsyncIterable[bytes] | None
_BYTES = (bytes, bytearray, memoryview)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class HttpPool:
    """Pooled keep-alive connections to the origin of ``base_url``.

    ``request`` appends its target to the base URL's path. ``timeout`` bounds
    connecting (also the wait for a free connection), sending and receiving
    the response head, and then each body read. A pooled connection that the
    server closed while idle is retried once on a fresh connection when no
    response byte came back and the body was bytes or ``None``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        max_connections: int = 256,
        connect_timeout: float = 5.0,
        ssl: _ssl.SSLContext | None = None,
        keepalive_expiry: float = 30.0,
    ) -> None:
        url = urlsplit(base_url)
        if url.scheme not in _DEFAULT_PORTS or not url.hostname:
            raise ValueError(f"not an http:// or https:// URL: {base_url!r}")
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._host = url.hostname
        self._port = url.port or _DEFAULT_PORTS[url.scheme]
        name = f"[{self._host}]" if ":" in self._host else self._host
        self._host_header = name if url.port is None else f"{name}:{url.port}"
        self._origin = f"{url.scheme}://{self._host_header}"
        self.origin_key = (url.scheme, self._host, self._port)
        self._path = url.path.rstrip("/")
        self._ssl = ssl if ssl is not None or url.scheme == "http" else _ssl.create_default_context()
        self._max = max_connections
        self._connect_timeout = connect_timeout
        self._expiry = keepalive_expiry
        self._idle: deque[Connection] = deque()
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()
        self._open = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deadlines: Deadlines | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False
        self._factory = partial(Connection, self)

    def __repr__(self) -> str:
        return f"<HttpPool {self._origin}{self._path} open={self._open} idle={len(self._idle)}>"

    async def request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: Body = None,
        *,
        timeout: float | None = None,
    ) -> HttpResponse:
        """Send ``method base_path+target``; return once the response head is in.

        Adds ``Host`` when absent, ``Content-Length`` for a bytes body and
        ``Transfer-Encoding: chunked`` for a stream (sent raw when the caller
        gives its ``Content-Length``). Raises :mod:`translators._http.errors`.
        """
        return await self.send(method, self._path + target, headers, body, timeout)

    async def send(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: Body,
        timeout: float | None,
    ) -> HttpResponse:
        """Like :meth:`request`, with ``target`` taken as the full request target."""
        streamed = body is not None and not isinstance(body, _BYTES)
        length = None if streamed or body is None else len(body)  # type: ignore[arg-type]
        head, chunked = encode_head(method, target, self._host_header, headers, length, streamed)
        loop = self._loop
        if loop is None:
            loop = self._bind_loop()
        deadline = None if timeout is None else loop.time() + timeout
        for fresh in (False, True):
            conn = (None if fresh else self._pop_idle()) or await self._acquire(deadline, fresh=fresh)
            resp = HttpResponse(conn, loop, self._deadlines, timeout, method == "HEAD")  # type: ignore[arg-type]
            if streamed:
                conn.send(resp, head, None)
                await self._send_stream(conn, resp, body, chunked, deadline)  # type: ignore[arg-type]
            else:
                conn.send(resp, head, body)  # type: ignore[arg-type]
            try:
                while not resp._head_done:
                    if resp._error is not None:
                        raise resp._error
                    await resp._wait(deadline)
                return resp
            except StaleConnection:
                if streamed or fresh:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop = asyncio.get_running_loop()
        self._deadlines = loop_deadlines()
        return loop

    async def aclose(self) -> None:
        """Close idle connections now, busy ones when their response ends."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        while self._idle:
            self._idle.pop().close()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ConnectError("the connection pool is closed"))

    # -- one exchange ----------------------------------------------------------

    async def _send_stream(
        self,
        conn: Connection,
        resp: HttpResponse,
        body: AsyncIterable[bytes],
        chunked: bool,
        deadline: float | None,
    ) -> None:
        try:
            async with asyncio.timeout_at(deadline):
                await conn.send_stream(body, chunked)
        except TimeoutError:
            resp._release()
            raise ReadTimeout("sending the request body took longer than the timeout") from None
        except BaseException:
            resp._release()
            raise

    # -- connections -------------------------------------------------------------

    async def _acquire(self, deadline: float | None, *, fresh: bool) -> Connection:
        while True:
            if self._closed:
                raise ConnectError("the connection pool is closed")
            if not fresh:
                conn = self._pop_idle()
                if conn is not None:
                    return conn
            if self._open < self._max:
                self._open += 1
                return await self._connect(deadline)
            handed = await self._wait_for_slot(deadline)
            if handed is None:
                return await self._connect(deadline)
            if not handed.closed:
                return handed

    def _pop_idle(self) -> Connection | None:
        idle = self._idle
        if not idle:
            return None
        assert self._loop is not None
        oldest_ok = self._loop.time() - self._expiry
        while idle:
            conn = idle.pop()
            if conn.closed:
                continue
            if conn.idle_since < oldest_ok:
                conn.close()
                continue
            return conn
        return None

    async def _connect(self, deadline: float | None) -> Connection:
        """Open a connection for a slot already counted in ``_open``."""
        assert self._loop is not None
        limit = self._connect_timeout
        if deadline is not None:
            limit = min(limit, deadline - self._loop.time())
        try:
            async with asyncio.timeout(limit):
                _, conn = await self._loop.create_connection(
                    self._factory, self._host, self._port,
                    ssl=self._ssl, server_hostname=self._host if self._ssl else None,
                )
        except BaseException as exc:
            self._free_slot()
            if isinstance(exc, TimeoutError):
                raise ConnectTimeout(f"no connection to {self._origin} in {limit:.3g}s") from None
            if isinstance(exc, OSError):
                raise ConnectError(f"cannot connect to {self._origin}: {exc}") from None
            raise
        return conn

    async def _wait_for_slot(self, deadline: float | None) -> Connection | None:
        """Wait for a released connection, or ``None``: a slot to open one."""
        assert self._loop is not None
        waiter: asyncio.Future[Connection | None] = self._loop.create_future()
        self._waiters.append(waiter)
        if deadline is None:
            deadline = self._loop.time() + self._connect_timeout
        timer = self._loop.call_at(deadline, _expire, waiter, self._max)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._give_back(waiter.result())
            raise
        finally:
            timer.cancel()

    def _give_back(self, handed: Connection | None) -> None:
        if handed is None:
            self._free_slot()
        elif not handed.closed:
            self._release(handed)

    # -- called by connections -----------------------------------------------------

    def _release(self, conn: Connection) -> None:
        """A connection finished a response and may serve another."""
        conn.reused = True
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if self._closed:
            conn.close()
            return
        assert self._loop is not None
        conn.idle_since = self._loop.time()
        self._idle.append(conn)
        if self._sweeper is None:
            self._sweeper = self._loop.call_later(self._expiry, self._sweep)

    def _lost(self, conn: Connection) -> None:
        """A counted connection closed."""
        self._free_slot()

    def _free_slot(self) -> None:
        self._open -= 1
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                self._open += 1
                waiter.set_result(None)
                return

    def _sweep(self) -> None:
        """Close connections idle past ``keepalive_expiry`` (the oldest are on the left)."""
        assert self._loop is not None
        self._sweeper = None
        idle = self._idle
        now = self._loop.time()
        while idle and (idle[0].closed or now - idle[0].idle_since >= self._expiry):
            idle.popleft().close()
        if idle:
            delay = idle[0].idle_since + self._expiry - now
            self._sweeper = self._loop.call_later(delay, self._sweep)


def _expire(waiter: asyncio.Future[Connection | None], size: int) -> None:
    if not waiter.done():
        waiter.set_exception(PoolTimeout(f"all {size} connections stayed busy until the timeout"))
