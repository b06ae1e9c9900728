"""HTTP clients inside Sanic, forwarding to nginx: which one should the translators use?

    python bench/client_shootout.py [--duration 10]

Measures, in one run at 50 connections, a bare Sanic handler and one-worker
Sanic forwarders over (a) Rosetta's HttpPool, (b) an aiohttp ClientSession,
(c) httpx's default pool, (d) httpx over Rosetta's transport, and prints each
forwarder's throughput as a ratio of the bare handler's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Harness  # noqa: E402

FORWARDERS = (
    ("pool", "(a) Sanic + Rosetta HttpPool"),
    ("aiohttp", "(b) Sanic + aiohttp ClientSession"),
    ("httpx", "(c) Sanic + httpx default pool"),
    ("httpx-pool", "(d) Sanic + httpx over HttpPool transport"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--only", help="comma-separated modes: pool,aiohttp,httpx,httpx-pool")
    args = parser.parse_args()
    modes = args.only.split(",") if args.only else [m for m, _ in FORWARDERS]
    h = Harness(duration=args.duration, warmup=2.0)
    try:
        upstream = h.upstream()
        bare = h.measure("clients", "bare Sanic handler", h.sanic("bare") + "/x", one_connection=False)
        for mode, label in FORWARDERS:
            if mode in modes:
                url = h.sanic(mode, upstream)
                row = h.measure("clients", label, url + "/x", one_connection=False)
                h.ratio("clients", f"{label} / bare Sanic", row.rps / bare.rps, at_least=0.30)
                h.close_scenario_processes(keep=1)
    except KeyboardInterrupt:
        return 130
    finally:
        h.close()
    print(f"\n{'target':<44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU µs/req':>10} {'ratio':>6}")
    for row in h.rows:
        cpu = f"{row.cpu_us:.0f}" if row.cpu_us is not None else "-"
        print(f"{row.target:<44} {row.rps:>8.0f} {row.p50_ms:>8.2f} {row.p99_ms:>8.2f} {cpu:>10} "
              f"{row.rps / bare.rps:>6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
