"""The suite's self-test: run the clauses against the reference portal with each mutant switched on.

A mutant is killed when at least one clause FAILs against it. The report gives, per mutant, the
clauses that killed it (and any of its declared `killed_by` clauses that did not), and per clause
how many mutants it kills: the mutation score per obligation.

Cost: each worker process keeps one portal (listeners, TLS, thread) for all its mutants and swaps
in a fresh app per mutant (`EmbeddedPortal.reset`); mutants are spread over `jobs` such workers
(one per core by default, at most 2 on this kind of machine). A clean run, timed, comes first: the
faithful portal must pass every clause for a mutant's FAIL to mean anything, and its wall time
times the number of mutants is what the self-test is measured against.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .contract.clause import Clause, load_clauses
from .portal.mutants import MUTANTS, check_names
from .portal.server import EmbeddedPortal
from .runner import Runner, RunOptions
from .target.reference import reference_settings, target_for
from .verdict import Outcome


@dataclass(frozen=True, slots=True)
class MutantResult:
    name: str
    killed_by: tuple[str, ...]  # clauses that FAILed
    missed: tuple[str, ...]  # declared killers that did not FAIL
    errors: tuple[str, ...]  # clauses that hit infrastructure errors

    @property
    def killed(self) -> bool:
        return bool(self.killed_by)


@dataclass(frozen=True, slots=True)
class MutationReport:
    mutants: tuple[MutantResult, ...]
    clause_ids: tuple[str, ...]
    scores: dict[str, int] = field(default_factory=dict)  # clause id -> mutants it kills
    clean_failures: tuple[str, ...] = ()  # clauses that do not PASS on the faithful portal
    clean_s: float = 0.0  # wall time of the clean run
    wall_s: float = 0.0  # wall time of the mutant runs
    jobs: int = 1

    @property
    def all_killed(self) -> bool:
        return not self.clean_failures and all(m.killed and not m.missed for m in self.mutants)


def _run(portal: EmbeddedPortal, mutants: tuple[str, ...], clauses: Sequence[Clause], manifest_dir: Path):
    portal.reset(reference_settings("seed", mutants=mutants))
    return Runner(target_for(portal), RunOptions(manifest_dir=manifest_dir)).run(clauses)


def _judge(name: str, result) -> MutantResult:
    failed = tuple(v.clause_id for v in result.verdicts if v.outcome is Outcome.FAIL)
    errors = tuple(v.clause_id for v in result.verdicts if v.outcome is Outcome.ERROR)
    declared = MUTANTS[name].killed_by
    return MutantResult(name=name, killed_by=failed, missed=tuple(c for c in declared if c not in failed),
                        errors=errors)


def run_mutant(name: str, clauses: Sequence[Clause], manifest_dir: Path,
               portal: EmbeddedPortal | None = None) -> MutantResult:
    """The clauses against a portal with mutant `name` on: on `portal` (reset first) when given, else
    on a portal of its own."""
    if portal is not None:
        return _judge(name, _run(portal, (name,), clauses, manifest_dir))
    with EmbeddedPortal(reference_settings("seed", mutants=(name,))) as own:
        return _judge(name, Runner(target_for(own), RunOptions(manifest_dir=manifest_dir)).run(clauses))


# -- one worker process: one portal for all its mutants ----------------------------------------------
_WORKER: dict[str, object] = {}


def _worker_start(clause_ids: tuple[str, ...]) -> None:
    by_id = {c.id: c for c in load_clauses()}
    _WORKER["clauses"] = [by_id[c] for c in clause_ids]
    _WORKER["tmp"] = Path(tempfile.mkdtemp(prefix="b24c-mutants-"))
    portal = EmbeddedPortal(reference_settings("seed"))
    portal.start()
    _WORKER["portal"] = portal


def _worker_mutant(name: str) -> MutantResult:
    return run_mutant(name, _WORKER["clauses"], _WORKER["tmp"], _WORKER["portal"])  # type: ignore[arg-type]


def default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def check_mutants(names: Sequence[str] | None = None, clauses: Sequence[Clause] | None = None,
                  on_result: Callable[[MutantResult], None] | None = None, *, jobs: int | None = None,
                  ) -> MutationReport:
    names = check_names(names) if names else tuple(MUTANTS)
    clauses = list(clauses or load_clauses())
    # a worker costs a second of start-up: for a handful of mutants one process is quicker
    jobs = max(1, min(jobs or (default_jobs() if len(names) >= 6 else 1), len(names)))
    results = []
    with tempfile.TemporaryDirectory(prefix="b24c-mutants-") as tmp, EmbeddedPortal(reference_settings("seed")) as portal:
        started = time.perf_counter()
        clean = _run(portal, (), clauses, Path(tmp))
        clean_s = time.perf_counter() - started
        clean_failures = tuple(v.clause_id for v in clean.verdicts if v.outcome is not Outcome.PASS)
        started = time.perf_counter()
        for outcome in _mutant_results(names, clauses, jobs, portal, Path(tmp)):
            results.append(outcome)
            if on_result:
                on_result(outcome)
        wall_s = time.perf_counter() - started
    scores = {c.id: sum(c.id in r.killed_by for r in results) for c in clauses}
    return MutationReport(mutants=tuple(results), clause_ids=tuple(c.id for c in clauses), scores=scores,
                          clean_failures=clean_failures, clean_s=clean_s, wall_s=wall_s, jobs=jobs)


def _mutant_results(names: Sequence[str], clauses: Sequence[Clause], jobs: int, portal: EmbeddedPortal,
                    tmp: Path) -> Iterator[MutantResult]:
    """Each mutant's result, in order: here on `portal` with one job, else on `jobs` worker processes
    (each with its own portal), which need the clauses to be the shipped ones, looked up by id."""
    shipped = {c.id: c for c in load_clauses()}
    if jobs == 1 or any(shipped.get(c.id) != c for c in clauses):
        for name in names:
            yield run_mutant(name, clauses, tmp, portal)
        return
    # spawn, not fork: this process runs a portal thread, and a fork would copy its locks mid-use
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_worker_start,
                             initargs=(tuple(c.id for c in clauses),)) as pool:
        yield from pool.map(_worker_mutant, names)


def render_mutants(report: MutationReport) -> str:
    lines = [f"{'mutant':34} {'killed':6}  by"]
    for m in report.mutants:
        mark = "yes" if m.killed else "NO"
        extra = f"  (declared but missed: {', '.join(m.missed)})" if m.missed else ""
        lines.append(f"{m.name:34} {mark:6}  {len(m.killed_by)} clause(s){extra}")
    unkilling = [cid for cid, n in report.scores.items() if n == 0]
    killed = sum(m.killed for m in report.mutants)
    lines.append("")
    lines.append(f"{killed}/{len(report.mutants)} mutants killed; "
                 f"{len(report.clause_ids) - len(unkilling)}/{len(report.clause_ids)} clauses kill at least one")
    # a clause that killed none is worth naming only when every mutant ran
    if unkilling and {m.name for m in report.mutants} == set(MUTANTS):
        lines.append("clauses that kill no mutant: " + ", ".join(unkilling))
    if report.clean_failures:
        lines.append("the faithful portal does not pass: " + ", ".join(report.clean_failures)
                     + " (a mutant's FAIL means nothing until it does)")
    if report.mutants and report.clean_s:
        serial = report.clean_s * len(report.mutants)
        lines.append(f"wall {report.wall_s:.1f} s for {len(report.mutants)} mutants on {report.jobs} worker(s), "
                     f"one portal each; one clean run {report.clean_s:.1f} s x {len(report.mutants)} = "
                     f"{serial:.1f} s ({report.wall_s / serial:.2f}x)")
    return "\n".join(lines)
