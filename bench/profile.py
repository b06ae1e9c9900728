"""Profile one server under load with py-spy: where does a request's time go?

    python bench/profile.py rosetta [--seconds 10] [--raw out.txt]
    python bench/profile.py rosetta-limited   # with a never-reached memory:// rate limit
    python bench/profile.py rosetta-grpc      # JSON to the gRPC benchmark backend's unary Echo
    python bench/profile.py pool|aiohttp|httpx|httpx-pool|bare

Starts the fast upstream and the target (Rosetta with the REST passthrough
config, or a one-worker Sanic forwarder from ``bench/apps/sanic_app.py``),
loads it with wrk at 50 connections while ``py-spy record`` samples it, and
prints the functions with the most samples, by own time and including callees.
Needs py-spy (``pip install py-spy``) and wrk.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Harness, LoadSpec  # noqa: E402
from bench.load import lua_script  # noqa: E402
from bench.scenarios.grpc import SERVICE, UNARY_BODY, grpc_backend, grpc_config  # noqa: E402
from bench.scenarios.limits import limited_config  # noqa: E402
from bench.scenarios.rest import PATH, rest_config  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", choices=["rosetta", "rosetta-limited", "rosetta-grpc", "bare", "pool", "aiohttp", "httpx", "httpx-pool"])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    h = Harness()
    try:
        upstream = h.upstream()
        spec = LoadSpec()
        if args.target == "rosetta":
            url = h.rosetta(rest_config(upstream), ready_path=PATH) + PATH
        elif args.target == "rosetta-limited":
            url = h.rosetta(limited_config(upstream, "memory://"), ready_path=PATH) + PATH
        elif args.target == "rosetta-grpc":
            url = h.rosetta(grpc_config(grpc_backend(h))) + f"/g/{SERVICE}/Echo"
            spec = LoadSpec(method="POST", body=UNARY_BODY)
        else:
            url = h.sanic(args.target, upstream) + PATH
        pid = h._procs[-1][1].pid
        stacks = _record(py_spy, pid, url, spec, args.seconds, h)
    finally:
        h.close()
    if args.raw:
        args.raw.write_text(stacks)
    _summarise(stacks, args.top)
    return 0


def _record(py_spy: str, pid: int, url: str, spec: LoadSpec, seconds: float, h: Harness) -> str:
    out = h.tmp / "stacks.txt"
    spy = subprocess.Popen([py_spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "250",
                            "--format", "raw", "-o", str(out), "--nonblocking", "--subprocesses"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    script = h.tmp / "load.lua"
    script.write_text(lua_script(spec))
    load = subprocess.run(["wrk", "-t1", "-c50", f"-d{seconds + 1:g}s", "-s", str(script), url],
                          capture_output=True, text=True)
    spy.wait(30)
    print(load.stdout)
    return out.read_text()


def _summarise(stacks: str, top: int) -> None:
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in stacks.splitlines():
        frames_text, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = [_short(f) for f in frames_text.split(";")]
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    print(f"{samples} samples\n\nown time:")
    for frame, count in own.most_common(top):
        print(f"  {100 * count / samples:5.1f}%  {frame}")
    print("\nincluding callees:")
    for frame, count in total.most_common(top):
        print(f"  {100 * count / samples:5.1f}%  {frame}")


def _short(frame: str) -> str:
    """``func (path/to/file.py:12)`` → ``func (file.py)``: one entry per function."""
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rsplit("/", 2)
    return f"{name} ({'/'.join(file[-2:])})"


if __name__ == "__main__":
    raise SystemExit(main())
