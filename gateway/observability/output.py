"""Where log lines go: writers that never wait for the reader of the log.

A log line must never stall serving. Writing to stderr blocks once a pipe's reader
stops reading and its 64 KiB fill up (a stalled log shipper, a paused terminal), and
the event loop would block with it. So the lines for a file descriptor go through one
:class:`FdOutput`, which writes on the caller's thread only what cannot block: to a
pipe, socket or terminal, at most ``PIPE_BUF`` bytes each time ``poll`` says the
descriptor is writable; to a regular file (or ``/dev/null``), everything at once.

What cannot be written now waits, in order, in a bounded buffer; the next write, or a
retry the event loop runs every :data:`RETRY_SECONDS` while lines wait, writes it.
Once the buffer is full, lines are dropped and counted, and one warning line says
how many stand where they went missing. At exit, pending lines get
:data:`DRAIN_SECONDS` to be written, then the process ends regardless.

The descriptor stays in blocking mode: it is shared with every other writer of
stderr (``print``, other processes), which would start failing on ``EAGAIN``.

A stream without a file descriptor (an ``io.StringIO`` in a test) cannot block and
is written in place by :class:`StreamOutput`.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import select
import stat
import threading
import time
from contextlib import suppress
from typing import Any, Protocol

import orjson

__all__ = [
    "BUFFER_BYTES",
    "DRAIN_SECONDS",
    "RETRY_SECONDS",
    "FdOutput",
    "Output",
    "StreamOutput",
    "drain",
    "output_for",
]

#: Bytes of lines held while the reader does not read (about 4,000 access lines).
BUFFER_BYTES = 1 << 20
#: How long pending lines may take to be written when the process exits.
DRAIN_SECONDS = 1.0
#: How often the event loop retries pending lines when nothing else writes.
RETRY_SECONDS = 0.1
# POSIX: a pipe that polls writable takes at least PIPE_BUF bytes without blocking.
_CHUNK = select.PIPE_BUF
_WRITABLE = select.POLLOUT | select.POLLERR | select.POLLHUP | select.POLLNVAL


class Output(Protocol):
    """A destination for whole log lines (UTF-8, each ending in ``\\n``)."""

    def write(self, lines: bytes) -> None:
        """Take ``lines``; never blocks on the reader and never raises."""


class StreamOutput:
    """Lines written in place to a stream that has no file descriptor (it cannot block)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, lines: bytes) -> None:
        try:
            self.stream.write(lines.decode())
            self.stream.flush()
        except (OSError, ValueError):  # a closed stream must never break serving
            pass


