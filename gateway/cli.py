"""The ``rosetta`` command (also ``python -m gateway``).

::

    rosetta run   --config FILE [--host H] [--port P] [--workers N]
    rosetta check --config FILE         validate, load every WSDL/proto, print the routes
    rosetta demo  [--port P]            bundled backends + gateway, with curl lines to try
    rosetta --version
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import Any

from gateway import __version__
from gateway.config import Config, ConfigError, load_config, server_option_errors
from gateway.limits.settings import config_errors as limits_config_errors
from gateway.plugin import load_translator_class
from gateway.runtime import StartupError, build_runtime

__all__ = ["main"]

# Binding the server's socket failed: the address is taken, not this machine's, or not allowed.
_CANNOT_LISTEN = frozenset({errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES})
_BINDING = frozenset({"bind_socket", "bind_unix_socket"})  # sanic.server.socket's binders
# A worker's own shared-state key: the lines of the StartupError that stopped it.
_STARTUP_ERRORS = "rosetta_startup_errors"
# A replaced worker that dies again this soon after starting is not replaced again.
_CRASH_LOOP_SECONDS = 10.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rosetta`` command; return its exit status."""
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 2
    try:
        return int(args.func(args))
    except (ConfigError, StartupError) as exc:
        _print_errors(exc.errors)
        return 1


def _print_errors(lines: Sequence[str]) -> None:
    """``error:`` lines on stderr, after the log lines written before them, never blocking
    on a stalled reader (they go through the process's one log output)."""
    from gateway.observability.output import output_for

    output_for(sys.stderr).write("".join(f"error: {line}\n" for line in lines).encode())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rosetta", description="Rosetta integration gateway")
    parser.add_argument("--version", action="version", version=f"rosetta {__version__}")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="serve a config")
    run.add_argument("--config", required=True, type=Path)
    run.add_argument("--host")
    run.add_argument("--port", type=int)
    run.add_argument("--workers", type=int)
    run.set_defaults(func=_run)
    check = sub.add_parser("check", help="validate a config and print its route table")
    check.add_argument("--config", type=Path, help="the config to validate")
    check.add_argument(
        "--corpus", action="append", default=[], metavar="TYPE=DIR",
        help="also load every definition under DIR with translator TYPE (e.g. soap=wsdl/)",
    )
    check.set_defaults(func=_check)
    demo = sub.add_parser("demo", help="start the bundled demo backends and gateway")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--host", default="127.0.0.1")
    demo.set_defaults(func=_demo)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k) for k in ("host", "port", "workers") if getattr(args, k, None) is not None}


def load_with_overrides(path: Path, overrides: dict[str, Any]) -> Config:
    """The config at ``path`` with command-line server settings applied."""
    config = load_config(path)
    if overrides:
        wrong = server_option_errors(overrides)
        if wrong:
            raise ConfigError(wrong)
        server = config.server.model_copy(update=overrides)
        config = config.model_copy(update={"server": server})
        errors = limits_config_errors(config)
        if errors:
            raise ConfigError(errors)
    return config


def _run(args: argparse.Namespace) -> int:
    config = load_with_overrides(args.config, _overrides(args))
    serve(config, partial(_app_for, args.config, _overrides(args)))
    return 0


def _app_for(path: Path, overrides: dict[str, Any]) -> Any:
    from gateway.app import create_app

    app = create_app(load_with_overrides(path, overrides), name="rosetta")
    _hand_startup_errors_to_the_manager(app)
    return app


