"""Fixed and per-clause costs as whole processes, measured side by side in one run, against bare pytest.

    .venv/bin/python bench/startup.py [--repeat 3] [--before REV] [--mutants] [--no-bytecode]

Each command runs `--repeat` times, interleaved (after one untimed warm-up round), and the median
wall time is printed with its ratio against **bare pytest** (a one-test file, plugin autoload off:
what any project pays for pytest), beside the median CPU time (user + system, all threads):

- offline replay of every shipped cassette (`run -q --cassettes`), target <= 2x;
- an embedded run: the reference portal started on loopback with TLS, every clause (`run -q`),
  target <= 2x;
- both again for the seed page's clauses only (`-k 'cancel.*'`): the two sizes give the cost of
  one more clause (the slope) and the fixed cost (the intercept), as the clause set grows;
- offline replay with the parse cache off (`B24C_CACHE=off`): a first run on a fresh machine;
- a bystander pytest session: the same one-test file with only our plugin loaded, against the same
  with it off, target <= 1.05x;
- the issue's own bystander measure: a one-test session with every installed plugin autoloaded,
  against the same with `-p no:b24_conformance`, target <= 1.05x;
- the import floor: the interpreter importing httpx, vcrpy, jsonschema and yaml, which a replay
  cannot go under; and the interpreter alone;
- the project's own pytest process (its pyproject, every installed plugin) collecting one small
  test file: what each `make test` process pays before its first test;
- with `--mutants`, the whole self-test (`mutants`), once each: long.

`--before REV` (default: the last commit before the speed work) checks REV out into a temporary
worktree and runs each command again with that tree's code and data first on PYTHONPATH, in the
same interleaved rounds, so "before" and "after" share the machine's load. REV's clause set may be
smaller; the tables say how many clauses each side ran, and the per-clause table divides by it.

Python writes no bytecode cache when PYTHONDONTWRITEBYTECODE is set (some shells and CI images set
it): every process then compiles the package from source, ~0.1 s more per process, on both sides.
The bench measures what an installed package costs, with bytecode cached (the warm-up round writes
it), unless `--no-bytecode` keeps the variable as it is. The parse cache (B24C_CACHE) of the
"after" side is a folder of this run's own, filled by the warm-up round.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
ROOT = Path(__file__).resolve().parent.parent
BEFORE = "3e06518"  # issue 13's tip: the 47 rights clauses, none of issue 10's speed work
SUBSET = "cancel.*"  # the seed page's clauses: the smaller of the two sizes


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system of the process and its threads), stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 5):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-800:]}{done.stderr[-800:]}")
    return elapsed, cpu, done.stdout


def clause_count(stdout: str) -> str:
    found = re.search(r"(\d+) clause\(s\):", stdout) or re.search(r"(\d+)/\d+ clauses kill", stdout)
    return found.group(1) if found else ""


def commands(work: Path, tree: Path | None, mutants: bool,
             base_env: dict[str, str]) -> dict[str, tuple[list[str], dict[str, str], Path]]:
    """The measured commands for the code in `tree` (None: this checkout, as installed)."""
    env = dict(base_env)
    if tree is not None:
        env["PYTHONPATH"] = str(tree / "src")  # ahead of the editable install's path
    else:
        env["B24C_CACHE"] = str(work / "parse-cache")
    bare = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    cli = [PY, "-m", "b24_conformance.cli"]
    project = tree or ROOT
    tag = "before" if tree is not None else "after"
    # the shipped cassettes as one run (`--cassettes` alone), or, for a REV before that, its one folder
    shipped = tree is None or "_SHIPPED" in (tree / "src" / "b24_conformance" / "cli.py").read_text("utf-8")
    cassettes = ["--cassettes"] if shipped else ["--cassettes", str(tree / "cassettes" / "catalog.document.cancel")]
    subset = ["-k", SUBSET]
    out = {
        f"offline replay [{tag}]": ([*cli, "run", "-q", *cassettes, "--reports", str(work / f"r1-{tag}")], env, work),
        f"offline replay, {SUBSET} [{tag}]": (
            [*cli, "run", "-q", *cassettes, *subset, "--reports", str(work / f"r3-{tag}")], env, work),
        f"embedded run [{tag}]": ([*cli, "run", "-q", "--reports", str(work / f"r2-{tag}")], env, work),
        f"embedded run, {SUBSET} [{tag}]": ([*cli, "run", "-q", *subset, "--reports", str(work / f"r4-{tag}")],
                                            env, work),
        f"pytest + our plugin only [{tag}]": ([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                                              "b24_conformance.plugin", "test_one.py"], bare, work),
        f"pytest, autoload on [{tag}]": ([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"],
                                         env, work),
        f"pytest, autoload on, -p no:b24_conformance [{tag}]": (
            [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:b24_conformance", "test_one.py"], env, work),
        f"project pytest, one file [{tag}]": ([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                              "tests/test_redact.py"], env, project),
    }
    if tree is None:
        out["offline replay, parse cache off [after]"] = (
            [*cli, "run", "-q", *cassettes, "--reports", str(work / "r5-after")], {**env, "B24C_CACHE": "off"}, work)
    if mutants:
        out[f"mutants [{tag}]"] = ([*cli, "mutants"], env, work)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", default=BEFORE, help=f"the commit to compare with (default {BEFORE}); "
                                                          "'none' measures this checkout only")
    parser.add_argument("--mutants", action="store_true", help="also time the whole self-test, once per side")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE as it is (default: bytecode cached, as installed)")
    args = parser.parse_args()
    base_env = {**os.environ, "NO_COLOR": "1"}
    if not args.no_bytecode:
        base_env.pop("PYTHONDONTWRITEBYTECODE", None)
    bytecode = "off (PYTHONDONTWRITEBYTECODE)" if base_env.get("PYTHONDONTWRITEBYTECODE") else "cached"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        bare = {**base_env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        runs = {
            "bare pytest, one-test file": ([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"],
                                           bare, work),
            # what a replay cannot avoid: the interpreter and the libraries it replays with
            "import httpx+vcrpy+jsonschema+yaml": ([PY, "-c", "import httpx, vcr, jsonschema, yaml"], bare, work),
            "python -c pass": ([PY, "-c", "pass"], bare, work),
        }
        before_tree = None
        if args.before != "none":
            before_tree = work / "before"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(before_tree),
                            args.before], check=True)
        try:
            runs |= commands(work, None, args.mutants, base_env)
            if before_tree is not None:
                runs |= commands(work, before_tree, args.mutants, base_env)
            for name, (command, environ, cwd) in runs.items():  # warm-up: bytecode, the parse cache
                if not name.startswith("mutants"):
                    timed(command, cwd, environ)
            wall: dict[str, list[float]] = {name: [] for name in runs}
            cpu: dict[str, list[float]] = {name: [] for name in runs}
            clauses: dict[str, str] = {}
            for round_ in range(args.repeat):
                for name, (command, environ, cwd) in runs.items():
                    if name.startswith("mutants") and round_ > 0:
                        continue
                    elapsed, used, stdout = timed(command, cwd, environ)
                    wall[name].append(elapsed)
                    cpu[name].append(used)
                    clauses[name] = clause_count(stdout)
        finally:
            if before_tree is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before_tree)],
                               check=False)
    report(args, wall, cpu, clauses, bytecode)


def report(args, wall, cpu, clauses, bytecode: str) -> None:
    median = {name: statistics.median(values) for name, values in wall.items()}
    cpu_median = {name: statistics.median(values) for name, values in cpu.items()}
    floor = median["bare pytest, one-test file"]
    targets = {"offline replay": 2.0, "embedded run": 2.0, "pytest + our plugin only": 1.05}
    print(f"median of {args.repeat} interleaved rounds, whole processes ({os.cpu_count()}-core machine, "
          f"load average {os.getloadavg()[0]:.2f}); bytecode {bytecode}; before = {args.before}")
    print(f"  {'':54} {'wall':>7}  {'x bare':>6}  {'cpu':>6}")
    for name, value in median.items():
        base = name.split(" [")[0]
        target = f"   target <= {targets[base]:.2f}x" if base in targets else ""
        count = f"  ({clauses[name]} clauses)" if clauses.get(name) else ""
        print(f"  {name:54} {value:6.2f}s  {value / floor:5.2f}x  {cpu_median[name]:5.2f}s{target}{count}")
    print("  per clause (ms): the run divided by its clauses; the slope between the two sizes (one more clause);")
    print("  the intercept (what a run of no clause would cost)")
    for base in ("offline replay", "embedded run"):
        for tag in ("after", "before"):
            whole, part = f"{base} [{tag}]", f"{base}, {SUBSET} [{tag}]"
            if whole not in median or not clauses.get(whole) or not clauses.get(part):
                continue
            n, m = int(clauses[whole]), int(clauses[part])
            per = 1000 * median[whole] / n
            slope = 1000 * (median[whole] - median[part]) / (n - m) if n != m else float("nan")
            intercept = median[whole] - slope * n / 1000
            print(f"    {base + ' [' + tag + ']':32} {per:6.1f} ms/clause ({n})   slope {slope:6.1f} ms/clause "
                  f"({m} -> {n})   intercept {intercept:5.2f} s")
    for base in ("offline replay", "embedded run", "pytest + our plugin only", "project pytest, one file", "mutants"):
        after, before = median.get(f"{base} [after]"), median.get(f"{base} [before]")
        if after and before:
            print(f"  after/before, {base}: {after / before:.2f}")
    floor_libs = median["import httpx+vcrpy+jsonschema+yaml"]
    print(f"  import floor: {floor_libs:.2f} s = {floor_libs / floor:.2f}x bare pytest; the interpreter alone "
          f"{median['python -c pass']:.2f} s")
    on, off = median["pytest, autoload on [after]"], median["pytest, autoload on, -p no:b24_conformance [after]"]
    print(f"  bystander (issue 10's measure), plugin on / -p no:b24_conformance: {on / off:.2f}   target <= 1.05")


if __name__ == "__main__":
    main()
