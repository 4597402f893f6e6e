"""Where a whole `b24-conformance run` process spends its wall time, by category, without a profiler's
distortion: the command runs in this process with light timers around the functions that own each
stage, and each stretch of wall time goes to the innermost stage running on that thread.

    .venv/bin/python bench/where_time_goes.py                 # the embedded run: run -q
    .venv/bin/python bench/where_time_goes.py --cassettes     # offline replay:  run -q --cassettes
    .venv/bin/python bench/where_time_goes.py --repeat 3 --cassettes   # median of 3 processes

The main thread's categories add up to the process's wall time from the interpreter's start to
its exit (the interpreter's own start-up is measured apart, as `python -c pass`). In an embedded run
the portal's threads (its event loop with uvicorn and TLS, and the worker threads running the REST
handlers) are shown apart: they overlap the main thread's "HTTP send/wait" stretches.
Each round is its own process (`--child`), so module imports are counted as a real run pays them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

# (module, attribute path, category); class methods as "Class.method". Patched when the module is
# first imported, so aliases made by `from x import f` afterwards see the timed function.
STAGES = [
    ("b24_conformance.contract.clause", "load_clauses", "clauses: load + check (YAML, schema)"),
    ("b24_conformance.contract.profile", "load_all_profiles", "profiles: load"),
    ("b24_conformance.target.resolve", "resolve_target", "target: resolve (portal start, TLS)"),
    ("b24_conformance.portal.tls", "LoopbackTLS.create", "portal: TLS material"),
    ("b24_conformance.portal.app", "create_app", "portal: app + seed"),
    ("b24_conformance.portal.server", "EmbeddedPortal.stop", "portal: stop"),
    ("b24_conformance.target.cassette", "read_sidecar", "cassettes: sidecars"),
    ("b24_conformance.target.cassette", "Cassettes.__init__", "cassettes: VCR config"),
    ("vcr.cassette", "Cassette._load", "cassettes: load (read + YAML + requests)"),
    ("vcr.cassette", "CassetteContextDecorator.__enter__", "cassettes: enter/exit (patching)"),
    ("vcr.cassette", "CassetteContextDecorator.__exit__", "cassettes: enter/exit (patching)"),
    ("vcr.cassette", "Cassette.can_play_response_for", "cassettes: match + play"),
    ("vcr.cassette", "Cassette.play_response", "cassettes: match + play"),
    ("vcr.cassette", "Cassette.__contains__", "cassettes: match + play"),
    ("b24_conformance.target.client", "PortalClient._client", "client: httpx.Client + SSL context"),
    ("b24_conformance.target.client", "PortalClient._send", "client: HTTP send/wait (httpx, socket)"),
    ("b24_conformance.target.client", "PortalClient.build", "client: build request"),
    ("b24_conformance.target.client", "PortalClient._exchange", "client: wire log + redaction"),
    ("b24_conformance.target.client", "PortalClient.curl", "client: wire log + redaction"),
    ("b24_conformance.target.manifest", "Manifest._flush", "sandbox: manifest writes"),
    ("b24_conformance.target.sandbox", "Sandbox.open", "sandbox: batches (building, reading)"),
    ("b24_conformance.target.sandbox", "Sandbox.prepare", "sandbox: batches (building, reading)"),
    ("b24_conformance.target.sandbox", "Sandbox.observe", "sandbox: batches (building, reading)"),
    ("b24_conformance.target.sandbox", "Sandbox.close", "sandbox: batches (building, reading)"),
    ("b24_conformance.engine", "Engine.observe_wave", "engine: per-clause work"),
    ("b24_conformance.engine", "Engine.__init__", "engine: per-clause work"),
    ("b24_conformance.grading", "judge", "grading (incl. jsonschema)"),
    ("b24_conformance.grading", "apply_baseline", "grading (incl. jsonschema)"),
    ("b24_conformance.report.stream", "ReportStream._write", "reports: stream lines"),
    ("b24_conformance.report.stream", "ReportStream._check", "reports: stream lines"),
    ("b24_conformance.report.stream", "read_stream", "reports: read stream back"),
    ("b24_conformance.report.terminal", "render_table", "reports: terminal table"),
    ("b24_conformance.report.junit", "to_junit_xml", "reports: junit.xml"),
    ("b24_conformance.report.jsonreport", "dumps", "reports: report.json"),
    ("b24_conformance.report.html", "to_html", "reports: report.html"),
    ("b24_conformance.report", "write_reports", "reports: file writes"),
    ("b24_conformance.portal.app", "PortalRuntime.handle", "portal: REST handlers (worker threads)"),
]
PORTAL_THREADS = ("b24-reference-portal", "b24-portal")
ROOT = Path(__file__).resolve().parent.parent

_local = threading.local()
_totals: dict[tuple[str, str], float] = defaultdict(float)
_lock = threading.Lock()


def _thread_kind() -> str:
    name = threading.current_thread().name
    if name == "MainThread":
        return "main"
    return "portal" if name.startswith(PORTAL_THREADS) else "other"


def _timed(function, category: str):
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        frame = [time.perf_counter(), 0.0]
        stack.append(frame)
        try:
            return function(*args, **kwargs)
        finally:
            stack.pop()
            total = time.perf_counter() - frame[0]
            if stack:
                stack[-1][1] += total
            with _lock:
                _totals[(_thread_kind(), category)] += total - frame[1]
    wrapper.__b24_timed__ = True
    return wrapper


def _patch(module) -> None:
    for name, path, category in STAGES:
        if name != module.__name__:
            continue
        owner = module
        *outer, attribute = path.split(".")
        for part in outer:
            owner = getattr(owner, part)
        original = owner.__dict__.get(attribute) if isinstance(owner, type) else getattr(owner, attribute, None)
        if original is None or getattr(original, "__b24_timed__", False):
            continue
        if isinstance(original, (classmethod, staticmethod)):
            setattr(owner, attribute, type(original)(_timed(original.__func__, category)))
        else:
            setattr(owner, attribute, _timed(original, category))


def _install_import_timer() -> None:
    import importlib._bootstrap as bootstrap

    real = bootstrap._find_and_load
    wanted = {name for name, _, _ in STAGES}

    def find_and_load(name, import_):
        module = _timed(real, "imports")(name, import_)
        if name in wanted:
            _patch(module)
        return module

    bootstrap._find_and_load = find_and_load


def child(argv: list[str], out: Path) -> None:
    """One measured process: the command, in this interpreter, with the timers on."""
    started = time.perf_counter()
    _install_import_timer()
    time.sleep = _timed(time.sleep, "sleeping (rate-limit waits, retry back-off)")
    threading.Thread.join = _timed(threading.Thread.join, "waiting for threads (concurrent clauses)")
    import atexit
    import io

    def report() -> None:
        wall = time.perf_counter() - started
        main = sum(v for (kind, _), v in _totals.items() if kind == "main")
        data = {"wall": wall, "totals": {f"{k}|{c}": v for (k, c), v in _totals.items()},
                "other": wall - main}
        out.write_text(json.dumps(data))

    atexit.register(report)
    sink = io.StringIO()
    real_stdout, sys.stdout = sys.stdout, sink
    try:
        sys.argv = ["b24-conformance", *argv]
        from b24_conformance import cli

        code = cli.entry()
    finally:
        sys.stdout = real_stdout
    summary = [line for line in sink.getvalue().splitlines() if "clause(s):" in line]
    if code != 0:
        raise SystemExit(f"run exited {code}:\n{sink.getvalue()[-2000:]}")
    (out.with_suffix(".summary")).write_text("\n".join(summary))


def _measure(tmp: Path, tag: str, n: int, command: list[str], env: dict[str, str]) -> dict:
    out = tmp / f"{tag}-{n}.json"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--child", str(out), json.dumps(command)], check=True, env=env,
                   cwd=ROOT)
    data = json.loads(out.read_text())
    data["outside"] = time.perf_counter() - t0
    data["summary"] = out.with_suffix(".summary").read_text().strip()
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cassettes", action="store_true", help="offline replay instead of the embedded run")
    parser.add_argument("--repeat", type=int, default=1, help="processes to run; the median of each category")
    parser.add_argument("--before", help="also measure this commit (checked out in a temporary worktree), "
                                         "interleaved with this checkout, side by side")
    parser.add_argument("--child", nargs=2, metavar=("OUT", "ARGS_JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child[1]), Path(args.child[0]))
        return
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        command = ["run", "-q", "--reports", str(tmp / "reports")] + (["--cassettes"] if args.cassettes else [])
        env = {**os.environ, "NO_COLOR": "1"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached (see bench/startup.py)
        sides = {"after": env}
        if args.before:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tmp / "before"),
                            args.before], check=True)
            sides["before"] = {**env, "PYTHONPATH": str(tmp / "before" / "src")}  # ahead of the editable install
        rounds: dict[str, list[dict]] = {side: [] for side in sides}
        bare = []
        try:
            for side, environ in sides.items():  # warm-up: bytecode, the parse cache
                _measure(tmp, side, -1, command, environ)
            for n in range(args.repeat):
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
                bare.append(time.perf_counter() - t0)
                for side, environ in sides.items():
                    rounds[side].append(_measure(tmp, side, n, command, environ))
        finally:
            if args.before:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tmp / "before")],
                               check=False)
    print(f"b24-conformance run -q{' --cassettes' if args.cassettes else ''}: median of {args.repeat} process(es) "
          f"per side, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    for side in sides:
        print(f"  {side}: {rounds[side][-1]['summary']}")
    med = {side: _medians(rs) for side, rs in rounds.items()}
    names = list(sides)
    head = "".join(f"{n:>10}" for n in names)
    print(f"  {'':54}{head}")
    print(f"  {'whole process, as the shell sees it':54}" + "".join(f"{med[n]['outside']:9.3f}s" for n in names))
    print(f"  {'interpreter start + exit (python -c pass)':54}{statistics.median(bare):9.3f}s")
    print(f"  {'from the command to exit, main thread:':54}" + "".join(f"{med[n]['wall']:9.3f}s" for n in names))
    keys = sorted({k for n in names for k in med[n]["totals"]},
                  key=lambda k: (not k.startswith("main|"), -max(med[n]["totals"].get(k, 0.0) for n in names)))
    other_threads = False
    for key in keys:
        kind, category = key.split("|", 1)
        values = [med[n]["totals"].get(key, 0.0) for n in names]
        if max(values) < 0.0005:
            continue
        if kind != "main" and not other_threads:
            print("  other threads (overlapping the main thread's HTTP waits):")
            other_threads = True
        label = category if kind == "main" else f"[{kind}] {category}"
        print(f"    {label:52}" + "".join(f"{v:9.3f}s" for v in values))
    print(f"    {'(untimed: cli, runner, argument parsing, GC)':52}" + "".join(f"{med[n]['other']:9.3f}s" for n in names))


def _medians(rounds: list[dict]) -> dict:
    keys = {k for r in rounds for k in r["totals"]}
    return {"totals": {k: statistics.median(r["totals"].get(k, 0.0) for r in rounds) for k in keys},
            **{k: statistics.median(r[k] for r in rounds) for k in ("wall", "outside", "other")}}


if __name__ == "__main__":
    main()