def serve(config: Config, factory: Any) -> None:
    """Serve with Sanic's own server until SIGINT/SIGTERM (graceful shutdown)."""
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from gateway.auth.tls import sanic_ssl
    from gateway.observability.logging import configure, logger

    configure()
    loader = AppLoader(factory=factory)
    app = loader.load()
    server = config.server
    scheme = "https" if server.tls else "http"
    logger.info(f"rosetta {__version__} starting on {scheme}://{server.host}:{server.port}")
    app.prepare(
        host=server.host,
        port=server.port,
        workers=server.workers,
        single_process=server.workers == 1,
        access_log=False,
        motd=False,
        ssl=sanic_ssl(server.tls),
    )
    try:
        if server.workers == 1:
            # One worker is served in this process: no worker manager, no process for its
            # shared state, nothing to leave behind or hang in when a signal comes early.
            Sanic.serve_single(primary=app)
            return
        _stop_waiting_for_workers_on_shutdown()
        _kill_only_the_workers()
        _replace_dead_workers()
        Sanic.serve(primary=app, app_loader=loader)
    except OSError as exc:
        reason = _cannot_listen(exc)
        if reason is None:
            raise
        raise StartupError([f"server: cannot listen on {server.host}:{server.port}: {reason}"]) from None


def _cannot_listen(exc: OSError) -> str | None:
    """Why the server's socket could not be bound, or None when ``exc`` is another error."""
    if not _raised_binding(exc):
        return None
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve"
    return exc.strerror if exc.errno in _CANNOT_LISTEN else None


