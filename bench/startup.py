"""Fixed costs as whole processes, measured side by side in one run, against bare pytest.

    .venv/bin/python bench/startup.py [--repeat 5] [--before REV] [--mutants]

Each command runs `--repeat` times, interleaved, and the median wall time is printed with its ratio
against **bare pytest** (a one-test file, plugin autoload off: what any project pays for pytest):

- offline replay of every shipped cassette (`run -q --cassettes`), target <= 2x;
- an embedded run: the reference portal started on loopback with TLS, every clause (`run -q`),
  target <= 2x;
- a bystander pytest session: the same one-test file with only our plugin loaded, against the same
  with it off, target <= 1.05x;
- the issue's own bystander measure: a one-test session with every installed plugin autoloaded,
  against the same with `-p no:b24_conformance`, target <= 1.05x;
- the floor a replay cannot go under: the interpreter importing httpx, vcrpy, jsonschema and yaml;
- the project's own pytest process (its pyproject, every installed plugin) collecting one small
  test file: what each `make test` process pays before its first test;
- with `--mutants`, the whole self-test (`mutants`), once each: long.

`--before REV` (default: the last commit before the speed work) checks REV out into a temporary
worktree and runs each command again with that tree's code and data first on PYTHONPATH, in the
same interleaved rounds, so "before" and "after" share the machine's load. REV's clause set may be
a little smaller; the table says how many clauses each side ran.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
ROOT = Path(__file__).resolve().parent.parent
BEFORE = "3e06518"  # issue 13's tip: the 47 rights clauses, none of issue 10's speed work


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 5):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-800:]}{done.stderr[-800:]}")
    return elapsed, done.stdout


def clause_count(stdout: str) -> str:
    found = re.search(r"(\d+) clause\(s\):", stdout) or re.search(r"(\d+)/\d+ clauses kill", stdout)
    return found.group(1) if found else ""


def commands(work: Path, tree: Path | None, mutants: bool) -> dict[str, tuple[list[str], dict[str, str], Path]]:
    """The measured commands for the code in `tree` (None: this checkout, as installed)."""
    env = {**os.environ, "NO_COLOR": "1"}
    if tree is not None:
        env["PYTHONPATH"] = str(tree / "src")  # ahead of the editable install's path
    bare = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    cli = [PY, "-m", "b24_conformance.cli"]
    project = tree or ROOT
    tag = "before" if tree is not None else "after"
    # the shipped cassettes: every folder now; the one folder REV had (its --cassettes took a path)
    cassettes = ["--cassettes"] if tree is None else ["--cassettes", str(tree / "cassettes" / "catalog.document.cancel")]
    out = {
        f"offline replay [{tag}]": ([*cli, "run", "-q", *cassettes, "--reports", str(work / f"r1-{tag}")], env, work),
        f"embedded run [{tag}]": ([*cli, "run", "-q", "--reports", str(work / f"r2-{tag}")], env, work),
        f"pytest + our plugin only [{tag}]": ([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                                              "b24_conformance.plugin", "test_one.py"], bare, work),
        f"pytest, autoload on [{tag}]": ([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"],
                                         env, work),
        f"pytest, autoload on, -p no:b24_conformance [{tag}]": (
            [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:b24_conformance", "test_one.py"], env, work),
        f"project pytest, one file [{tag}]": ([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                              "tests/test_redact.py"], env, project),
    }
    if mutants:
        out[f"mutants [{tag}]"] = ([*cli, "mutants"], env, work)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before", default=BEFORE, help=f"the commit to compare with (default {BEFORE}); "
                                                          "'none' measures this checkout only")
    parser.add_argument("--mutants", action="store_true", help="also time the whole self-test, once per side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        bare = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        floor_cmd = ([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"], bare, work)
        # what a replay cannot avoid: the interpreter and the libraries it replays with
        libs = ([PY, "-c", "import httpx, vcr, jsonschema, yaml"], bare, work)
        runs = {"bare pytest, one-test file": floor_cmd, "import httpx+vcrpy+jsonschema+yaml": libs}
        before_tree = None
        if args.before != "none":
            before_tree = work / "before"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(before_tree),
                            args.before], check=True)
        try:
            runs |= commands(work, None, args.mutants)
            if before_tree is not None:
                runs |= commands(work, before_tree, args.mutants)
            times: dict[str, list[float]] = {name: [] for name in runs}
            clauses: dict[str, str] = {}
            for round_ in range(args.repeat):
                for name, (command, environ, cwd) in runs.items():
                    if name.startswith("mutants") and round_ > 0:
                        continue
                    elapsed, stdout = timed(command, cwd, environ)
                    times[name].append(elapsed)
                    clauses[name] = clause_count(stdout)
        finally:
            if before_tree is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before_tree)],
                               check=False)
    median = {name: statistics.median(values) for name, values in times.items()}
    floor = median["bare pytest, one-test file"]
    targets = {"offline replay": 2.0, "embedded run": 2.0, "pytest + our plugin only": 1.05}
    print(f"median of {args.repeat} interleaved rounds, whole processes ({os.cpu_count()}-core machine); "
          f"before = {args.before}")
    for name, value in median.items():
        base = name.split(" [")[0]
        target = f"   target <= {targets[base]:.2f}x" if base in targets else ""
        count = f"  ({clauses[name]} clauses)" if clauses.get(name) else ""
        print(f"  {name:40} {value:6.2f} s   {value / floor:5.2f}x bare pytest{target}{count}")
    for base in ("offline replay", "embedded run", "pytest + our plugin only", "project pytest, one file", "mutants"):
        after, before = median.get(f"{base} [after]"), median.get(f"{base} [before]")
        if after and before:
            print(f"  after/before, {base}: {after / before:.2f}")
    on, off = median["pytest, autoload on [after]"], median["pytest, autoload on, -p no:b24_conformance [after]"]
    print(f"  bystander (issue 10's measure), plugin on / -p no:b24_conformance: {on / off:.2f}   target <= 1.05")


if __name__ == "__main__":
    main()
