"""One HTTP response as it arrives: status and headers first, then the body.

The connection fills an :class:`HttpResponse` from its parser callbacks; the
caller reads it with :meth:`HttpResponse.read` or :meth:`HttpResponse.iter_chunks`.
As soon as the last body byte arrives the connection goes back to its pool (the
rest of the body waits here), so a small response costs no extra wake-up::

    response = await pool.request("GET", "/items", [])
    body = await response.read(limit=1_048_576)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from translators._http.errors import HttpError, ReadTimeout, ResponseTooLarge

if TYPE_CHECKING:
    from gateway.deadlines import Deadlines
    from translators._http._connection import Connection

__all__ = ["HttpResponse"]

# Stop reading from the socket while this much body waits for the caller.
_HIGH_WATER = 262_144


class HttpResponse:
    """Status, reason and headers (as received) of a response; the body on demand.

    Release it with :meth:`aclose` (or by reading the body to its end); a
    connection whose body was not read to the end is closed, not pooled.
    """

    __slots__ = (
        "status", "reason", "headers",
        "_conn", "_loop", "_deadlines", "deadline", "_timeout", "_chunks", "_buffered",
        "_head_done", "_done", "_error", "_waiter", "_head_only", "_framed", "_got_bytes",
    )

    def __init__(
        self,
        conn: Connection,
        loop: asyncio.AbstractEventLoop,
        deadlines: Deadlines,
        timeout: float | None,
        head_only: bool,
    ) -> None:
        self.status = 0
        self.reason = ""
        self.headers: list[tuple[str, str]] = []
        self._conn: Connection | None = conn
        self._loop = loop
        self._deadlines = deadlines
        self.deadline = 0.0  # of the current wait, when it has one
        self._timeout = timeout
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._head_done = False
        self._done = False
        self._error: HttpError | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._head_only = head_only  # a HEAD request: no body whatever the headers say
        self._framed = False  # Content-Length or Transfer-Encoding seen: EOF is not the end
        self._got_bytes = False

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status} {self.reason}>"

    async def read(self, limit: int | None = None) -> bytes:
        """The whole (remaining) body; :class:`ResponseTooLarge` once it passes ``limit``."""
        if self._done and self._error is None:  # the common case: all of it is here already
            body = self._take_all()
        else:
            body = b"".join([chunk async for chunk in self._chunk_lists(limit)])
        if limit is not None and len(body) > limit:
            raise ResponseTooLarge(f"response body is over {limit} bytes")
        return body

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """The body in chunks as they arrive; the connection is pooled after the last."""
        try:
            async for chunk in self._chunk_lists(None):
                yield chunk
        finally:
            self._release()

    async def aclose(self) -> None:
        """Release the response; an unfinished body closes its connection."""
        self._release()

    # -- the caller's side -------------------------------------------------

    async def _chunk_lists(self, limit: int | None) -> AsyncIterator[bytes]:
        total = 0
        while True:
            if self._chunks:
                chunks = self._take()
                for chunk in chunks:
                    total += len(chunk)
                    if limit is not None and total > limit:
                        self._release()
                        raise ResponseTooLarge(f"response body is over {limit} bytes")
                    yield chunk
            elif self._error is not None:
                raise self._error
            elif self._done:
                return
            else:
                timeout = self._timeout
                await self._wait(None if timeout is None else self._loop.time() + timeout)

    def _take(self) -> list[bytes]:
        chunks = self._chunks
        self._chunks = []
        if self._buffered >= _HIGH_WATER and self._conn is not None:
            self._conn.resume_reading()
        self._buffered = 0
        return chunks

    def _take_all(self) -> bytes:
        chunks = self._take()
        if len(chunks) == 1:
            return chunks[0]
        return b"".join(chunks)

    async def _wait(self, deadline: float | None) -> None:
        """Sleep until the connection reports progress; abort on timeout or cancel."""
        waiter = self._waiter = self._loop.create_future()
        if deadline is not None:
            self.deadline = deadline
            self._deadlines.add(self)
        try:
            await waiter
        except BaseException:
            self._release()
            raise
        finally:
            self._waiter = None
            if deadline is not None:
                self._deadlines.discard(self)

    def expire(self) -> None:
        """The current wait's deadline passed (called by :class:`Deadlines`)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ReadTimeout("no response from the server within the timeout"))

    def _release(self) -> None:
        conn = self._conn
        if conn is not None:
            self._conn = None
            conn.abort()
        self._chunks = []

    # -- the connection's side ---------------------------------------------

    def _push(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        if self._buffered >= _HIGH_WATER and self._conn is not None:
            self._conn.pause_reading()

    def _fail(self, error: HttpError) -> None:
        self._error = error
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

