"""gRPC unary through Rosetta with and without ``direct_calls``: which costs less per call?

    python bench/grpc_direct_ab.py [--rounds 8] [--duration 6]

Two Rosetta processes on one grpc.aio backend (the ``grpc`` scenario's), one
with ``direct_calls: true`` (the default) and one with ``false``, loaded in
alternating rounds at 50 connections. Prints each round's throughput and CPU
per call, then the mean and best of each: paired rounds on the same backend
resolve a difference of a few percent that separate runs on this shared
machine do not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Harness, LoadSpec, Row  # noqa: E402
from bench.scenarios.grpc import SERVICE, UNARY_BODY, grpc_backend, grpc_config  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--duration", type=float, default=6.0)
    args = parser.parse_args()
    h = Harness(duration=args.duration, warmup=2.0)
    rows: dict[bool, list[Row]] = {True: [], False: []}
    try:
        backend = grpc_backend(h)
        urls = {}
        for direct in rows:
            config = grpc_config(backend)
            config["upstreams"]["testing"]["direct_calls"] = direct
            urls[direct] = h.rosetta(config, name=f"rosetta-direct-{direct}") + f"/g/{SERVICE}/Echo"
        for n in range(args.rounds):
            for direct, url in urls.items():
                label = f"direct_calls={str(direct).lower()} (round {n + 1})"
                rows[direct].append(h.measure("grpc-ab", label, url, LoadSpec(method="POST", body=UNARY_BODY),
                                              one_connection=False))
    finally:
        h.close()
    for direct, measured in rows.items():
        cpu = [r.cpu_us for r in measured if r.cpu_us]
        rps = [r.rps for r in measured]
        print(f"direct_calls={str(direct).lower():5}  calls/s mean {sum(rps) / len(rps):6.0f} best {max(rps):6.0f}"
              f"  CPU µs/call mean {sum(cpu) / max(1, len(cpu)):5.0f} least {min(cpu, default=0):5.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
