"""Expected vs observed, graded as Autobahn grades: PASS, NON-STRICT, FAIL, SKIP, ERROR.

PASS: every checked field is exactly what the selected profile expects.
NON-STRICT: not PASS, but every field is exactly what another known profile expects (for example
the current docs' newer wording of the same error).
XFAIL: a FAIL the run's baseline lists as a known deviation, with the same observed value; it does
not fail the gate (a known FAIL that now passes is PASS, with `baseline="fixed"`).
FAIL: neither. SKIP: the target cannot provide the clause's precondition. ERROR: an infrastructure
fault; it says nothing about the portal's conformance.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .observation import Exchange


def show_value(value: Any) -> str:
    """A compact, unambiguous rendering of an expected or observed value (JSON where possible)."""
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


class Outcome(str, enum.Enum):
    PASS = "PASS"
    NON_STRICT = "NON-STRICT"
    FAIL = "FAIL"
    XFAIL = "XFAIL"
    SKIP = "SKIP"
    ERROR = "ERROR"


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldResult:
    """One checked field: its JSON-ish path, what was expected, what was observed."""

    field: str
    expected: Any
    observed: Any
    ok: bool

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "expected": self.expected, "observed": self.observed, "ok": self.ok}


@dataclass(frozen=True, slots=True, kw_only=True)
class Citation:
    page: str
    revision: str
    quote: str
    repo: str = "bitrix24/b24restdocs"

    def to_dict(self) -> dict[str, Any]:
        return {"repo": self.repo, "page": self.page, "revision": self.revision, "quote": self.quote}


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    clause_id: str
    level: str  # MUST | SHOULD
    title: str
    outcome: Outcome
    profile: str
    citation: Citation
    fields: tuple[FieldResult, ...] = ()
    reason: str = ""  # why SKIP / ERROR, or which profile a NON-STRICT matched
    matched_profile: str | None = None
    reproduction: str = ""  # copy-paste curl, secrets redacted
    exchanges: tuple[Exchange, ...] = ()
    duration_s: float = 0.0
    baseline: str = ""  # what the run's baseline said: "known" (XFAIL), "changed", "fixed", or ""

    def gates(self, strict: bool = False) -> bool:
        """A FAIL that fails the gate: a MUST clause's, or with `strict` a SHOULD clause's too."""
        return self.outcome is Outcome.FAIL and (self.level == "MUST" or strict)

    @property
    def gating_failure(self) -> bool:
        return self.gates()

    @property
    def mismatches(self) -> tuple[FieldResult, ...]:
        return tuple(f for f in self.fields if not f.ok)

    def to_dict(self) -> dict[str, Any]:
        return {
            "clause_id": self.clause_id,
            "level": self.level,
            "title": self.title,
            "outcome": self.outcome.value,
            "profile": self.profile,
            "matched_profile": self.matched_profile,
            "reason": self.reason,
            "citation": self.citation.to_dict(),
            "fields": [f.to_dict() for f in self.fields],
            "reproduction": self.reproduction,
            "exchanges": [e.to_dict() for e in self.exchanges],
            "duration_s": round(self.duration_s, 4),
            "baseline": self.baseline,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        """The inverse of `to_dict`, for input already checked against schemas/report.schema.json."""
        return cls(
            clause_id=data["clause_id"], level=data["level"], title=data["title"],
            outcome=Outcome(data["outcome"]), profile=data["profile"], citation=Citation(**data["citation"]),
            fields=tuple(FieldResult(**f) for f in data["fields"]), reason=data["reason"],
            matched_profile=data["matched_profile"], reproduction=data["reproduction"],
            exchanges=tuple(Exchange.from_dict(e) for e in data["exchanges"]), duration_s=data["duration_s"],
            baseline=data.get("baseline", ""),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """Run metadata, the header of every report."""

    run_id: str
    started_at: str  # ISO-8601
    target: str  # a redacted description, e.g. "reference portal http://127.0.0.1:40123"
    target_kind: str  # reference | live | cassette
    portal: str = ""  # a stable name of the portal (host, or reference/<profile>), for comparing runs
    profile: str
    tool_version: str
    clause_files: tuple[str, ...] = ()
    strict: bool = False  # SHOULD clauses count for the gate too
    baseline: str = ""  # the baseline file the run was graded with, if any

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "started_at": self.started_at, "target": self.target,
                "target_kind": self.target_kind, "portal": self.portal, "profile": self.profile,
                "tool_version": self.tool_version, "clause_files": list(self.clause_files),
                "strict": self.strict, "baseline": self.baseline}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunInfo:
        return cls(**{**data, "clause_files": tuple(data["clause_files"])})


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """A run: its header, its verdicts in clause order, and what the footer adds. `complete` is False
    for a run that was interrupted: its report stream has no footer."""

    info: RunInfo
    verdicts: tuple[Verdict, ...]
    duration_s: float
    request_count: int
    complete: bool = True

    def counts(self) -> dict[str, int]:
        counts = {o.value: 0 for o in Outcome}
        for v in self.verdicts:
            counts[v.outcome.value] += 1
        return counts

    @property
    def gating(self) -> tuple[Verdict, ...]:
        """The FAILs that fail this run's gate (MUST only, or with `strict` SHOULD too)."""
        return tuple(v for v in self.verdicts if v.gates(self.info.strict))

    @property
    def exit_code(self) -> int:
        """0 clean; 1 a MUST clause failed; 3 no MUST failure, but some clause could not be judged
        (an infrastructure error, or a run that never finished)."""
        if self.gating:
            return 1
        if not self.complete or any(v.outcome is Outcome.ERROR for v in self.verdicts):
            return 3
        return 0
