"""The terminal progress lines and summary table."""

from __future__ import annotations

import io

import pytest

from b24_conformance.grading import mismatch_reason
from b24_conformance.report.terminal import Progress, render_table
from b24_conformance.verdict import FieldResult, Outcome


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_prints_one_compact_line_per_verdict(verdict):
    out = io.StringIO()
    progress = Progress(out)
    progress.verdict(verdict("cancel.draft.rejected", duration_s=0.01), 3, 41)
    assert out.getvalue() == "[ 3/41] PASS        cancel.draft.rejected (0.01s)\n"


def test_progress_colours_only_a_tty_without_no_color(verdict, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = FakeTTY()
    Progress(tty).verdict(verdict(outcome=Outcome.FAIL), 1, 1)
    assert "\x1b[1;31mFAIL" in tty.getvalue()

    plain = io.StringIO()
    Progress(plain).verdict(verdict(outcome=Outcome.FAIL), 1, 1)
    assert "\x1b" not in plain.getvalue()

    monkeypatch.setenv("NO_COLOR", "1")
    tty = FakeTTY()
    Progress(tty).verdict(verdict(outcome=Outcome.FAIL), 1, 1)
    assert "\x1b" not in tty.getvalue()


def test_table_gives_the_reason_per_outcome_in_clause_order(run):
    lines = render_table(run(), width=160).splitlines()
    body = lines[2:7]
    assert [line.split()[0] for line in body] == [
        "catalog.document.cancel.conducted.accepted",
        "catalog.document.cancel.draft.rejected",
        "catalog.document.cancel.missing.rejected",
        "catalog.document.conduct.nostock.rejected",
        "catalog.document.conduct.draft.accepted",
    ]
    assert body[1].split()[1:3] == ["MUST", "FAIL"]
    assert ('body.error_description: expected "Document is not conducted", got "Document not found"'
            in body[1])
    assert "matches profile docs-en-current" in body[2]
    assert body[3].endswith("no store with stock")
    assert body[4].endswith("TargetUnreachable: timed out")


def test_summary_line_has_counts_requests_duration_and_gate(run):
    summary = render_table(run(), width=160).splitlines()[-1]
    assert "1 PASS, 1 NON-STRICT, 1 FAIL, 1 SKIP, 1 ERROR" in summary
    assert "17 HTTP request(s)" in summary
    assert "1.50s" in summary
    assert summary.endswith("gate on MUST clauses: FAILED — 1 clause(s) failed")


def test_gate_passes_when_only_a_should_clause_fails(run, verdict):
    text = render_table(run(verdict(outcome=Outcome.FAIL, level="SHOULD"), verdict("a.b.c")))
    assert text.rstrip().endswith("gate on MUST clauses: passed")


def test_long_cells_are_truncated_to_the_width(run, verdict):
    long = FieldResult(field="body.error_description", expected="x" * 300, observed="y" * 300, ok=False)
    text = render_table(run(verdict("a." * 60 + "end", outcome=Outcome.FAIL, fields=(long,))), width=80)
    table_lines = text.splitlines()
    assert all(len(line) <= 80 for line in table_lines)
    assert table_lines[-1].endswith("gate on MUST clauses: FAILED — 1 clause(s) failed")
    assert "…" in table_lines[2]


def test_hostile_control_characters_cannot_reach_the_terminal(run, verdict):
    evil = FieldResult(field="body.error", expected="A", observed="\x1b[2J\nboom", ok=False)
    text = render_table(run(verdict(outcome=Outcome.FAIL, fields=(evil,), reason=mismatch_reason(evil))), width=200)
    assert "\x1b" not in text
    assert '"\\u001b[2J\\nboom"' in text  # values are shown as JSON
    skipped = render_table(run(verdict(outcome=Outcome.SKIP, reason="\x1b[2J\nboom")), width=200)
    assert "\x1b" not in skipped
    assert "\\x1b[2J boom" in skipped


def test_refuses_to_print_a_secret(run, verdict):
    leaky = verdict(outcome=Outcome.SKIP, reason="token abc123secret expired")
    with pytest.raises(ValueError, match="terminal") as caught:
        render_table(run(leaky), secrets=["abc123secret"])
    assert "abc123secret" not in str(caught.value)
    with pytest.raises(ValueError, match="terminal"):
        Progress(io.StringIO(), secrets=["draft"]).verdict(verdict("cancel.draft.x"), 1, 1)
