"""Three portals at once: the wall time of `run --target a --target b --target c`, side by side and
one by one, measured in one run.

    .venv/bin/python bench/many_portals.py [--portals 3] [--rate 50 5]

Each portal is a `b24-conformance portal serve` process posing as a live portal (plain HTTP, its
own leaky bucket, every role in a target config written with `--target-file`). The suite runs with
`--allow-writes --allow-burst`, as a nightly job against staging portals would: the burst probe
fills each portal's bucket, so the rest of the run is paced by the portal's drain rate, which is
what dominates a real live run. Fresh portals are started for each way so neither inherits a
full bucket. Printed: the wall time of each way, and their ratio against the slowest single run.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

CLI = [sys.executable, "-m", "b24_conformance.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_portals(stack: ExitStack, n: int, rate: tuple[int, float], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    targets = []
    for i in range(n):
        port, target = free_port(), folder / f"portal-{i}.yaml"
        proc = subprocess.Popen([*CLI, "portal", "serve", "--port", str(port), "--rate-threshold", str(rate[0]),
                                 "--rate-drain", str(rate[1]), "--target-file", str(target)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stack.callback(proc.kill)
        deadline = time.time() + 30
        while not target.exists() and time.time() < deadline:
            time.sleep(0.1)
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).raise_for_status()
        targets.append(target)
    return targets


def timed(args: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", type=int, default=3)
    parser.add_argument("--rate", nargs=2, type=float, default=(50, 5), metavar=("X", "Y"),
                        help="each portal's leaky bucket (default 50 requests, then 5/s)")
    args = parser.parse_args()
    rate = (int(args.rate[0]), args.rate[1])
    common = ["--allow-writes", "--allow-burst"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for way, extra in (("side by side", []), ("one by one", ["--one-by-one"])):
            with ExitStack() as stack:
                targets = start_portals(stack, args.portals, rate, folder / way.replace(" ", "-"))
                flags = [x for t in targets for x in ("--target", str(t))]
                wall, out = timed(["run", *flags, *common, *extra, "--reports", str(folder / "r" / way)])
                summary = next((line for line in out.splitlines() if "portals in" in line), out[-300:])
                rows.append((way, wall, summary))
        with ExitStack() as stack:  # one portal alone: the floor the side-by-side run should approach
            [target] = start_portals(stack, 1, rate, folder / "single")
            single, _ = timed(["run", "--target", str(target), *common, "-q", "--reports", str(folder / "r1")])
    print(f"{args.portals} reference portals as live ones (bucket {rate[0]}, drain {rate[1]}/s), "
          f"run with {' '.join(common)}; 2-core machine")
    for way, wall, summary in rows:
        print(f"  {way:13} {wall:6.1f} s wall   ({summary.split(';')[0]})")
    print(f"  one portal    {single:6.1f} s wall")
    side, one = rows[0][1], rows[1][1]
    print(f"side by side / one by one: {side / one:.2f}; side by side / a single portal: {side / single:.2f}")


if __name__ == "__main__":
    main()
