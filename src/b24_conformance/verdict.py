"""Expected vs observed, graded as Autobahn grades: PASS, NON-STRICT, FAIL, SKIP, ERROR.

PASS: every checked field is exactly what the selected profile expects.
NON-STRICT: not PASS, but every field is exactly what another known profile expects (for example
the current docs' newer wording of the same error).
FAIL: neither. SKIP: the target cannot provide the clause's precondition. ERROR: an infrastructure
fault; it says nothing about the portal's conformance.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Outcome(str, enum.Enum):
    PASS = "PASS"
    NON_STRICT = "NON-STRICT"
    FAIL = "FAIL"
    SKIP = "SKIP"
    ERROR = "ERROR"

    @property
    def rank(self) -> int:
        """Sort order for reports: the worst first."""
        return {"ERROR": 0, "FAIL": 1, "NON-STRICT": 2, "SKIP": 3, "PASS": 4}[self.value]


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldResult:
    """One checked field: its JSON-ish path, what was expected, what was observed."""

    field: str
    expected: Any
    observed: Any
    ok: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "expected": self.expected, "observed": self.observed,
                "ok": self.ok, "note": self.note}


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
    exchanges: tuple[dict[str, Any], ...] = ()
    duration_s: float = 0.0

    @property
    def gating_failure(self) -> bool:
        return self.level == "MUST" and self.outcome is Outcome.FAIL

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
            "exchanges": list(self.exchanges),
            "duration_s": round(self.duration_s, 4),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """Run metadata, the header of every report."""

    run_id: str
    started_at: str  # ISO-8601
    target: str  # a redacted description, e.g. "reference portal http://127.0.0.1:40123"
    target_kind: str  # reference | live | cassette
    profile: str
    tool_version: str
    clause_files: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "started_at": self.started_at, "target": self.target,
                "target_kind": self.target_kind, "profile": self.profile,
                "tool_version": self.tool_version, "clause_files": list(self.clause_files)}


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    info: RunInfo
    verdicts: tuple[Verdict, ...]
    duration_s: float
    request_count: int
    extra: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = {o.value: 0 for o in Outcome}
        for v in self.verdicts:
            counts[v.outcome.value] += 1
        return counts

    @property
    def exit_code(self) -> int:
        """0 clean; 1 a MUST clause failed; 3 infrastructure errors and no MUST failure."""
        if any(v.gating_failure for v in self.verdicts):
            return 1
        if any(v.outcome is Outcome.ERROR for v in self.verdicts):
            return 3
        return 0
