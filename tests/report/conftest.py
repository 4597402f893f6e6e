"""Hand-built RunResult and Verdict values for the report writers' tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from b24_conformance.observation import Exchange
from b24_conformance.verdict import Citation, FieldResult, Outcome, RunInfo, RunResult, Verdict

CURL = ("curl -sS -X POST 'https://portal.example/rest/1/REDACTED/catalog.document.cancel' "
        "-H 'Content-Type: application/json' -d '{\"id\": 7}'")



def make_verdict(clause_id: str = "catalog.document.cancel.draft.rejected", *,
                 outcome: Outcome = Outcome.PASS, level: str = "MUST", **overrides: Any) -> Verdict:
    """A plausible verdict; FAIL ones get a mismatching error_description unless fields are given."""
    fields = (
        FieldResult(field="http.status", expected=400, observed=400, ok=True),
        FieldResult(field="body.error", expected="ERROR_DOCUMENT_STATUS", observed="ERROR_DOCUMENT_STATUS",
                    ok=True),
    )
    if outcome is Outcome.FAIL:
        fields += (FieldResult(field="body.error_description", expected="Document is not conducted",
                               observed="Document not found", ok=False),)
    values: dict[str, Any] = {
        "clause_id": clause_id,
        "level": level,
        "title": "Cancelling a draft document is rejected",
        "outcome": outcome,
        "profile": "seed-2024",
        "citation": Citation(page="api-reference/catalog/document/catalog-document-cancel.md",
                             revision="0123abcd", quote="The document must be conducted."),
        "fields": fields,
        "reproduction": CURL,
        "exchanges": (exchange(),),
        "duration_s": 0.0125,
    }
    if outcome is Outcome.FAIL:  # the reason grading writes: the first mismatch, values as JSON
        values["reason"] = 'body.error_description: expected "Document is not conducted", got "Document not found"'
    if outcome is Outcome.NON_STRICT:
        values["matched_profile"] = "docs-en-current"
        values["reason"] = ("matches profile docs-en-current, not seed-2024 (body.error_description: expected "
                            '"Document is not conducted", got "Document is not conducted yet")')
    if outcome in (Outcome.SKIP, Outcome.ERROR):
        values["fields"] = ()
        skip = outcome is Outcome.SKIP
        values["reason"] = "no store with stock" if skip else "TargetUnreachable: timed out"
    values.update(overrides)
    return Verdict(**values)


def exchange(response_body: str | None = None, status: int = 400) -> Exchange:
    """A redacted wire log entry."""
    body = response_body if response_body is not None else json.dumps(
        {"error": "ERROR_DOCUMENT_STATUS", "error_description": "Document is not conducted"})
    return Exchange(
        method="POST",
        url="https://portal.example/rest/1/REDACTED/catalog.document.cancel",
        request_headers={"Content-Type": "application/json"},
        request_body='{"id": 7}',
        status=status,
        response_headers={"Content-Type": "application/json"},
        response_body=body,
        elapsed_ms=12.5,
    )


def make_result(*verdicts: Verdict, **overrides: Any) -> RunResult:
    """A run around `verdicts` (one of each outcome when none are given)."""
    if not verdicts:
        verdicts = (
            make_verdict("catalog.document.cancel.conducted.accepted"),
            make_verdict("catalog.document.cancel.draft.rejected", outcome=Outcome.FAIL),
            make_verdict("catalog.document.cancel.missing.rejected", outcome=Outcome.NON_STRICT),
            make_verdict("catalog.document.conduct.nostock.rejected", outcome=Outcome.SKIP),
            make_verdict("catalog.document.conduct.draft.accepted", outcome=Outcome.ERROR),
        )
    values: dict[str, Any] = {
        "info": RunInfo(run_id="run-20250101-0001", started_at="2025-01-01T10:00:00+00:00",
                        target="reference portal http://127.0.0.1:40123", target_kind="reference",
                        profile="seed-2024", tool_version="0.1.0",
                        clause_files=("suites/clauses/catalog.document.cancel.yaml",)),
        "verdicts": tuple(verdicts),
        "duration_s": 1.5,
        "request_count": 17,
    }
    values.update(overrides)
    return RunResult(**values)


@pytest.fixture
def verdict() -> Callable[..., Verdict]:
    return make_verdict


@pytest.fixture
def run() -> Callable[..., RunResult]:
    return make_result


@pytest.fixture
def wire() -> Callable[..., Exchange]:
    return exchange
