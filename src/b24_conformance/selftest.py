"""The suite's self-test: run the clauses against the reference portal with each mutant switched on.

A mutant is killed when at least one clause FAILs against it. The report gives, per mutant, the
clauses that killed it (and any of its declared `killed_by` clauses that did not), and per clause
how many mutants it kills: the mutation score per obligation.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
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

    @property
    def all_killed(self) -> bool:
        return all(m.killed and not m.missed for m in self.mutants)


def run_mutant(name: str, clauses: Sequence[Clause], manifest_dir: Path) -> MutantResult:
    with EmbeddedPortal(reference_settings("seed", mutants=(name,))) as portal:
        result = Runner(target_for(portal), RunOptions(manifest_dir=manifest_dir)).run(clauses)
    failed = tuple(v.clause_id for v in result.verdicts if v.outcome is Outcome.FAIL)
    errors = tuple(v.clause_id for v in result.verdicts if v.outcome is Outcome.ERROR)
    declared = MUTANTS[name].killed_by
    return MutantResult(name=name, killed_by=failed, missed=tuple(c for c in declared if c not in failed),
                        errors=errors)


def check_mutants(names: Sequence[str] | None = None, clauses: Sequence[Clause] | None = None,
                  on_result: Callable[[MutantResult], None] | None = None) -> MutationReport:
    names = check_names(names) if names else tuple(MUTANTS)
    clauses = list(clauses or load_clauses())
    results = []
    with tempfile.TemporaryDirectory(prefix="b24c-mutants-") as tmp:
        for name in names:
            outcome = run_mutant(name, clauses, Path(tmp))
            results.append(outcome)
            if on_result:
                on_result(outcome)
    scores = {c.id: sum(c.id in r.killed_by for r in results) for c in clauses}
    return MutationReport(mutants=tuple(results), clause_ids=tuple(c.id for c in clauses), scores=scores)


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
    if unkilling:
        lines.append("clauses that kill no mutant: " + ", ".join(unkilling))
    return "\n".join(lines)
