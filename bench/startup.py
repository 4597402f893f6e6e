"""Fixed costs as whole processes, measured side by side in one run, against bare pytest.

    .venv/bin/python bench/startup.py [--repeat 5]

Each command runs `--repeat` times, interleaved, and the median wall time is printed with its ratio
against **bare pytest** (a one-test file, plugin autoload off: what any project pays for pytest):

- offline replay of every shipped cassette (`run -q --cassettes`), target <= 2x;
- an embedded run: the reference portal started on loopback with TLS, every clause (`run -q`),
  target <= 2x;
- a bystander pytest session: the same one-test file with only our plugin loaded, against the same
  with it off, target <= 1.05x;
- the dev venv's own pytest session on that file (every installed plugin autoloaded), which is
  what each `make test` process pays before its first test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
BIN = Path(PY).parent


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 5):
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-800:]}{done.stderr[-800:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        env = {**os.environ, "NO_COLOR": "1"}
        bare = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        cli = str(BIN / "b24-conformance")
        commands = {
            "bare pytest, one-test file": ([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"], bare),
            "offline replay, every clause": ([cli, "run", "-q", "--cassettes", "--reports", str(work / "r1")], env),
            "embedded run, every clause": ([cli, "run", "-q", "--reports", str(work / "r2")], env),
            "pytest + our plugin only": ([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                                         "b24_conformance.plugin", "test_one.py"], bare),
            "pytest, dev venv autoload": ([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"], env),
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, (command, environ) in commands.items():
                times[name].append(timed(command, work, environ))
    median = {name: statistics.median(values) for name, values in times.items()}
    floor = median["bare pytest, one-test file"]
    targets = {"offline replay, every clause": 2.0, "embedded run, every clause": 2.0, "pytest + our plugin only": 1.05}
    print(f"median of {args.repeat} runs each, whole processes, interleaved (2-core machine)")
    for name, value in median.items():
        target = f"   target <= {targets[name]:.2f}x" if name in targets else ""
        print(f"  {name:32} {value:6.2f} s   {value / floor:5.2f}x bare pytest{target}")


if __name__ == "__main__":
    main()
