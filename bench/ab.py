"""Rosetta at two commits on one workload: which costs less per call?

    python bench/ab.py                                   # HEAD against the working tree, REST
    python bench/ab.py --base HEAD~3 --workload limits-memory
    python bench/ab.py --base ../other-checkout --workload grpc --processes 4 --rounds 6

Starts ``--processes`` gateways of each side on one upstream: the base from a
temporary git worktree of ``--base`` (or that checkout, when it is a folder),
the other from this checkout with its uncommitted changes. Both run on this
virtualenv's packages. Each gateway is loaded ``--rounds`` times at 50
connections for ``--duration`` seconds, every round starting one gateway later
than the one before, so that no side always runs first or after the same
gateway. Prints every run, then each side's median throughput and median CPU
per call over all its runs, and their ratio.

Why medians over several processes and rounds: on this shared two-core machine
one run of one gateway moves by about 3-4 % from the next one, so a single
pair of runs, or the best of three, cannot tell apart changes of a few percent.
Workloads: ``rest`` (the passthrough of ``bench/scenarios/rest.py``),
``limits-memory`` (the same with a never-reached ``memory://`` limit),
``auth`` (the same behind RS256 JWT auth, one token on every call, as the
``auth`` scenario's ``/on`` route), ``api-key`` (the same behind an API key)
and ``grpc`` (JSON unary ``Echo`` to the ``grpc`` scenario's backend).
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import REPO, Harness, LoadSpec, Row  # noqa: E402
from bench.scenarios.auth import PATH as AUTH_PATH  # noqa: E402
from bench.scenarios.auth import auth_config, issuer  # noqa: E402
from bench.scenarios.grpc import SERVICE, UNARY_BODY, grpc_backend, grpc_config  # noqa: E402
from bench.scenarios.limits import limited_config  # noqa: E402
from bench.scenarios.rest import PATH, rest_config  # noqa: E402

Workload = tuple[dict[str, Any], str, str, LoadSpec]  # config, ready path, request path, request


def _rest(h: Harness) -> Workload:
    return rest_config(h.upstream()), PATH, PATH, LoadSpec()


def _limits_memory(h: Harness) -> Workload:
    return limited_config(h.upstream(), "memory://"), PATH, PATH, LoadSpec()


def _auth(h: Harness) -> Workload:
    public_key, with_token = issuer(h)
    return auth_config(h.upstream(), public_key), "/off" + AUTH_PATH, "/on" + AUTH_PATH, with_token


def _api_key(h: Harness) -> Workload:
    key = secrets.token_urlsafe(24)
    entry = {"consumer": "bench", "sha256": hashlib.sha256(key.encode()).hexdigest()}
    config = {
        "upstreams": {"up": {"type": "rest", "url": h.upstream()}},
        "auth": {"api_keys": {"keys": [entry]}},
        "routes": [{"prefix": "/off", "upstream": "up", "auth": "none"},
                   {"prefix": "/on", "upstream": "up", "auth": "api_key"}],
    }
    return config, "/off" + AUTH_PATH, "/on" + AUTH_PATH, LoadSpec(headers=(("X-API-Key", key),))


def _grpc(h: Harness) -> Workload:
    return grpc_config(grpc_backend(h)), "/", f"/g/{SERVICE}/Echo", LoadSpec(method="POST", body=UNARY_BODY)


WORKLOADS: dict[str, Callable[[Harness], Workload]] = {
    "rest": _rest, "limits-memory": _limits_memory, "grpc": _grpc, "auth": _auth, "api-key": _api_key,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="HEAD", help="a git revision, or a checkout folder (default HEAD)")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="rest")
    parser.add_argument("--processes", type=int, default=3, help="gateways per side (default 3)")
    parser.add_argument("--rounds", type=int, default=4, help="runs of every gateway (default 4)")
    parser.add_argument("--duration", type=float, default=4.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rosetta-ab-") as tmp:
        base, worktree = _checkout(args.base, Path(tmp) / "base")
        try:
            runs = _measure(args, base)
        finally:
            if worktree:
                subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=REPO, check=False)
    _report(runs, args.base)
    return 0


def _checkout(base: str, where: Path) -> tuple[Path, bool]:
    """The base's source folder, and whether it is a worktree made here."""
    if Path(base).is_dir():
        return Path(base).resolve(), False
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(where), base], cwd=REPO, check=True)
    return where, True


def _measure(args: argparse.Namespace, base: Path) -> dict[str, list[Row]]:
    h = Harness(duration=args.duration, warmup=1.0)
    try:
        config, ready, path, spec = WORKLOADS[args.workload](h)
        gateways: list[tuple[str, str]] = []  # (side, url), the sides alternating
        for n in range(args.processes):
            for side, source in (("base", base), ("this", REPO)):
                url = h.rosetta(config, ready_path=ready, name=f"{side}-{n}", source=source)
                gateways.append((side, url + path))
        runs: dict[str, list[Row]] = {"base": [], "this": []}
        for n in range(args.rounds):
            shift = n % len(gateways)
            for i, (side, url) in enumerate(gateways[shift:] + gateways[:shift]):
                runs[side].append(h.measure("ab", f"{side} gateway {(i + shift) % len(gateways) // 2} "
                                                  f"(round {n + 1})", url, spec, one_connection=False))
        return runs
    finally:
        h.close()


def _report(runs: dict[str, list[Row]], base: str) -> None:
    print()
    for side, rows in runs.items():
        print(f"{side:5} " + " ".join(f"{r.rps:6.0f}/{r.cpu_us or 0:5.1f}" for r in rows) + "   (calls/s / CPU µs per call)")
    medians = {side: (statistics.median(r.rps for r in rows), statistics.median(r.cpu_us or 0 for r in rows))
               for side, rows in runs.items()}
    for side, (rps, cpu) in medians.items():
        label = f"base ({base})" if side == "base" else "this checkout"
        print(f"{label:>24}: median {rps:7.0f} calls/s, {cpu:6.1f} µs CPU per call")
    (base_rps, base_cpu), (rps, cpu) = medians["base"], medians["this"]
    print(f"{'this / base':>24}: throughput {rps / base_rps:.3f}, CPU per call {cpu - base_cpu:+.1f} µs")


if __name__ == "__main__":
    raise SystemExit(main())
