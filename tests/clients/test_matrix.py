"""Real clients through the clauses: the matrix on the reference portal over TLS, offline from each
client's own recording with the network blocked, the README's own adapter, and the pytest option.

By default every built-in row runs one clause of each shape per method (what the clause checks and
how it calls: transport, batch, concurrency, burst, page walk) plus every clause a test below names;
that keeps the test's cost flat as the clause set grows. The whole matrix, every row on every
clause, is behind --run-slow (`b24-conformance clients` is what gates a client release)."""

from __future__ import annotations

import json
import re
import socket

import pytest

from b24_conformance import paths
from b24_conformance.cli import main
from b24_conformance.clients.matrix import render_matrix, run_matrix
from b24_conformance.contract.clause import load_clauses
from b24_conformance.verdict import Outcome

CLAUSES = load_clauses()
BUILT_IN = ("reference", "b24pysdk.typed", "b24pysdk.call_method", "fast-bitrix24.raw", "fast-bitrix24.call")
README = paths.data_root() / "README.md"


NAMED = ("cancel.draft.rejected", "cancel.wrong-webhook-code.rejected", "cancel.in-batch-draft.reported",
         "cancel.id-missing.rejected", "cancel.id-not-integer.rejected", "cancel.form-body.succeeds",
         "cancel.after-rate-limit.succeeds")


def one_of_each_shape(clauses, named=NAMED):
    """The first clause of each (method, checked `then` keys, way of calling), and the named ones."""
    seen, chosen = set(), []
    for c in clauses:
        w = c.when
        shape = (c.file_method, frozenset(c.then.checked_keys()), w.transport, bool(w.batch),
                 w.concurrent > 1, bool(w.burst), w.drained, w.walk)
        if shape not in seen or c.id in named:
            seen.add(shape)
            chosen.append(c)
    return chosen


SAMPLE = one_of_each_shape(CLAUSES)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    return run_matrix(BUILT_IN, SAMPLE, reports=reports), reports


def test_the_sample_has_every_method_and_every_named_clause():
    assert {c.file_method for c in SAMPLE} == {c.file_method for c in CLAUSES}
    assert set(NAMED) <= {c.id for c in SAMPLE}
    assert len(SAMPLE) < len(CLAUSES)


def cell(matrix, client, clause_id):
    return next(v for v in matrix.rows[client].verdicts if v.clause_id == clause_id)


def test_the_reference_row_passes_every_sampled_clause(matrix):
    m, _ = matrix
    assert {v.clause_id: v.outcome for v in m.rows["reference"].verdicts} == {c.id: Outcome.PASS for c in SAMPLE}


def test_no_cell_is_an_error_of_the_run(matrix):
    """A client's refusal or deviation is a verdict; ERROR is only for the run's own faults."""
    m, _ = matrix
    errors = {(row, v.clause_id): v.reason for row, r in m.rows.items() for v in r.verdicts
              if v.outcome is Outcome.ERROR}
    assert not errors


@pytest.mark.slow
def test_the_full_matrix_of_every_client_row(tmp_path):
    m = run_matrix(BUILT_IN, CLAUSES, reports=tmp_path)
    assert {v.clause_id: v.outcome for v in m.rows["reference"].verdicts} == {c.id: Outcome.PASS for c in CLAUSES}
    for name in BUILT_IN:
        verdicts = m.rows[name].verdicts
        assert len(verdicts) == len(CLAUSES), name
        assert not [(v.clause_id, v.reason) for v in verdicts if v.outcome is Outcome.ERROR], name


