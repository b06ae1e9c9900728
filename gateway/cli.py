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
import sys
from collections.abc import Sequence
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rosetta`` command; return its exit status."""
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 2
    try:
        return int(args.func(args))
    except (ConfigError, StartupError) as exc:
        for line in exc.errors:
            print(f"error: {line}", file=sys.stderr)
        return 1


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

    return create_app(load_with_overrides(path, overrides), name="rosetta")


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
        Sanic.serve(primary=app, app_loader=loader)
    except OSError as exc:
        if exc.errno not in _CANNOT_LISTEN or not _raised_binding(exc):
            raise
        raise StartupError([f"server: cannot listen on {server.host}:{server.port}: {exc.strerror}"]) from None


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
