"""Clients in any language behind a b24c-harness/1 harness: the shipped harnesses as matrix rows on
the reference portal over TLS, and deliberately broken harnesses, each of which must give ERROR
naming the harness and showing its stderr tail, never PASS or FAIL.

The JS rows run for real when `node` and `npm` are on the PATH (`npm ci` into a cache folder once);
otherwise they skip with that reason. The default test runs a representative clause subset; the
full matrix of every harness row is behind --run-slow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from b24_conformance.clients import load_adapter
from b24_conformance.clients.harness import HarnessAdapter, check_message
from b24_conformance.clients.matrix import run_matrix
from b24_conformance.contract.clause import load_clauses
from b24_conformance.verdict import Outcome

CLAUSES = load_clauses()
SUBSET = ("cancel.receipt.succeeds", "cancel.draft.rejected", "cancel.id-missing.rejected",
          "cancel.no-auth.rejected", "cancel.https-required.rejected", "cancel.in-batch.succeeds",
          "cancel.in-batch-draft.reported", "cancel.batch-too-long.rejected", "cancel.get-query.succeeds",
          "list.start-formula.second-page", "element-list.by-document.every-row")
JS = ("harness:js/b24jssdk", "harness:js/b24jssdk#actions.v2", "harness:js/bitrix2bad")
HAVE_NODE = bool(shutil.which("node") and shutil.which("npm"))
needs_node = pytest.mark.skipif(not HAVE_NODE, reason="node and npm are not on the PATH (apt-get install -y nodejs npm)")


def clauses(ids=SUBSET):
    chosen = [c for c in CLAUSES if c.id in ids]
    assert len(chosen) == len(ids), set(ids) - {c.id for c in chosen}
    return chosen


def cells(matrix, row):
    return {v.clause_id: v for v in matrix.rows[row].verdicts}


# -- the shipped harnesses ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    specs = ["harness:python/httpx"] + (list(JS) if HAVE_NODE else [])
    return run_matrix(specs, clauses(), reports=tmp_path_factory.mktemp("reports"))


def test_the_python_harness_passes_what_a_plain_http_client_can_ask(rows):
    got = cells(rows, "harness:python/httpx")
    for clause_id in ("cancel.receipt.succeeds", "cancel.draft.rejected", "cancel.id-missing.rejected",
                      "cancel.no-auth.rejected", "cancel.https-required.rejected", "cancel.in-batch.succeeds",
                      "cancel.in-batch-draft.reported", "cancel.batch-too-long.rejected"):
        assert got[clause_id].outcome is Outcome.PASS, (clause_id, got[clause_id].reason)
    assert got["cancel.get-query.succeeds"].outcome is Outcome.SKIP
    assert "always POSTs a JSON body" in got["cancel.get-query.succeeds"].reason


@needs_node
@pytest.mark.parametrize("row", JS[:2])
def test_b24jssdk_loses_the_bitrix_error_codes_and_refuses_long_batches(rows, row):
    got = cells(rows, row)
    assert got["cancel.receipt.succeeds"].outcome is Outcome.PASS, got["cancel.receipt.succeeds"].reason
    assert got["cancel.in-batch.succeeds"].outcome is Outcome.PASS, got["cancel.in-batch.succeeds"].reason
    # AjaxError.code is axios's ERR_BAD_REQUEST, not the portal's "0" / 100
    for clause_id, code in (("cancel.draft.rejected", "0"), ("cancel.id-missing.rejected", "100")):
        v = got[clause_id]
        assert v.outcome is Outcome.FAIL and f'expected "{code}", got "ERR_BAD_REQUEST"' in v.reason, v.reason
    v = got["cancel.batch-too-long.rejected"]
    assert v.outcome is Outcome.FAIL and "JSSDK_BATCH_TOO_LARGE" in v.reason, v.reason
    # a list's `total` and `next` are what the caller reads with getTotal() and getNext(): not lost
    for clause_id in ("list.start-formula.second-page", "element-list.by-document.every-row"):
        assert got[clause_id].outcome is Outcome.PASS, (clause_id, got[clause_id].reason)
    assert got["cancel.https-required.rejected"].outcome is Outcome.SKIP
    assert "JSSDK_HOOK_URL_NOT_HTTPS" in got["cancel.https-required.rejected"].reason


@needs_node
def test_2bad_bitrix_keeps_the_codes_but_not_a_batchs_partial_results(rows):
    got = cells(rows, "harness:js/bitrix2bad")
    for clause_id in ("cancel.receipt.succeeds", "cancel.draft.rejected", "cancel.id-missing.rejected",
                      "cancel.in-batch.succeeds", "cancel.get-query.succeeds"):
        assert got[clause_id].outcome is Outcome.PASS, (clause_id, got[clause_id].reason)
    v = got["cancel.in-batch-draft.reported"]
    assert v.outcome is Outcome.FAIL, v.reason  # batch() rejects on any result_error: successes are lost


@pytest.mark.slow
def test_the_full_matrix_of_every_harness_row(tmp_path):
    specs = ["harness:python/httpx"] + (list(JS) if HAVE_NODE else [])
    m = run_matrix(specs, CLAUSES, reports=tmp_path)
    for row in specs:
        outcomes = {v.outcome for v in m.rows[row].verdicts}
        assert Outcome.PASS in outcomes and len(m.rows[row].verdicts) == len(CLAUSES), row
    from b24_conformance.report.matrix import file_name

    for row in specs:
        assert (tmp_path / m.kind / file_name(row) / "report.jsonl").is_file(), row


# -- broken harnesses -----------------------------------------------------------------------------
BROKEN = {
    "exits": """
        import sys
        sys.stdin.readline()
        print("harness-exits: cannot load the client", file=sys.stderr)
        sys.exit(3)
    """,
    "sleeps": """
        import json, sys, time
        sys.stdin.readline()
        print(json.dumps({"op": "started", "protocol": "b24c-harness/1", "client": {"name": "s", "version": "1"}}),
              flush=True)
        print("harness-sleeps: waiting forever", file=sys.stderr, flush=True)
        time.sleep(600)
    """,
    "junk": """
        import json, sys
        sys.stdin.readline()
        print(json.dumps({"op": "started", "protocol": "b24c-harness/1", "client": {"name": "j", "version": "1"}}),
              flush=True)
        sys.stdin.readline()
        print("harness-junk: about to print junk", file=sys.stderr, flush=True)
        print("Loading client... done!", flush=True)
        sys.stdin.readline()
    """,
    "off-schema": """
        import json, sys
        sys.stdin.readline()
        print(json.dumps({"op": "started", "protocol": "b24c-harness/1", "client": {"name": "o", "version": "1"}}),
              flush=True)
        for line in sys.stdin:
            msg = json.loads(line)
            print("harness-off-schema: answering", msg["id"], file=sys.stderr, flush=True)
            print(json.dumps({"id": msg["id"], "result": True}), flush=True)
    """,
}


def broken(tmp_path: Path, kind: str) -> str:
    folder = tmp_path / kind
    folder.mkdir()
    (folder / "harness.py").write_text(textwrap.dedent(BROKEN[kind]), encoding="utf-8")
    (folder / "harness.json").write_text(json.dumps({"command": ["{python}", "harness.py"]}), encoding="utf-8")
    return f"harness:{folder}"


@pytest.mark.parametrize("kind, words", [
    ("exits", "exited (exit code 3)"),
    ("sleeps", "gave no answer within 1 s"),
    ("junk", "printed a line that is not JSON: 'Loading client... done!"),
    ("off-schema", "answered call off the protocol schema"),
])
def test_a_broken_harness_is_error_with_its_stderr_tail_never_a_verdict(tmp_path, monkeypatch, kind, words):
    monkeypatch.setenv("B24C_HARNESS_TIMEOUT", "1")
    spec = broken(tmp_path, kind)
    m = run_matrix([spec], clauses(("cancel.receipt.succeeds", "cancel.draft.rejected")), reports=tmp_path / "r")
    verdicts = m.rows[spec].verdicts
    assert [v.outcome for v in verdicts] == [Outcome.ERROR, Outcome.ERROR], [(v.outcome, v.reason) for v in verdicts]
    first = verdicts[0].reason
    assert f"harness {str(tmp_path / kind)!r}" in first and words in first, first
    assert f"harness-{kind}:" in first, first  # the stderr tail
    assert m.exit_code != 0


def test_every_runner_message_and_a_good_answer_fit_the_schema():
    assert check_message({"id": 1, "returned": {"result": True}, "whole": True}, "answer") is None
    assert check_message({"id": 1, "raised": {"type": "E", "code": None, "description": None, "status": 400}},
                         "answer") is None
    assert check_message({"id": 1, "returned": 1, "raised": {}}, "answer") is not None
    assert check_message({"op": "started", "protocol": "b24c-harness/2", "client": {"name": "x", "version": "1"}},
                         "started") is not None


def test_an_unknown_harness_is_one_usage_line():
    from b24_conformance.errors import UsageError

    with pytest.raises(UsageError, match="no client harness 'js/nope'"):
        load_adapter("harness:js/nope")
    assert isinstance(load_adapter("harness:python/httpx"), HarnessAdapter)


# -- setup ----------------------------------------------------------------------------------------
def test_without_node_the_command_says_what_to_install_with_exit_2(tmp_path):
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    env = {**os.environ, "PATH": str(bare), "B24C_HARNESS_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "b24_conformance.cli", "clients", "--harness", "js/b24jssdk",
                           "-k", "cancel.draft.rejected", "--reports", str(tmp_path / "r")],
                          check=False, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "needs Node.js and npm" in done.stderr and "apt-get install -y nodejs npm" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "cache").exists()


@needs_node
def test_npm_ci_runs_once_into_the_cache(tmp_path, monkeypatch):
    from b24_conformance.clients.harness import HARNESSES, prepare

    monkeypatch.setenv("B24C_HARNESS_CACHE", str(tmp_path))
    where = prepare(HARNESSES / "js" / "bitrix2bad")
    assert where.parent == tmp_path and (where / "node_modules" / "@2bad" / "bitrix" / "package.json").is_file()
    stamp = (where / ".installed").stat().st_mtime_ns
    assert prepare(HARNESSES / "js" / "bitrix2bad") == where and (where / ".installed").stat().st_mtime_ns == stamp


def test_the_readmes_example_harness_runs(tmp_path):
    from b24_conformance import paths

    text = (paths.data_root() / "README.md").read_text(encoding="utf-8")
    section = text.split("## Gate your own client, in any language", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    folder = tmp_path / "example"
    folder.mkdir()
    (folder / "harness.py").write_text(code, encoding="utf-8")
    (folder / "harness.json").write_text(json.dumps({"command": ["{python}", "harness.py"]}), encoding="utf-8")
    spec = f"harness:{folder}"
    m = run_matrix([spec], clauses(("cancel.receipt.succeeds", "cancel.draft.rejected", "cancel.in-batch.succeeds")),
                   reports=tmp_path / "r")
    assert [(v.clause_id, v.outcome) for v in m.rows[spec].verdicts] == [
        ("cancel.receipt.succeeds", Outcome.PASS), ("cancel.draft.rejected", Outcome.PASS),
        ("cancel.in-batch.succeeds", Outcome.PASS)], [v.reason for v in m.rows[spec].verdicts]


def test_a_harness_row_refuses_cassettes_in_one_line(tmp_path, capsys):
    from b24_conformance.cli import main

    code = main(["clients", "--harness", "python/httpx", "--cassettes", str(tmp_path), "--reports", str(tmp_path / "r")])
    assert code == 2 and "cannot record or replay" in capsys.readouterr().err
