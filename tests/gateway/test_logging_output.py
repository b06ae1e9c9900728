"""Log output over real pipes: lines arrive whole and in order while the reader reads;
a reader that stops reading never blocks a writer, and the lines dropped meanwhile are
counted in one line once it reads again; lines left waiting are written by the event
loop when nothing else writes; a process exits with its log unread.

Every wait is bounded, so an output that blocks fails a test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import orjson
import pytest

from gateway.observability.output import RETRY_SECONDS, FdOutput
from tests.e2e.gateway_proc import ROOT


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    """A pipe's (read end, write end), both closed after the test."""
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        os.close(fd)


@pytest.fixture
def output(pipe: tuple[int, int]) -> FdOutput:
    """An output to the pipe, holding at most 64 KiB besides what the pipe holds."""
    return FdOutput(pipe[1], limit=1 << 16)


def reading(fd: int, *last: bytes) -> tuple[threading.Thread, list[bytes]]:
    """A started thread reading ``fd`` as :func:`drain_pipe` does, and the list its data goes to."""
    data: list[bytes] = []
    reader = threading.Thread(target=lambda: data.append(drain_pipe(fd, *last)), daemon=True)
    reader.start()
    return reader, data


def finishes(work: Callable[[], object], within: float = 5.0) -> bool:
    """Whether ``work``, run in a thread, finishes within ``within`` s."""
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(within)
    return not thread.is_alive()


def read_lines_until(fd: int, marker: bytes, within: float = 5.0) -> list[bytes]:
    """The pipe's lines up to the first that holds ``marker`` (or all read within ``within`` s)."""
    deadline, data = time.monotonic() + within, b""
    while marker not in data and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            data += os.read(fd, 1 << 16)
    lines = data.splitlines()
    found = [i for i, line in enumerate(lines) if marker in line]
    return lines[: found[0] + 1] if found else lines


def test_lines_from_two_writers_arrive_whole_and_each_writers_in_order(pipe, output):
    def source(name: bytes) -> Callable[[], None]:
        return lambda: [output.write(b"%s %d\n" % (name, n)) for n in range(2000)]

    reader, reader_data = reading(pipe[0], b"b 1999", b"a 1999")
    writers = [threading.Thread(target=source(name), daemon=True) for name in (b"a", b"b")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(5.0)
    assert not any(writer.is_alive() for writer in writers)
    assert output.drain(5.0)
    reader.join(5.0)
    lines = reader_data[0].splitlines()
    for name in (b"a", b"b"):
        assert [line for line in lines if line.startswith(name)] == [b"%s %d" % (name, n) for n in range(2000)]
    assert output.dropped == 0


def drain_pipe(fd: int, *last: bytes, within: float = 5.0) -> bytes:
    """Everything read from ``fd`` until every one of ``last`` was seen, or for ``within`` s
    when none is given."""
    deadline, data = time.monotonic() + within, b""
    while not (last and all(marker in data for marker in last)) and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            data += os.read(fd, 1 << 16)
    return data


def test_a_stalled_reader_never_blocks_the_writer_and_each_drop_notice_stands_where_lines_went_missing(
    pipe, output
):
    lines = [b"line %06d %s\n" % (n, b"x" * 90) for n in range(20_000)]  # 2 MiB: pipe and buffer overflow
    assert finishes(lambda: [output.write(line) for line in lines])
    assert output.pending and output.dropped
    reader, reader_data = reading(pipe[0], b"after the stall")
    assert output.drain(5.0)
    output.write(b"after the stall\n")
    reader.join(5.0)
    *got, after = reader_data[0].splitlines()
    assert after == b"after the stall"
    expected, notices = 0, 0
    for line in got:
        if line.startswith(b"line "):
            assert line == lines[expected].rstrip(b"\n")
            expected += 1
        else:
            notice = orjson.loads(line)
            assert notice["msg"] == f"log output stalled: {notice['dropped']} lines dropped"
            expected, notices = expected + notice["dropped"], notices + 1
    assert expected == len(lines) and notices >= 1 and output.dropped > 0


def test_draining_a_stalled_output_gives_up_after_its_timeout_and_writes_all_once_read(pipe):
    output = FdOutput(pipe[1])
    for mark in b"abcd":
        output.write(bytes([mark]) * 29_999 + b"\n")  # 120,000 bytes: more than the pipe holds
    started = time.monotonic()
    assert not output.drain(0.2)
    assert time.monotonic() - started < 1.0
    reader, reader_data = reading(pipe[0], b"d\n")
    assert output.drain(5.0)
    reader.join(5.0)
    assert reader_data[0] == b"".join(bytes([mark]) * 29_999 + b"\n" for mark in b"abcd")
    assert output.dropped == 0


async def test_lines_left_waiting_are_written_by_the_event_loop_when_nothing_else_writes(pipe):
    output = FdOutput(pipe[1])
    output.write(b"x" * 99_999 + b"\n")  # more than the pipe holds: the rest waits
    assert output.pending
    data = await asyncio.to_thread(drain_pipe, pipe[0], b"x\n", within=5.0)
    await asyncio.sleep(2 * RETRY_SECONDS)
    assert output.pending == 0 and data == b"x" * 99_999 + b"\n"


def test_a_reader_that_is_gone_loses_lines_quietly():
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        out = FdOutput(write_end)
        out.write(b"nobody reads this\n")
        out.write(b"nor this\n")
        assert out.pending == 0 and out.drain(0.1)
    finally:
        os.close(write_end)


SCRIPT = """
from gateway.observability.logging import ACCESS_LOG, configure, logger
configure()
for n in range(20_000):
    logger.info("line %d", n)
    ACCESS_LOG.write({"n": n})
print("done", flush=True)
"""


def test_a_process_logging_to_a_pipe_nobody_reads_finishes_and_exits_after_a_bounded_drain(pipe):
    process = subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, stdout=subprocess.PIPE, stderr=pipe[1])
    try:
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.stdout is not None and process.stdout.read() == b"done\n"
    first = read_lines_until(pipe[0], b'"line 0"')[-1]
    assert orjson.loads(first)["msg"] == "line 0"