class FdOutput:
    """Lines for file descriptor ``fd``, written in order on the caller's thread, never blocking.

    :meth:`write` writes what the descriptor takes without blocking and keeps the
    rest, in order, in a buffer of at most ``limit`` bytes. A write that does not fit
    is dropped (and counted); the first write that fits again is preceded by one
    line ``log output stalled: N lines dropped``, as is the end of the buffer once
    it is written, so the notice stands where the lines went missing. A reader that
    is gone (``EPIPE``) or a closed descriptor loses the lines quietly.

    Safe to call from any thread, and from a signal handler that interrupts a write.
    """

    def __init__(self, fd: int, limit: int = BUFFER_BYTES) -> None:
        self.fd = fd
        self.limit = limit
        #: Lines dropped since this output was made.
        self.dropped = 0
        self._may_block = _may_block(fd)
        self._poll = select.poll()
        self._poll.register(fd, select.POLLOUT)
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.RLock()  # reentrant: a signal handler may log during a write
        self._pending: list[bytes] = []  # in order; the first is written from self._offset on
        self._offset = 0
        self._size = 0  # bytes in self._pending, self._offset excluded
        self._dropping = 0  # lines dropped since the last notice
        self._retry: asyncio.TimerHandle | None = None
        self._writing = False
        self._late: list[bytes] = []  # lines a signal handler logged during a write

    @property
    def pending(self) -> int:
        """Bytes waiting to be written."""
        return self._size

    def write(self, lines: bytes) -> None:
        if not lines:
            return
        with self._lock:
            if self._writing:  # a signal handler, interrupting a write on this thread
                self._late.append(lines)
                return
            self._writing = True
            try:
                if self._pending or self._dropping or not self._write_whole(lines):
                    self._keep(lines)
                while self._late or self._pending or self._dropping:
                    if not self._write_pending():
                        self._arm_retry()
                        break
            finally:
                self._writing = False

    def _write_whole(self, lines: bytes) -> bool:
        """Write ``lines`` now, keeping what the descriptor did not take; false if it took nothing."""
        written = self._write_now(lines)
        if written == 0:
            return False
        if 0 < written < len(lines):
            self._queue(lines[written:])  # the rest of a line begun stays whole, past the limit
        return True

    def drain(self, timeout: float) -> bool:
        """Write pending lines, waiting up to ``timeout`` s for the reader; whether all
        were written (or counted as dropped, their notice written)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            if self._writing:  # a signal handler, interrupting a write on this thread
                return False
            self._writing = True
            try:
                while self._pending or self._dropping or self._late:
                    left = deadline - time.monotonic()
                    if left <= 0 or not self._poll.poll(left * 1000):
                        return False
                    self._write_pending()
            finally:
                self._writing = False
        return True

    def _keep(self, lines: bytes) -> None:
        """Queue ``lines`` after the pending ones, or drop and count them when they do not fit."""
        if self._size + len(lines) > self.limit:
            count = lines.count(b"\n")
            self._dropping += count
            self.dropped += count
            return
        if self._dropping:
            self._queue(_notice(self._dropping))
            self._dropping = 0
        self._queue(lines)

    def _queue(self, data: bytes) -> None:
        self._pending.append(data)
        self._size += len(data)

    def _write_pending(self) -> bool:
        """Write pending lines (and the notice of lines dropped after them) while the
        descriptor takes them without blocking; whether every one was written."""
        while self._late:
            self._keep(self._late.pop(0))
        while True:
            if not self._pending:
                if not self._dropping:
                    return True
                self._queue(_notice(self._dropping))
                self._dropping = 0
            if len(self._pending) > 1 or self._offset:
                self._pending[:] = [b"".join(self._pending)[self._offset :]]
                self._offset = 0
            written = self._write_now(self._pending[0])
            if written < 0:  # the reader is gone: what waits for it is lost
                self._pending, self._offset, self._size, self._dropping = [], 0, 0, 0
                return True
            self._offset, self._size = written, self._size - written
            if self._size:
                return False
            self._pending, self._offset = [], 0

    def _write_now(self, data: bytes) -> int:
        """How many bytes of ``data`` were written without blocking (-1: never can be)."""
        view, done = memoryview(data), 0
        try:
            while done < len(view):
                if self._may_block and not self._poll.poll(0):
                    return done
                done += os.write(self.fd, view[done : self._chunk_end(data, done)])
        except BlockingIOError:  # O_NONBLOCK, set by another holder of the same pipe
            return done
        except OSError:  # the reader is gone (EPIPE) or the descriptor is closed
            return -1
        return done

    def _chunk_end(self, data: bytes, start: int) -> int:
        """Where the next write of ``data`` from ``start`` ends: after the last whole line
        within ``PIPE_BUF`` bytes when the descriptor may block, else at the end."""
        if not self._may_block or len(data) - start <= _CHUNK:
            return len(data)
        end = data.rfind(b"\n", start, start + _CHUNK) + 1
        return end if end > start else start + _CHUNK

    def _arm_retry(self) -> None:
        """Have the running event loop (if any) retry pending lines soon; one retry at a time."""
        if self._retry is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop on this thread: the next write or the exit retries
            return
        self._retry = loop.call_later(RETRY_SECONDS, self._retry_pending)

    def _retry_pending(self) -> None:
        with self._lock:
            self._retry = None
            if self._writing or not self._write_pending():
                self._arm_retry()


def _may_block(fd: int) -> bool:
    """Whether a write to ``fd`` can wait for a reader: a pipe, a socket or a terminal.

    A regular file or a device such as ``/dev/null`` takes every write at once."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)


def _notice(dropped: int) -> bytes:
    msg = f"log output stalled: {dropped} lines dropped"
    entry = {"ts": int(time.time() * 1000) / 1000, "level": "warning", "logger": "rosetta", "msg": msg,
             "dropped": dropped}
    return orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE)


_outputs: dict[int, FdOutput] = {}
_outputs_lock = threading.Lock()


def output_for(stream: Any) -> Output:
    """The output for ``stream``: the process's one :class:`FdOutput` for its file
    descriptor, or a :class:`StreamOutput` when it has none."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return StreamOutput(stream)
    with _outputs_lock:
        if fd not in _outputs:
            with suppress(AttributeError, OSError, ValueError):
                stream.flush()  # what was written through the stream comes before these lines
            _outputs[fd] = FdOutput(fd)
        return _outputs[fd]


def drain(timeout: float = DRAIN_SECONDS) -> bool:
    """Wait up to ``timeout`` s, in all, for every output's pending lines; whether all were written."""
    deadline = time.monotonic() + timeout
    with _outputs_lock:
        outputs = list(_outputs.values())
    return all([output.drain(max(0.0, deadline - time.monotonic())) for output in outputs])


def _forget_pending() -> None:
    """In a forked child: the parent's pending lines are the parent's to write."""
    global _outputs_lock
    _outputs_lock = threading.Lock()
    for output in _outputs.values():
        output._reset()


atexit.register(drain)
os.register_at_fork(after_in_child=_forget_pending)
