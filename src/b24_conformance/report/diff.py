"""Drift between two recorded runs: outcome changes, added or removed clauses, changed observed values.

A regression is a clause that got worse at conformance: it now FAILs and did not before, it was
PASS and is now NON-STRICT, or it is a MUST clause that passed and is now skipped (a gate must not
go green by no longer checking). ERROR says nothing about conformance, so moving to it is drift but
not a regression. Clauses present in only one run are listed, never counted as regressions. Two
runs of different portals can be compared, and the drift says so first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from b24_conformance.report._common import format_value, one_line, refuse_secrets
from b24_conformance.report.jsonreport import load_json
from b24_conformance.verdict import FieldResult, Outcome, RunInfo, RunResult, Verdict


class _Absent:
    """The value of a field one of the runs did not check."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeChange:
    clause_id: str
    level: str
    old: Outcome
    new: Outcome

    @property
    def regression(self) -> bool:
        """Worse at conformance: newly FAIL, PASS → NON-STRICT, or a MUST clause PASS → SKIP."""
        if self.new is Outcome.FAIL:
            return self.old is not Outcome.FAIL
        if self.level == "MUST" and self.old in (Outcome.PASS, Outcome.NON_STRICT) and self.new is Outcome.SKIP:
            return True
        return self.old is Outcome.PASS and self.new is Outcome.NON_STRICT


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldChange:
    """An observed value that changed between runs, whatever the outcome did."""

    clause_id: str
    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Drift:
    old: RunInfo
    new: RunInfo
    changed: tuple[OutcomeChange, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    field_changes: tuple[FieldChange, ...] = ()

    @property
    def other_portal(self) -> str:
        """A warning when the two runs were against different portals or profiles, else ''."""
        old, new = self.old, self.new
        if (old.portal, old.profile) == (new.portal, new.profile):
            return ""
        return (f"warning: the runs are of different targets: {old.portal or old.target} (profile {old.profile}) "
                f"→ {new.portal or new.target} (profile {new.profile}); drift may be the portals' difference")

    @property
    def regressions(self) -> tuple[OutcomeChange, ...]:
        return tuple(c for c in self.changed if c.regression)

    @property
    def empty(self) -> bool:
        return not (self.changed or self.added or self.removed or self.field_changes)

    @property
    def exit_code(self) -> int:
        """1 when anything regressed, else 0."""
        return 1 if self.regressions else 0


def diff_reports(old: RunResult, new: RunResult) -> Drift:
    """Compare two runs clause by clause (matched by clause id), in the new run's clause order."""
    before = {v.clause_id: v for v in old.verdicts}
    after = {v.clause_id: v for v in new.verdicts}
    common = [cid for cid in after if cid in before]
    return Drift(
        old=old.info,
        new=new.info,
        changed=tuple(c for cid in common if (c := _outcome_change(before[cid], after[cid])) is not None),
        added=tuple(cid for cid in after if cid not in before),
        removed=tuple(cid for cid in before if cid not in after),
        field_changes=tuple(fc for cid in common for fc in _field_changes(before[cid], after[cid])),
    )


def diff_files(old: Path | str, new: Path | str) -> Drift:
    """Load two JSON reports (schema-checked) and diff them."""
    return diff_reports(load_json(old), load_json(new))


def _outcome_change(old: Verdict, new: Verdict) -> OutcomeChange | None:
    if old.outcome is new.outcome:
        return None
    return OutcomeChange(clause_id=new.clause_id, level=new.level, old=old.outcome, new=new.outcome)


def _field_changes(old: Verdict, new: Verdict) -> Iterable[FieldChange]:
    before = _observed(old.fields)
    after = _observed(new.fields)
    for name in [*after, *(n for n in before if n not in after)]:
        was, now = before.get(name, ABSENT), after.get(name, ABSENT)
        if was is ABSENT or now is ABSENT or was != now or type(was) is not type(now):
            yield FieldChange(clause_id=new.clause_id, field=name, old=was, new=now)


def _observed(fields: tuple[FieldResult, ...]) -> dict[str, Any]:
    return {f.field: f.observed for f in fields}


def render_drift(drift: Drift, *, secrets: Iterable[str] = ()) -> str:
    """The drift as plain text, regressions first, ending in a one-line summary."""
    lines = [(f"drift: {one_line(drift.old.run_id)} ({one_line(drift.old.started_at)}) → "
             f"{one_line(drift.new.run_id)} ({one_line(drift.new.started_at)})")]
    if drift.other_portal:
        lines.append(one_line(drift.other_portal))
    if drift.empty:
        lines.append("no drift: same clauses, same outcomes, same observed values")
    lines += _section("regressed", [_outcome_line(c) for c in drift.regressions])
    lines += _section("other outcome changes", [_outcome_line(c) for c in drift.changed if not c.regression])
    lines += _section("added", [one_line(cid) for cid in drift.added])
    lines += _section("removed", [one_line(cid) for cid in drift.removed])
    lines += _section("observed values changed", [_field_line(fc) for fc in drift.field_changes])
    lines.append(summary_line(drift))
    text = "\n".join(lines) + "\n"
    refuse_secrets(text, secrets, report="drift")
    return text


def summary_line(drift: Drift) -> str:
    """Counts of each kind of drift, and whether it regressed."""
    verdict = "REGRESSED" if drift.regressions else "no regression"
    return (f"{verdict}: {len(drift.regressions)} regressed, {len(drift.changed)} outcome change(s), "
            f"{len(drift.added)} added, {len(drift.removed)} removed, "
            f"{len(drift.field_changes)} observed value change(s)")


def _section(title: str, items: list[str]) -> list[str]:
    return [f"{title} ({len(items)}):", *(f"  {item}" for item in items)] if items else []


def _outcome_line(change: OutcomeChange) -> str:
    return f"{one_line(change.clause_id)} [{one_line(change.level)}]: {change.old.value} → {change.new.value}"


def _field_line(change: FieldChange) -> str:
    return (f"{one_line(change.clause_id)}  {one_line(change.field)}: "
            f"{_show(change.old)} → {_show(change.new)}")


def _show(value: Any) -> str:
    return "(not checked)" if value is ABSENT else one_line(format_value(value))
