"""Baselines: the known deviations of one portal, as WPT's expectation files and test262's
known-failures lists keep them.

A real portal may differ from the docs for good (the server source sets status `N` on cancel, not
`C`). Its gate would then be red for ever, and a new regression would hide behind the old one. A
baseline lists such deviations, each with the clause, the verdict, the observed value it was seen
with and why it is accepted:

    # portal.baseline.yaml
    baseline: 1
    portal: acme.bitrix24.com
    profile: seed
    known:
      - clause: cancel.receipt.succeeds
        verdict: FAIL
        field: after.status.doc
        observed: N
        reason: "the server sets N on cancel (CCatalogDocs::cancellationDocument)"

`b24-conformance baseline report.json > portal.baseline.yaml` writes one from a run; `run
--baseline FILE` grades against it (`grading.apply_baseline`): a FAIL with the listed field and
observed value is XFAIL and keeps the gate green; a FAIL whose observed value changed is a FAIL
(it is new); a listed clause that passes now is PASS marked "fixed", so the baseline can shrink.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import _yaml
from .errors import UsageError
from .verdict import Outcome, RunResult, Verdict

VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownDeviation:
    clause: str
    verdict: str  # FAIL (NON-STRICT runs never need a baseline: they pass)
    field: str  # the first mismatching field the run saw
    observed: Any  # and its observed value
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"clause": self.clause, "verdict": self.verdict, "field": self.field,
                "observed": self.observed, "reason": self.reason}


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    path: str
    portal: str
    profile: str
    known: Mapping[str, KnownDeviation]

    def __len__(self) -> int:
        return len(self.known)


def from_run(result: RunResult) -> str:
    """The YAML text of a baseline listing every FAIL of `result`, with the run's reason as a draft."""
    known = []
    for verdict in result.verdicts:
        if verdict.outcome not in (Outcome.FAIL, Outcome.XFAIL):
            continue
        first = verdict.mismatches[0] if verdict.mismatches else None
        known.append(KnownDeviation(
            clause=verdict.clause_id, verdict="FAIL", field=first.field if first else "",
            observed=first.observed if first else None,
            reason=f"seen in run {result.info.run_id}: {verdict.reason}; replace with why it is accepted").to_dict())
    header = (f"# Known deviations of {result.info.portal or result.info.target}, from run {result.info.run_id}.\n"
              "# Each entry keeps the gate green while the portal answers exactly so; say why in `reason`.\n")
    body = {"baseline": VERSION, "portal": result.info.portal, "profile": result.info.profile, "known": known}
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


def load_baseline(path: Path, clause_ids: Iterable[str] = ()) -> Baseline:
    """Read a baseline; every problem is one UsageError naming the file (and the nearest clause id)."""
    try:
        raw = _yaml.load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"--baseline {path}: cannot read it ({exc.strerror})") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"--baseline {path}: not a YAML baseline ({type(exc).__name__})",
                         hint="write one with `b24-conformance baseline reports/report.json`") from None
    if not isinstance(raw, dict) or raw.get("baseline") != VERSION or not isinstance(raw.get("known", []), list):
        raise UsageError(f"--baseline {path}: not a baseline file (expected `baseline: {VERSION}` and a `known` list)",
                         hint="write one with `b24-conformance baseline reports/report.json`")
    ids = set(clause_ids)
    known: dict[str, KnownDeviation] = {}
    for n, entry in enumerate(raw.get("known") or []):
        if not isinstance(entry, dict) or not {"clause", "verdict", "field", "observed", "reason"} <= set(entry):
            raise UsageError(f"--baseline {path}: known[{n}] needs clause, verdict, field, observed and reason")
        if ids and entry["clause"] not in ids:
            close = difflib.get_close_matches(str(entry["clause"]), sorted(ids), n=1)
            raise UsageError(f"--baseline {path}: known[{n}] names no clause {entry['clause']!r}",
                             hint=f"did you mean {close[0]!r}?" if close else "`b24-conformance lint --list` lists them")
        if entry["verdict"] != "FAIL":
            raise UsageError(f"--baseline {path}: known[{n}]: only FAIL verdicts are baselined, not {entry['verdict']!r}")
        known[entry["clause"]] = KnownDeviation(clause=str(entry["clause"]), verdict="FAIL", field=str(entry["field"]),
                                                observed=entry["observed"], reason=str(entry["reason"]))
    return Baseline(path=str(path), portal=str(raw.get("portal", "")), profile=str(raw.get("profile", "")),
                    known=known)


def observed_of(verdict: Verdict, field: str) -> Any:
    """The value `verdict` observed for `field`, or a marker when the field was not checked."""
    return next((f.observed for f in verdict.fields if f.field == field), NOT_CHECKED)


NOT_CHECKED: Any = type("NotChecked", (), {"__repr__": lambda self: "<not checked>"})()
