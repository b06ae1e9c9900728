"""One keep-alive HTTP/1.1 connection: an ``asyncio.Protocol`` fed to httptools.

The connection carries one request at a time. It writes the request, feeds
every received byte to an ``httptools.HttpResponseParser`` whose callbacks fill
the current :class:`HttpResponse`, and when the response ends hands itself back
to its pool (keep-alive) or closes (``Connection: close``, HTTP/1.0, errors).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterable
from typing import TYPE_CHECKING, Any

import httptools

from translators._http.errors import RemoteProtocolError
from translators._http.response import HttpResponse

if TYPE_CHECKING:
    from translators._http.pool import HttpPool

__all__ = ["Connection", "StaleConnection"]

_MAX_HEAD = 65_536  # bytes of status line and headers accepted before giving up
_FRAMING_NAMES = frozenset({b"content-length", b"transfer-encoding"})


class StaleConnection(RemoteProtocolError):
    """A reused connection closed before any response byte: safe to retry."""


class _StopParsing(Exception):
    """Raised from a parser callback to stop at the end of a HEAD response's head."""


class Connection(asyncio.Protocol):
    """A pooled connection; ``reused`` once it has served a response."""

    __slots__ = (
        "_pool", "_parser", "_transport", "_resp", "_keep_alive", "_head_size",
        "_drain", "_write_paused", "_read_paused", "_writing", "closed", "reused", "idle_since",
    )

    def __init__(self, pool: HttpPool) -> None:
        self._pool = pool
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._resp: HttpResponse | None = None
        self._keep_alive = False
        self._head_size = 0
        self._drain: asyncio.Future[None] | None = None
        self._write_paused = False
        self._read_paused = False
        self._writing = False  # a streamed body is still going out
        self.closed = False
        self.reused = False
        self.idle_since = 0.0

    # -- the pool's and the caller's side ------------------------------------

    def send(self, resp: HttpResponse, head: bytes, body: bytes | None) -> None:
        """Start an exchange: write head and a bytes body; ``resp`` gets the answer."""
        self._resp = resp
        self._head_size = 0
        transport = self._transport
        assert transport is not None
        if body:
            transport.write(head + body if len(body) < 65_536 else head)
            if len(body) >= 65_536:
                transport.write(body)
        else:
            transport.write(head)

    async def send_stream(self, chunks: AsyncIterable[bytes], chunked: bool) -> None:
        """Write a streamed body, waiting whenever the socket buffer is full."""
        transport = self._transport
        assert transport is not None
        self._writing = True
        try:
            async for chunk in chunks:
                if self.closed or self._resp is None:
                    return  # answered early, or gone: the response tells which
                if chunk:
                    transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
                if self._write_paused:
                    await self._wait_drain()
            if chunked and not self.closed:
                transport.write(b"0\r\n\r\n")
        finally:
            self._writing = False

    def abort(self) -> None:
        """Drop the connection now (an unfinished or abandoned response)."""
        resp = self._resp
        self._resp = None
        if resp is not None:
            resp._conn = None
        if self._transport is not None and not self.closed:
            self._transport.abort()

    def close(self) -> None:
        if self._transport is not None and not self.closed:
            self._transport.close()

    def pause_reading(self) -> None:
        if self._transport is not None and not self.closed and not self._read_paused:
            self._read_paused = True
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._transport is not None and not self.closed and self._read_paused:
            self._read_paused = False
            self._transport.resume_reading()

    # -- asyncio.Protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        resp = self._resp
        if resp is None:  # bytes nobody asked for: the connection cannot be trusted
            self.abort()
            return
        resp._got_bytes = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # a 101: Rosetta never asks to switch protocols
            self._broken(resp, "the server switched protocols unasked")
            return
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _StopParsing):
                self._end_head_only(data)
            elif resp._done:  # a whole response, then junk: keep the response, not the socket
                self._keep_alive = False
            else:
                self._broken(resp, f"malformed response: {exc}")
                return
        if resp._done:
            self._finish(resp)
        if resp._head_done:
            resp._wake()
        else:
            self._head_size += len(data)
            if self._head_size > _MAX_HEAD:
                self._broken(resp, "response head is too large")

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost does the rest

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool._lost(self)
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)
        resp = self._resp
        if resp is None:
            return
        self._resp = None
        resp._conn = None
        if resp._head_done and not resp._framed and exc is None:
            resp._done = True  # a close-delimited body ends at EOF
            resp._wake()
        elif not resp._got_bytes and self.reused:
            resp._fail(StaleConnection("the server closed the pooled connection"))
        else:
            reason = "reset" if exc is not None else "closed"
            resp._fail(RemoteProtocolError(f"connection {reason} before the response was complete"))

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    # -- httptools callbacks ---------------------------------------------------

    def on_message_begin(self) -> None:
        resp = self._resp
        if resp is None or resp._done:
            raise RemoteProtocolError("unsolicited response")
        resp.headers = []
        resp.reason = ""
        resp._framed = False

    def on_status(self, status: bytes) -> None:
        resp = self._resp
        assert resp is not None
        resp.reason += status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        resp = self._resp
        assert resp is not None
        if resp._head_done:  # a trailer field: never merged into the headers (RFC 9110 §6.5.1)
            return
        if len(name) in (14, 17) and name.lower() in _FRAMING_NAMES:
            resp._framed = True
        # Values as the front door decodes a request's: bytes that are not UTF-8 survive.
        resp.headers.append((name.decode("latin-1"), value.decode("utf-8", "surrogateescape")))

    def on_headers_complete(self) -> None:
        resp = self._resp
        assert resp is not None
        status = self._parser.get_status_code()
        if status < 200:  # 1xx: an interim response, the real one follows
            if status < 100:
                raise RemoteProtocolError(f"status {status} is not an HTTP status")
            return
        if status > 599:
            raise RemoteProtocolError(f"status {status} is not an HTTP status")
        resp.status = status
        resp._head_done = True
        if resp._head_only:
            self._keep_alive = self._parser.should_keep_alive()
            resp._done = True
            raise _StopParsing

    def on_body(self, body: bytes) -> None:
        resp = self._resp
        assert resp is not None
        resp._push(body)

    def on_message_complete(self) -> None:
        resp = self._resp
        assert resp is not None
        if resp._head_done:
            resp._done = True
            self._keep_alive = self._parser.should_keep_alive()

    # -- internals ------------------------------------------------------------

    def _end_head_only(self, data: bytes) -> None:
        # The parser stopped mid-stream: start a new one. Reuse the connection
        # only when nothing followed the head in the same read.
        self._parser = httptools.HttpResponseParser(self)
        if not data.endswith(b"\r\n\r\n"):
            self._keep_alive = False

    def _finish(self, resp: HttpResponse) -> None:
        self._resp = None
        resp._conn = None
        if self._keep_alive and not self.closed and not self._writing:
            self.resume_reading()
            self._pool._release(self)
        else:
            self.close()

    def _broken(self, resp: HttpResponse, message: str) -> None:
        self.abort()
        resp._fail(RemoteProtocolError(message))

    async def _wait_drain(self) -> None:
        loop: Any = asyncio.get_running_loop()
        self._drain = loop.create_future()
        try:
            await self._drain
        finally:
            self._drain = None
