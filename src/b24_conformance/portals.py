"""Several portals at once: `run --target a.yaml --target b.yaml …` into one portal × clause matrix.

Each target is a whole `b24-conformance run` in a process of its own, side by side (a live run is
paced by its portal's rate limit and waits on the network, so N portals take about as long as the
slowest one, not the sum). Each writes its stream, JUnit, JSON and HTML under
`<reports>/portals/<name>/` and its output to `run.log` there; the matrix is read back from their
streams into `portals.json` and `portals.html` (`report/matrix.py`). The exit code is the worst
one: 2 if a run could not start, 1 if a portal failed a gating clause, 3 if some clause could not
be judged.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .errors import UsageError
from .report.matrix import Matrix, file_name
from .target.config import load_target_config


def run_portals(targets: Sequence[str], forward: Sequence[str], reports: Path, *, parallel: bool = True,
                clause_ids: Sequence[str] = ()) -> tuple[Matrix, int, float]:
    """Run every target; return the matrix, the exit code, and the wall time in seconds."""
    from .report.stream import read_stream

    names = _names(targets)
    folder = reports / "portals"
    started = time.perf_counter()
    jobs = []
    for target, name in zip(targets, names):
        out = folder / file_name(name)
        out.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "b24_conformance.cli", "run", "--target", target, "--reports", str(out),
                   "-q", *forward]
        jobs.append((name, out, command))
    codes: dict[str, int] = {}
    if parallel:
        running = [(name, out, _start(command, out)) for name, out, command in jobs]
        for name, out, proc in running:
            codes[name] = proc.wait()
    else:
        for name, out, command in jobs:
            codes[name] = _start(command, out).wait()
    wall = time.perf_counter() - started
    matrix = Matrix(clause_ids=tuple(clause_ids), kind="portals", target=f"{len(targets)} portals")
    for name, out, _ in jobs:
        stream = out / "report.jsonl"
        if stream.is_file():
            result = read_stream(stream)
            matrix.rows[name] = result
            if not matrix.clause_ids:
                matrix.clause_ids = tuple(v.clause_id for v in result.verdicts)
    started_badly = [n for n, code in codes.items() if code == 2 or n not in matrix.rows]
    code = 2 if started_badly else matrix.exit_code
    return matrix, code, wall


def _start(command: list[str], out: Path) -> subprocess.Popen:
    log = (out / "run.log").open("w", encoding="utf-8")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def _names(targets: Sequence[str]) -> list[str]:
    """Each target's `name`, made unique; a config that does not load is a usage error up front."""
    names: list[str] = []
    for target in targets:
        name = load_target_config(Path(target)).name
        base, n = name, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        names.append(name)
    if not names:
        raise UsageError("no target to run")
    return names
