"""Run Rosetta's benchmarks and print one table: ``python bench/run.py [--only rest,soap]``.

Starts everything on loopback (nginx and wrk when installed, Python stand-ins
otherwise), runs each selected scenario, prints its ratio lines as it goes and
the whole table at the end. Every process it starts is stopped on exit,
Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Harness  # noqa: E402
from bench.scenarios import all_scenarios  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    scenarios = all_scenarios()
    if args.list:
        for s in scenarios:
            print(f"{s.name:<12} {s.summary}")
        return 0
    chosen = _select(scenarios, args.only)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored
    harness = Harness(duration=args.duration, warmup=args.warmup, connections=args.connections,
                      latency_duration=args.latency_duration, threads=args.threads,
                      use_wrk=not args.python_load, use_nginx=not args.no_nginx)
    failed: list[str] = []
    started = time.monotonic()
    try:
        _print_setup(harness)
        for s in chosen:
            print(f"\n== {s.name}: {s.summary}", flush=True)
            try:
                s.run(harness)
            except Exception as exc:  # one broken scenario must not hide the others
                failed.append(s.name)
                print(f"  {s.name}: FAILED: {exc}", flush=True)
            finally:
                harness.close_scenario()
    except KeyboardInterrupt:
        print("\ninterrupted: stopping every process", file=sys.stderr)
        return 130
    finally:
        harness.close()
    _print_report(harness, time.monotonic() - started)
    if args.json:
        _write_json(harness, args.json)
    return 1 if failed else 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help="comma-separated scenario names (default: all)")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument("--duration", type=float, default=6.0, help="seconds per measurement (6)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each (2)")
    p.add_argument("--latency-duration", type=float, default=4.0, help="seconds at 1 connection (4)")
    p.add_argument("--connections", type=int, default=50, help="concurrent connections (50)")
    p.add_argument("--threads", type=int, default=1, help="wrk threads (1: leave a core to the servers)")
    p.add_argument("--python-load", action="store_true", help="use the Python load loop, not wrk")
    p.add_argument("--no-nginx", action="store_true", help="use the Python upstream, not nginx")
    p.add_argument("--json", type=Path, help="also write rows and ratios to this file")
    return p


def _select(scenarios, only):  # type: ignore[no-untyped-def]
    if not only:
        return scenarios
    names = [n.strip() for n in only.split(",") if n.strip()]
    known = {s.name: s for s in scenarios}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; known: {sorted(known)}")
    return [known[n] for n in names]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _print_setup(h: Harness) -> None:
    tool = "wrk" if h.has_wrk else "python load loop (bounded; figures are lower bounds)"
    upstream = "nginx" if h.has_nginx else "python (nginx not installed)"
    print(f"load: {tool}, {h.connections} connections, {h.duration:g} s after {h.warmup:g} s warm-up; "
          f"upstream: {upstream}", flush=True)


def _print_report(h: Harness, elapsed: float) -> None:
    print(f"\n{'scenario':<10} {'target':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'p50@1c ms':>10} {'CPU µs/req':>10} {'errors':>7}  tool")
    for r in h.rows:
        one = f"{r.p50_1c_ms:.3f}" if r.p50_1c_ms is not None else "-"
        cpu = f"{r.cpu_us:.0f}" if r.cpu_us is not None else "-"
        print(f"{r.scenario:<10} {r.target:<34} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
              f"{one:>10} {cpu:>10} {r.errors:>7}  {r.tool}")
    if h.ratios:
        print("\nratios:")
        for ratio in h.ratios:
            print("  " + ratio.line())
    print(f"\n(total {elapsed:.0f} s)")


def _write_json(h: Harness, path: Path) -> None:
    data = {"rows": [vars(r) for r in h.rows],
            "ratios": [{**vars(r), "ok": r.ok} for r in h.ratios]}
    path.write_text(json.dumps(data, indent=2))


if __name__ == "__main__":
    raise SystemExit(main())