@pytest.mark.parametrize("client, clause_id, outcome, words", [
    # fast-bitrix24's default session raises on 4xx before reading the body (its issue #125)
    ("fast-bitrix24.raw", "cancel.draft.rejected", Outcome.FAIL,
     "error code and error_description lost on HTTP 400: the caller gets only ClientResponseError"),
    ("fast-bitrix24.raw", "cancel.wrong-webhook-code.rejected", Outcome.FAIL, "lost on HTTP 401"),
    # through batch, the code survives but the status does not, and a refused command loses the rest
    ("fast-bitrix24.call", "cancel.draft.rejected", Outcome.FAIL, "HTTP status lost"),
    ("fast-bitrix24.call", "cancel.in-batch-draft.reported", Outcome.FAIL, "successful results are lost"),
    # b24pysdk's .error raises on the integer code 100 of a parameter error
    ("b24pysdk.call_method", "cancel.id-missing.rejected", Outcome.FAIL,
     "error object is unreadable (BitrixAPIBadRequest): .error raised ValueError"),
    ("b24pysdk.call_method", "cancel.draft.rejected", Outcome.PASS, ""),
    ("b24pysdk.typed", "cancel.id-not-integer.rejected", Outcome.SKIP, "refuses these arguments before sending"),
    ("b24pysdk.typed", "cancel.form-body.succeeds", Outcome.SKIP, "always sends a JSON body"),
    # every client rides a rate limit out
    ("fast-bitrix24.raw", "cancel.after-rate-limit.succeeds", Outcome.PASS, ""),
    ("b24pysdk.typed", "cancel.after-rate-limit.succeeds", Outcome.PASS, ""),
])
def test_each_client_deviation_is_found_and_said_plainly(matrix, client, clause_id, outcome, words):
    verdict = cell(matrix[0], client, clause_id)
    assert verdict.outcome is outcome, verdict.reason
    assert words in verdict.reason


def test_the_matrix_is_printed_and_written_and_gates(matrix, tmp_path):
    m, reports = matrix
    text = render_matrix(m)
    assert re.search(r"cancel\.draft\.rejected\s+pass\s+pass\s+pass\s+FAIL\s+FAIL", text)
    # b24pysdk.call_method fails the gate too since the deprecated confirm/unconfirm pages document
    # code 100 as a MUST row: its error object cannot read a numeric `error` (issue 11)
    assert re.search(r"gate: FAILED — .*fast-bitrix24\.raw", text)
    assert m.exit_code == 1
    for name in BUILT_IN:
        row = json.loads((reports / "clients" / name / "report.json").read_text("utf-8"))
        assert len(row["verdicts"]) == len(SAMPLE)


def test_the_cli_writes_the_matrix_and_exits_1_for_a_must_failure(tmp_path, capsys):
    code = main(["clients", "--adapter", "fast-bitrix24.raw", "-k", "cancel.draft.*", "--reports", str(tmp_path)])
    assert code == 1
    data = json.loads((tmp_path / "clients.json").read_text("utf-8"))
    assert data["clients"]["fast-bitrix24.raw"]["cells"]["cancel.draft.rejected"]["outcome"] == "FAIL"
    assert "<table>" in (tmp_path / "clients.html").read_text("utf-8")
    assert "error code and error_description lost on HTTP 400" in capsys.readouterr().out


