"""Where log lines go: writers that never wait for the reader of the log.

A log line must never stall serving. Writing to stderr blocks once a pipe's reader
stops reading and its 64 KiB fill up (a stalled log shipper, a paused terminal), and
the event loop would block with it. So the lines for a file descriptor are handed to
:class:`ThreadedOutput`: a bounded buffer that one thread writes out in order. The
caller only appends to the buffer; when it is full, lines are dropped and counted,
and once writing resumes one warning line says how many were lost. At exit, pending
lines get :data:`DRAIN_SECONDS` to be written, then the process ends regardless.

A stream without a file descriptor (an ``io.StringIO`` in a test) cannot block and
is written in place by :class:`StreamOutput`.
"""

from __future__ import annotations

import atexit
import os
import select
import threading
import time
from contextlib import suppress
from typing import Any, Protocol

import orjson

__all__ = ["BUFFER_BYTES", "DRAIN_SECONDS", "Output", "StreamOutput", "ThreadedOutput", "drain", "output_for"]

#: Bytes of lines held while the reader does not read (about 4,000 access lines).
BUFFER_BYTES = 1 << 20
# How long the thread lets lines gather before it takes them. Each time it wakes it
# needs the GIL, which it would otherwise take from the event loop once per iteration.
_GATHER_SECONDS = 0.002
#: How long pending lines may take to be written when the process exits.
DRAIN_SECONDS = 1.0


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


class ThreadedOutput:
    """Lines for file descriptor ``fd``, written in order by a thread of their own.

    :meth:`write` only appends to a buffer of at most ``limit`` bytes and wakes the
    thread: it never waits for the reader. Once the buffer is full every line is
    dropped (and counted) until the thread takes the buffer; the thread then writes
    the buffer and one line ``log output stalled: N lines dropped``, so the notice
    stands where the lines went missing. A reader that is gone (``EPIPE``) or a
    closed descriptor loses the lines quietly.
    """

    def __init__(self, fd: int, limit: int = BUFFER_BYTES) -> None:
        self.fd = fd
        self.limit = limit
        #: Lines dropped since this output was made.
        self.dropped = 0
        self._reset()

    def _reset(self) -> None:
        lock = threading.RLock()  # a signal handler may log while this thread writes
        self._ready = threading.Condition(lock)  # lines are waiting: wakes the thread
        self._idle = threading.Condition(lock)  # everything is written: wakes drain()
        self._pending: list[bytes] = []
        self._size = 0
        self._dropping = 0  # lines dropped since the thread last took the buffer
        self._busy = False  # the thread is gathering or writing lines: no need to wake it
        self._stopping = False
        self._thread: threading.Thread | None = None

    def write(self, lines: bytes) -> None:
        with self._ready:
            if self._dropping or self._size + len(lines) > self.limit:
                count = lines.count(b"\n")
                self._dropping += count
                self.dropped += count
            else:
                self._pending.append(lines)
                self._size += len(lines)
            if self._thread is None:
                self._start()
            elif not self._busy:
                self._ready.notify()

    def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s until every line taken so far is written (or counted as
        dropped, its notice written); whether that happened in time."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending or self._dropping or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = DRAIN_SECONDS) -> bool:
        """:meth:`drain`, then let the thread end once it is idle (a later write starts
        another); whether every line was written."""
        written = self.drain(timeout)
        with self._ready:
            self._stopping = self._thread is not None
            self._ready.notify()
        return written

    def _start(self) -> None:
        self._busy = True
        self._thread = threading.Thread(target=self._run, name=f"rosetta-log-fd{self.fd}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (lines := self._take()) is not None:
            _write_all(self.fd, lines)

    def _take(self) -> bytes | None:
        """Wait for lines, then take them all (and the drop notice they precede);
        None once :meth:`close` asked the thread to end and nothing is left."""
        with self._ready:
            self._busy = False
            if not self._pending and not self._dropping:
                self._idle.notify_all()
            while not self._pending and not self._dropping:
                if self._stopping:
                    self._thread, self._stopping = None, False
                    return None
                self._ready.wait()
            self._busy = True  # from here on, writers need not wake the thread
        time.sleep(_GATHER_SECONDS)
        with self._ready:
            taken, self._pending, self._size = self._pending, [], 0
            dropped, self._dropping = self._dropping, 0
        if dropped:
            taken.append(_notice(dropped))
        return b"".join(taken)


def _notice(dropped: int) -> bytes:
    msg = f"log output stalled: {dropped} lines dropped"
    entry = {"ts": int(time.time() * 1000) / 1000, "level": "warning", "logger": "rosetta", "msg": msg,
             "dropped": dropped}
    return orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE)


def _write_all(fd: int, data: bytes) -> None:
    """Write ``data`` to ``fd``, waiting as long as the reader takes; give up on an error."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:  # O_NONBLOCK, set by another holder of the same pipe
            _wait_writable(fd)
        except OSError:  # the reader is gone (EPIPE) or the descriptor is closed
            return


def _wait_writable(fd: int) -> None:
    poll = select.poll()
    poll.register(fd, select.POLLOUT)
    poll.poll(1000)


_outputs: dict[int, ThreadedOutput] = {}
_outputs_lock = threading.Lock()


def output_for(stream: Any) -> Output:
    """The output for ``stream``: the process's one :class:`ThreadedOutput` for its file
    descriptor, or a :class:`StreamOutput` when it has none."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return StreamOutput(stream)
    with _outputs_lock:
        if fd not in _outputs:
            with suppress(AttributeError, OSError, ValueError):
                stream.flush()  # what was written through the stream comes before these lines
            _outputs[fd] = ThreadedOutput(fd)
        return _outputs[fd]


def drain(timeout: float = DRAIN_SECONDS) -> bool:
    """Wait up to ``timeout`` s, in all, for every output's pending lines; whether all were written."""
    deadline = time.monotonic() + timeout
    with _outputs_lock:
        outputs = list(_outputs.values())
    return all([output.drain(max(0.0, deadline - time.monotonic())) for output in outputs])


def _forget_threads() -> None:
    """In a forked child: the parent's writer threads are gone, and so are its pending lines."""
    global _outputs_lock
    _outputs_lock = threading.Lock()
    for output in _outputs.values():
        output._reset()


atexit.register(drain)
os.register_at_fork(after_in_child=_forget_threads)