def _raised_binding(exc: BaseException) -> bool:
    """Whether ``exc`` came from Sanic binding the server's socket (not, say, a file read later)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_name in _BINDING


def _stop_waiting_for_workers_on_shutdown() -> None:
    """Let a SIGTERM or SIGINT that arrives while workers start stop Sanic's worker manager.

    While it waits for every worker to report ready, Sanic's manager puts back each
    message it reads, its own shutdown message too, and waits on: a signal in that
    window keeps the main process spinning after its workers have stopped
    (sanic-org/sanic#2997). Once shutdown has begun the wait is over, and the
    manager's monitor loop reads the shutdown message it put back.
    """
    from sanic.worker.manager import WorkerManager

    waiting = getattr(WorkerManager, "_all_workers_ack", None)
    if waiting is None or getattr(waiting, "_rosetta", False):
        return

    def all_acked_or_shutting_down(self: Any) -> bool:
        return bool(getattr(self, "_shutting_down", False)) or waiting(self)

    all_acked_or_shutting_down._rosetta = True  # type: ignore[attr-defined]
    WorkerManager._all_workers_ack = all_acked_or_shutting_down  # type: ignore[method-assign]


def _hand_startup_errors_to_the_manager(app: Any) -> None:
    """In a worker, hand the lines of a :class:`StartupError` to the worker manager.

    Sanic logs the error in each worker and the manager then stops the gateway;
    each worker instead puts the lines in its own shared state (``app.m.state``),
    and the manager prints them once, as ``error:`` lines, when it stops.
    """
    if not os.environ.get("SANIC_WORKER_NAME"):
        return

    def hand_over(record: logging.LogRecord) -> bool:
        failure = record.exc_info[1] if record.exc_info else None
        multiplexer = getattr(app, "multiplexer", None)
        if not isinstance(failure, StartupError) or multiplexer is None:
            return True
        multiplexer.state[_STARTUP_ERRORS] = list(failure.errors)
        return False

    logging.getLogger("sanic.error").addFilter(hand_over)


def _startup_errors(states: Any) -> list[str]:
    """The start-up error lines workers left in the manager's shared state, each once."""
    lines: dict[str, None] = {}
    for state in list(states.values()):
        lines.update(dict.fromkeys(state.get(_STARTUP_ERRORS, ()) if isinstance(state, dict) else ()))
    return list(lines)


def _kill_only_the_workers() -> None:
    """Make Sanic's worker manager kill its workers, never its own process group.

    When a worker fails to start, or a second signal interrupts the shutdown,
    Sanic SIGKILLs the process group of each worker, which is the gateway's own:
    the gateway died with status 137, and with it the script or shell that
    started it. Rosetta's workers start no processes of their own, so each is
    killed alone; the manager prints the workers' start-up errors and exits 1.
    """
    try:  # Sanic internals: without them, Sanic's own kill stays
        from sanic.exceptions import ServerKilled
        from sanic.worker.manager import WorkerManager
        from sanic.worker.process import ProcessState
    except ImportError:  # pragma: no cover - depends on the installed Sanic
        return
    if not hasattr(WorkerManager, "kill") or getattr(WorkerManager.kill, "_rosetta", False):
        return

    def kill(self: Any) -> None:
        _print_errors(_startup_errors(self.worker_state))
        for process in self.processes:
            with suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            # Recorded, so Sanic does not wait 10 s for the dead workers to report stopping.
            process.set_state(ProcessState.FAILED, force=True)
        raise ServerKilled

    kill._rosetta = True  # type: ignore[attr-defined]
    WorkerManager.kill = kill  # type: ignore[method-assign]


def _replace_dead_workers() -> None:
    """Start a new worker in place of one that dies while the gateway serves.

    Sanic's manager noticed a dead worker (killed, out of memory) only by
    marking it failed: the gateway served on with one worker fewer, for good,
    and said nothing. Now each death is logged (worker, pid, how it ended) and
    the worker is started again; one that dies again within
    ``_CRASH_LOOP_SECONDS`` of being replaced is logged and left dead.
    """
    from sanic.worker.manager import WorkerManager

    sync = getattr(WorkerManager, "_sync_states", None)
    if sync is None or getattr(sync, "_rosetta", False):  # another Sanic, or done already
        return

    def sync_and_replace(self: Any) -> None:
        sync(self)
        if not self._shutting_down:
            for process in list(self.transient_processes):
                if process.restartable and process.state.name in ("FAILED", "COMPLETED") and not process.is_alive():
                    _replace(self, process)

    sync_and_replace._rosetta = True  # type: ignore[attr-defined]
    WorkerManager._sync_states = sync_and_replace  # type: ignore[method-assign]


def _replace(manager: Any, process: Any) -> None:
    """Log the death of worker ``process``; start it again unless it is dying over and over."""
    from gateway.observability.logging import logger

    replaced: dict[str, float] = manager.__dict__.setdefault("_rosetta_replaced", {})
    code = process.exitcode
    how = f"killed by {signal.Signals(-code).name}" if code and code < 0 else f"exit status {code}"
    died = f"worker {process.name} (pid {process.pid}) died ({how})"
    last = replaced.get(process.name)
    if last is not None and time.monotonic() - last < _CRASH_LOOP_SECONDS:
        causes = manager.worker_state.get(process.name, {}).get(_STARTUP_ERRORS, [])
        because = f": {'; '.join(causes)}" if causes else ""
        logger.error(f"{died} again within {_CRASH_LOOP_SECONDS:g} s of starting; not replaced{because}")
        replaced[process.name] = float("inf")  # logged once; never replaced again
        process.restartable = False
        return
    logger.error(f"{died}; starting a new one")
    replaced[process.name] = time.monotonic()
    manager.restart(process_names=[process.name])


def _check(args: argparse.Namespace) -> int:
    if args.config is None and not args.corpus:
        print("rosetta check: give --config FILE, --corpus TYPE=DIR, or both", file=sys.stderr)
        return 2
    status = 0
    if args.config is not None:
        config = load_config(args.config)
        rows = asyncio.run(_route_rows(config))
        width = max((len(r[0]) for r in rows), default=6)
        for methods, path, upstream, operation in rows:
            print(f"{methods:<{width}} {path} -> {upstream} {operation}")
        print(f"ok: {len(config.upstreams)} upstreams, {len(rows)} endpoints")
    for spec in args.corpus:
        status |= _check_corpus(spec)
    return status


def _check_corpus(spec: str) -> int:
    kind, sep, folder = spec.partition("=")
    if not sep or not Path(folder).is_dir():
        print(f"error: --corpus {spec}: expected TYPE=DIR with an existing folder", file=sys.stderr)
        return 1
    report = load_translator_class(kind).check_corpus(Path(folder))
    print("\n".join(report.lines))
    print(f"{kind} corpus {folder}: {report.loaded} loaded, {report.failed} failed, {report.operations} operations")
    return 1 if report.failed else 0


async def _route_rows(config: Config) -> list[tuple[str, str, str, str]]:
    runtime = await build_runtime(config)
    try:
        return runtime.routes.describe()
    finally:
        await runtime.close()


def _demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo

    return run_demo(args.host, args.port)
