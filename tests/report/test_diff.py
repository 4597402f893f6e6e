"""Drift between two recorded runs."""

from __future__ import annotations

import dataclasses

from b24_conformance.report.diff import diff_files, diff_reports, render_drift
from b24_conformance.report.jsonreport import write_json
from b24_conformance.verdict import FieldResult, Outcome


def with_description(verdict, text):
    fields = tuple(dataclasses.replace(f, observed=text) if f.field == "body.error_description" else f
                   for f in verdict.fields)
    return dataclasses.replace(verdict, fields=fields)


def test_identical_runs_have_no_drift(run):
    drift = diff_reports(run(), run())
    assert drift.empty and drift.exit_code == 0
    assert "no drift" in render_drift(drift)


def test_changed_error_description_is_reported_without_an_outcome_change(run, verdict):
    old = verdict("cancel.draft.rejected", outcome=Outcome.FAIL)
    new = with_description(old, "Документ не проведён")
    drift = diff_reports(run(old), run(new))
    assert drift.changed == () and drift.exit_code == 0
    [change] = drift.field_changes
    assert (change.clause_id, change.field, change.old, change.new) == (
        "cancel.draft.rejected", "body.error_description", "Document not found", "Документ не проведён")
    text = render_drift(drift)
    assert ('cancel.draft.rejected  body.error_description: "Document not found" → "Документ не проведён"'
            in text)


def test_pass_to_fail_is_a_regression_with_non_zero_exit(run, verdict):
    drift = diff_reports(run(verdict("a.b.c")), run(verdict("a.b.c", outcome=Outcome.FAIL)))
    assert [c.clause_id for c in drift.regressions] == ["a.b.c"]
    assert drift.exit_code == 1
    text = render_drift(drift)
    assert "regressed (1):\n  a.b.c [MUST]: PASS → FAIL" in text
    assert text.rstrip().splitlines()[-1].startswith("REGRESSED")


def test_improvements_and_should_skips_are_drift_but_not_regressions(run, verdict):
    old = run(verdict("a.b.c", outcome=Outcome.FAIL), verdict("d.e.f", level="SHOULD"))
    new = run(verdict("a.b.c"), verdict("d.e.f", level="SHOULD", outcome=Outcome.SKIP))
    drift = diff_reports(old, new)
    assert {(c.old, c.new) for c in drift.changed} == {(Outcome.FAIL, Outcome.PASS),
                                                       (Outcome.PASS, Outcome.SKIP)}
    assert drift.regressions == () and drift.exit_code == 0
    assert "other outcome changes (2):" in render_drift(drift)


def test_a_must_clause_that_passed_and_is_now_skipped_is_a_regression(run, verdict):
    drift = diff_reports(run(verdict("a.b.c")), run(verdict("a.b.c", outcome=Outcome.SKIP)))
    assert drift.exit_code == 1
    assert "regressed (1):\n  a.b.c [MUST]: PASS → SKIP" in render_drift(drift)


def test_runs_of_different_portals_are_compared_with_a_warning(run, verdict):
    from dataclasses import replace
    old = run(verdict("a.b.c"))
    new = replace(run(verdict("a.b.c")), info=replace(old.info, portal="other.bitrix24.com"))
    text = render_drift(diff_reports(old, new))
    assert text.splitlines()[1].startswith("warning: the runs are of different targets")
    assert "other.bitrix24.com" in text
    assert "warning" not in render_drift(diff_reports(old, old))


def test_pass_to_non_strict_is_a_regression(run, verdict):
    drift = diff_reports(run(verdict("a.b.c")), run(verdict("a.b.c", outcome=Outcome.NON_STRICT)))
    assert drift.exit_code == 1


def test_added_and_removed_clauses_and_fields(run, verdict):
    extra = FieldResult(field="after.status", expected="N", observed="N", ok=True)
    old = run(verdict("gone.x.y"), verdict("kept.x.y"))
    new = run(verdict("kept.x.y", fields=verdict().fields + (extra,)), verdict("new.x.y"))
    drift = diff_reports(old, new)
    assert drift.added == ("new.x.y",) and drift.removed == ("gone.x.y",)
    [change] = drift.field_changes
    assert change.field == "after.status"
    text = render_drift(drift)
    assert "added (1):\n  new.x.y" in text and "removed (1):\n  gone.x.y" in text
    assert 'after.status: (not checked) → "N"' in text


def test_diff_files_reads_two_json_reports(run, verdict, tmp_path):
    old = write_json(run(verdict("a.b.c")), tmp_path / "old.json")
    new = write_json(run(verdict("a.b.c", outcome=Outcome.FAIL)), tmp_path / "new.json")
    assert diff_files(old, new).exit_code == 1
