"""Baselines of known deviations, and --strict: a portal that differs from the docs for good keeps a
green gate, and a new deviation still turns it red."""

from __future__ import annotations

import json

import pytest
import yaml

from b24_conformance.cli import main

# the real server sets N on cancel (real-portal-and-clients.md §4.2): the mutant that does the same
SETS_N = ["--mutant", "cancel-sets-draft"]
SOME = ["-k", "cancel.receipt.*", "-k", "cancel.adjustment.*", "-k", "cancel.draft.*", "-k", "cancel.json-suffix.*"]


def report(directory):
    return json.loads((directory / "report.json").read_text("utf-8"))


def outcomes(directory):
    return {v["clause_id"]: (v["outcome"], v["baseline"]) for v in report(directory)["verdicts"]}


@pytest.fixture
def baseline(tmp_path, capsys):
    """A baseline written from a run of the portal that sets N on cancel."""
    assert main(["run", "-q", *SETS_N, *SOME, "--reports", str(tmp_path / "first")]) == 1
    capsys.readouterr()
    assert main(["baseline", str(tmp_path / "first")]) == 0
    path = tmp_path / "portal.baseline.yaml"
    path.write_text(capsys.readouterr().out, encoding="utf-8")
    return path


def test_a_baseline_lists_each_fail_with_its_observed_value(baseline):
    data = yaml.safe_load(baseline.read_text("utf-8"))
    known = {e["clause"]: e for e in data["known"]}
    assert set(known) == {"cancel.receipt.succeeds", "cancel.adjustment.succeeds", "cancel.json-suffix.succeeds"}
    assert known["cancel.receipt.succeeds"]["field"] == "after.status.doc"
    assert known["cancel.receipt.succeeds"]["observed"] == "N"


def test_known_deviations_keep_the_gate_green(baseline, tmp_path, capsys):
    code = main(["run", "-q", *SETS_N, *SOME, "--baseline", str(baseline), "--reports", str(tmp_path / "again")])
    out = capsys.readouterr().out
    assert code == 0, out
    seen = outcomes(tmp_path / "again")
    assert seen["cancel.receipt.succeeds"] == ("XFAIL", "known")
    assert seen["cancel.draft.rejected"] == ("PASS", "")
    assert "3 XFAIL" in out and "passed; 3 known deviation(s)" in out


def test_a_new_deviation_on_the_same_portal_turns_the_gate_red(baseline, tmp_path):
    worse = [*SETS_N, "--mutant", "error-text-lowercase"]
    code = main(["run", "-q", *worse, *SOME, "--baseline", str(baseline), "--reports", str(tmp_path / "worse")])
    assert code == 1
    seen = outcomes(tmp_path / "worse")
    assert seen["cancel.draft.rejected"] == ("FAIL", "")  # the new one
    assert seen["cancel.receipt.succeeds"] == ("XFAIL", "known")  # the old ones stay known


def test_a_known_deviation_whose_observed_value_changed_counts_as_new(baseline, tmp_path):
    data = yaml.safe_load(baseline.read_text("utf-8"))
    for entry in data["known"]:
        entry["observed"] = "Y"  # what the portal answered when the baseline was written, say
    baseline.write_text(yaml.safe_dump(data), encoding="utf-8")
    code = main(["run", "-q", *SETS_N, *SOME, "--baseline", str(baseline), "--reports", str(tmp_path / "changed")])
    assert code == 1
    verdict = next(v for v in report(tmp_path / "changed")["verdicts"] if v["clause_id"] == "cancel.receipt.succeeds")
    assert (verdict["outcome"], verdict["baseline"]) == ("FAIL", "changed")
    assert 'the baseline has after.status.doc = "Y", now "N"' in verdict["reason"]


def test_a_known_fail_that_passes_now_is_reported_as_fixed(baseline, tmp_path, capsys):
    assert main(["run", "-q", *SOME, "--baseline", str(baseline), "--reports", str(tmp_path / "fixed")]) == 0
    seen = outcomes(tmp_path / "fixed")
    assert seen["cancel.receipt.succeeds"] == ("PASS", "fixed")
    assert "remove it from the baseline" in capsys.readouterr().out


@pytest.mark.parametrize("text, message", [
    ("baseline: 1\nknown:\n  - {clause: cancel.recipt.succeeds, verdict: FAIL, field: x, observed: 1, reason: r}\n",
     "did you mean 'cancel.receipt.succeeds'?"),
    ("baseline: 1\nknown:\n  - {clause: cancel.receipt.succeeds}\n", "needs clause, verdict, field, observed and reason"),
    ("not: a baseline\n", "not a baseline file"),
    ("[unclosed\n", "not a YAML baseline"),
])
def test_a_bad_baseline_is_one_line_and_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["run", "-q", "-k", "cancel.draft.*", "--baseline", str(path), "--reports", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_strict_makes_should_clauses_count_and_says_so(tmp_path, capsys):
    # method names matched case-sensitively breaks only a SHOULD clause
    args = ["run", "-q", "--mutant", "case-sensitive-methods", "-k", "cancel.method-case.*", "-k", "cancel.draft.*"]
    assert main([*args, "--reports", str(tmp_path / "default")]) == 0
    assert "gate on MUST clauses: passed" in capsys.readouterr().out
    assert main([*args, "--strict", "--reports", str(tmp_path / "strict")]) == 1
    assert "gate on MUST and SHOULD clauses (strict): FAILED — 1 clause(s) failed" in capsys.readouterr().out
    assert report(tmp_path / "strict")["header"]["strict"] is True
