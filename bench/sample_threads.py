"""A sampling profile of every thread of one `b24-conformance` process (what py-spy would show):
every few milliseconds each thread's stack is read, and the samples are summed by function.

    .venv/bin/python bench/sample_threads.py run -q                # the embedded run
    .venv/bin/python bench/sample_threads.py run -q --cassettes    # offline replay
    .venv/bin/python bench/sample_threads.py --top 40 --thread portal run -q

Per thread group (main, portal event loop, portal workers, others) it prints how many samples
were taken and, for the functions (file:function) where the most samples were, the share of
samples with that function anywhere on the stack ("incl") and at the top ("self"). A thread
blocked in a system call (waiting on a socket or a lock) is sampled in that call.
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import sys
import threading
import time
from pathlib import Path


def group_of(name: str) -> str:
    if name == "MainThread":
        return "main"
    if name.startswith("b24-reference-portal"):
        return "portal event loop"
    if name.startswith("b24-portal"):
        return "portal workers"
    return "other"


def where(frame) -> str:
    code = frame.f_code
    path = Path(code.co_filename)
    parts = path.parts
    short = "/".join(parts[parts.index("site-packages") + 1:]) if "site-packages" in parts else (
        "/".join(parts[parts.index("b24_conformance"):]) if "b24_conformance" in parts else path.name)
    return f"{short}:{code.co_name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=0.002, help="seconds between samples")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--thread", help="only this thread group (main, portal, other)")
    parser.add_argument("argv", nargs=argparse.REMAINDER, help="the b24-conformance command line")
    args = parser.parse_args()
    incl: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    top: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    samples: collections.Counter = collections.Counter()
    done = threading.Event()

    def sampler() -> None:
        names = {}
        while not done.wait(args.interval):
            for thread in threading.enumerate():
                names[thread.ident] = thread.name
            for ident, frame in sys._current_frames().items():
                if ident == threading.get_ident():  # the sampler itself
                    continue
                group = group_of(names.get(ident, "?"))
                samples[group] += 1
                top[group][where(frame)] += 1
                seen = set()
                while frame is not None:
                    key = where(frame)
                    if key not in seen:
                        incl[group][key] += 1
                        seen.add(key)
                    frame = frame.f_back

    thread = threading.Thread(target=sampler, name="sampler", daemon=True)
    started = time.perf_counter()
    thread.start()
    sink = io.StringIO()
    real, sys.stdout = sys.stdout, sink
    try:
        sys.argv = ["b24-conformance", *args.argv]
        from b24_conformance import cli

        code = cli.entry()
    finally:
        sys.stdout = real
        done.set()
        thread.join()
    wall = time.perf_counter() - started
    print(f"b24-conformance {' '.join(args.argv)}: exit {code}, {wall:.2f} s, one sample every "
          f"{args.interval * 1000:.0f} ms, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    for group in sorted(samples, key=lambda g: -samples[g]):
        if args.thread and not group.startswith(args.thread):
            continue
        n = samples[group]
        print(f"\n[{group}] {n} samples")
        for key, count in incl[group].most_common(args.top):
            print(f"  {100 * count / n:5.1f}% incl {100 * top[group][key] / n:5.1f}% self  {key}")


if __name__ == "__main__":
    main()
