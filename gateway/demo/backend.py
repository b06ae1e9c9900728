"""Run one demo backend until SIGTERM: ``python -m gateway.demo.backend MODULE PORT``."""

from __future__ import annotations

import asyncio
import importlib
import signal
import sys


async def _serve(module_name: str, port: int) -> None:
    module = importlib.import_module(module_name)
    running = await module.start("127.0.0.1", port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await running.stop()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], int(sys.argv[2])))