@pytest.mark.parametrize("client", ["b24pysdk.call_method", "b24pysdk.typed", "fast-bitrix24.raw"])
def test_each_client_replays_its_own_recording_offline(tmp_path, client, monkeypatch):
    chosen = [c for c in CLAUSES if c.id in ("cancel.receipt.succeeds", "cancel.draft.rejected",
                                              "cancel.oauth-body.succeeds", "cancel.id-missing.rejected",
                                              "cancel.in-batch.succeeds")]
    recorded = run_matrix([client], chosen, cassettes=tmp_path / "cassettes", record=True)
    text = "".join(p.read_text("utf-8") for p in (tmp_path / "cassettes").rglob("*.yaml"))
    assert "REDACTED" in text
    for cred in json.loads((tmp_path / "cassettes" / client / "_recording.json").read_text())["roles"].values():
        assert "code" not in cred and "token" not in cred
    def refuse(self, address):
        raise OSError(f"network blocked during replay: {address}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    replayed = run_matrix([client], chosen, cassettes=tmp_path / "cassettes")
    before = {v.clause_id: (v.outcome, v.reason) for v in recorded.rows[client].verdicts}
    after = {v.clause_id: (v.outcome, v.reason) for v in replayed.rows[client].verdicts}
    assert after == before
    assert all(o is not Outcome.ERROR for o, _ in after.values()), after


def readme_adapter() -> str:
    match = re.search(r"```python\n(# my_adapter\.py.*?)```", README.read_text("utf-8"), re.DOTALL)
    assert match, "the README lost its example adapter"
    return match.group(1)


def test_the_readme_adapter_runs_and_its_gate_is_green(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_adapter.py").write_text(readme_adapter(), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(["clients", "--adapter", "my_adapter:factory", "--reports", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0, out
    row = json.loads((tmp_path / "r" / "clients.json").read_text("utf-8"))["clients"]["our-client"]
    assert row["counts"]["FAIL"] == 0 and row["counts"]["ERROR"] == 0 and row["counts"]["PASS"] >= 25
    assert "always POST a JSON body" in out  # the SKIP reasons are the adapter's own words


def test_a_readme_adapter_that_swallows_errors_is_caught(tmp_path, monkeypatch):
    broken = readme_adapter().replace('        if "error" in body:', '        if False:')
    broken = broken.replace('        return body["result"]', '        return body.get("result")')
    (tmp_path / "swallowing_adapter.py").write_text(broken, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(["clients", "--adapter", "swallowing_adapter:factory", "-k", "cancel.draft.*",
                 "--reports", str(tmp_path / "r")])
    cells = json.loads((tmp_path / "r" / "clients.json").read_text("utf-8"))["clients"]["our-client"]["cells"]
    assert code == 1
    assert cells["cancel.draft.rejected"]["reason"].startswith("the error was swallowed")


def test_the_pytest_plugin_takes_the_same_adapter(pytester, tmp_path):
    (pytester.path / "my_adapter.py").write_text(readme_adapter(), encoding="utf-8")
    pytester.makepyfile(test_cancel=(paths.data_root() / "src" / "b24_conformance" / "suites" / "test_clauses.py").read_text())
    pytester.syspathinsert()
    result = pytester.runpytest("-k", "cancel.draft.rejected or form-body", "--b24-client", "my_adapter:factory", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*our-client cannot do this: we always POST a JSON body*"])


def test_every_client_copes_with_a_self_hosted_portal(tmp_path):
    """No `operating` keys in `time` (on-prem portals): success still reaches every caller."""
    chosen = [c for c in CLAUSES if c.id in ("cancel.receipt.succeeds", "cancel.in-batch.succeeds",
                                              "cancel-list.all-conducted.succeeds")]
    m = run_matrix(BUILT_IN, chosen, on_prem=True)
    for name, result in m.rows.items():
        assert {v.outcome for v in result.verdicts} == {Outcome.PASS}, (name, [v.reason for v in result.verdicts])


def test_a_library_row_is_paced_with_the_run_so_the_portal_never_refuses_it(tmp_path):
    """The portal counts a client library's requests in the same bucket as the suite's own: each
    clause request through a library takes its slot in the run's pacer, and a refusal the clause
    does not judge is waited out and asked again, never an ERROR (issue: a row of the full matrix
    used to outrun an Enterprise portal's 250-request bucket)."""
    from dataclasses import replace

    from b24_conformance.clients.matrix import attach
    from b24_conformance.portal.server import EmbeddedPortal
    from b24_conformance.runner import Runner, RunOptions
    from b24_conformance.target.reference import reference_settings, target_for

    plain = [c for c in CLAUSES if not c.given and c.when.role == "admin" and c.when.transport == "json"
             and not c.when.batch and c.then.expect.http == 200][:5]
    assert len(plain) == 5
    with EmbeddedPortal(replace(reference_settings(), rate_threshold=2, rate_drain_per_s=1.0)) as portal:
        runner = Runner(target_for(portal), RunOptions(manifest_dir=tmp_path))
        adapter = attach(runner, "b24pysdk.call_method")
        try:
            result = runner.run(plain)
        finally:
            adapter.stop()
    assert {v.clause_id: v.outcome.name for v in result.verdicts} == {c.id: "PASS" for c in plain}
