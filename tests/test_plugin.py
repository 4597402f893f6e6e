"""The pytest plugin, driven through real nested pytest runs: node ids are clause ids, and each
verdict becomes pytest's pass, warning, failure or skip with the reason shown."""

import pytest

from b24_conformance import paths
from b24_conformance.contract.clause import load_clause_file
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings

SEED_IDS = [c.id for c in load_clause_file(paths.clauses_dir() / "catalog.document.cancel.yaml").clauses]


def load_clauses():  # the clauses this suite collects: the seed file's (other methods have their own files)
    return SEED_IDS


SUITE = '''
from b24_conformance.plugin import assert_verdict

CLAUSE_FILE = "catalog.document.cancel.yaml"


def test_clause(b24_verdict, b24_runner):
    assert_verdict(b24_verdict, strict=b24_runner.options.strict)
'''


@pytest.fixture
def suite(pytester):
    pytester.makepyfile(test_cancel=SUITE)
    return pytester


def test_node_ids_are_clause_ids(suite):
    result = suite.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["test_cancel.py::test_clause[[]cancel.receipt.succeeds[]]",
                                 "test_cancel.py::test_clause[[]cancel.concurrent.reverts-once[]]"])
    result.stdout.fnmatch_lines([f"{len(load_clauses())} tests collected*"])


def test_clean_portal_passes_and_reports_are_written(suite, tmp_path):
    result = suite.runpytest("-k", "draft or receipt", "--b24-reports", str(tmp_path / "r"))
    result.assert_outcomes(passed=3)
    assert {p.name for p in (tmp_path / "r").iterdir()} == {"report.jsonl", "junit.xml", "report.json", "report.html"}
    from b24_conformance.report.stream import read_stream
    streamed = read_stream(tmp_path / "r" / "report.jsonl")
    assert streamed.complete and len(streamed.verdicts) == 3


def test_another_profiles_wording_is_a_warning_not_a_failure(suite):
    result = suite.runpytest("-k", "draft.rejected", "--b24-portal-profile", "docs-en")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*NonStrictWarning*matches profile docs-en*"])


def test_a_broken_portal_fails_with_expected_vs_observed(suite):
    result = suite.runpytest("-k", "draft.rejected", "--b24-mutant", "cancel-draft-accepted")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*cancel.draft.rejected [[]MUST[]] FAIL*", "*DIFF http: expected 400, observed 200*",
                                 "*reproduce: curl*REDACTED*"])


def test_a_live_portal_without_allow_writes_skips_with_the_reason(suite):
    with EmbeddedPortal(PortalSettings(tls=False)) as portal:
        result = suite.runpytest("-rs", "-k", "receipt or wrong-webhook", "--b24-webhook", portal.webhook_url("admin"))
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*pass --b24-allow-writes*"])


COMMITTED = str(__import__("b24_conformance.paths", fromlist=["x"]).data_root() / "cassettes" / "catalog.document.cancel")


def test_the_plugin_replays_cassettes_with_the_verdicts_run_gives(suite, tmp_path):
    from b24_conformance.cli import main
    from b24_conformance.report.jsonreport import load_json

    result = suite.runpytest("--b24-cassettes", COMMITTED, "--b24-reports", str(tmp_path / "pytest"))
    result.assert_outcomes(passed=len(load_clauses()))
    assert main(["run", "-q", "--cassettes", COMMITTED, "--reports", str(tmp_path / "cli"),
                 *(a for i in SEED_IDS for a in ("-k", i))]) == 0
    by_pytest = {v.clause_id: v.outcome for v in load_json(tmp_path / "pytest" / "report.json").verdicts}
    by_cli = {v.clause_id: v.outcome for v in load_json(tmp_path / "cli" / "report.json").verdicts}
    assert by_pytest == by_cli and len(by_cli) == len(load_clauses())


def test_rewrite_records_and_none_replays_with_the_network_blocked(suite, tmp_path):
    folder = str(tmp_path / "cassettes")
    recorded = suite.runpytest("-k", "draft.rejected or receipt", "--b24-cassettes", folder, "--b24-record-mode", "rewrite")
    recorded.assert_outcomes(passed=2)
    assert (tmp_path / "cassettes" / "cancel.draft.rejected.yaml").is_file()
    assert (tmp_path / "cassettes" / "_recording.json").is_file()
    replayed = suite.runpytest("-k", "draft.rejected or receipt", "--b24-cassettes", folder)
    replayed.assert_outcomes(passed=2)
    missing = suite.runpytest("-k", "already-cancelled", "--b24-cassettes", folder)
    missing.assert_outcomes(errors=1)
    missing.stdout.fnmatch_lines(["*no cassette cancel.already-cancelled.rejected.yaml*"])


def test_an_oauth_only_live_target_through_the_plugin(suite):
    # the receipt's supplier comes from --b24-fixture, as a live portal's would without a target config
    with EmbeddedPortal(PortalSettings(tls=False)) as portal:
        token = next(c.secret for c in portal.credentials if c.label == "admin-oauth")
        supplier = f"supplier_contact_id={portal.fixtures['supplier_contact_id']}"
        result = suite.runpytest("-k", "oauth-body or wrong-webhook", "--b24-oauth-token", token,
                                 "--b24-oauth-endpoint", portal.base_url + "/rest/", "--b24-allow-writes",
                                 "--b24-fixture", supplier, "-rs")
    result.assert_outcomes(passed=1, skipped=1)  # the webhook-only clause has no webhook to derive from


def test_network_is_blocked_while_replaying():
    import httpx

    from b24_conformance.target.cassette import NetworkBlocked, block_network

    with EmbeddedPortal(PortalSettings(tls=False)) as portal:
        with block_network(), pytest.raises(httpx.ConnectError, match="network blocked during replay"):
            httpx.get(portal.base_url + "/health")
        assert httpx.get(portal.base_url + "/health").status_code == 200  # and open again afterwards
    assert issubclass(NetworkBlocked, OSError)


def test_the_plugin_grades_against_a_baseline_and_strictness(suite, tmp_path, capsys):
    from b24_conformance.cli import main

    assert main(["run", "-q", "--mutant", "cancel-sets-draft", "-k", "cancel.receipt.*",
                 "--reports", str(tmp_path / "r")]) == 1
    capsys.readouterr()
    main(["baseline", str(tmp_path / "r")])
    (tmp_path / "b.yaml").write_text(capsys.readouterr().out)
    known = suite.runpytest("-k", "receipt", "--b24-mutant", "cancel-sets-draft", "--b24-baseline", str(tmp_path / "b.yaml"))
    known.assert_outcomes(xfailed=1)
    should = suite.runpytest("-k", "method-case", "--b24-mutant", "case-sensitive-methods")
    should.assert_outcomes(passed=1, warnings=1)  # a SHOULD clause's FAIL is a warning ...
    strict = suite.runpytest("-k", "method-case", "--b24-mutant", "case-sensitive-methods", "--b24-strict")
    strict.assert_outcomes(failed=1)  # ... and fails the session with --b24-strict


USER_TESTS = '''
import httpx

def test_my_integration_cancels_a_conducted_document(b24_portal):
    with httpx.Client(verify=b24_portal.ca_path) as http:
        answer = http.post(b24_portal.webhook_url("admin", tls=True) + "catalog.document.cancel", json={"id": 142})
    assert answer.json()["result"] is True

def test_my_integration_copes_with_a_portal_without_time(b24_portal_factory):
    portal = b24_portal_factory(mutants=("no-time-block",))
    body = httpx.post(portal.webhook_url("admin") + "catalog.document.mode.status", json={}).json()
    assert "time" not in body and body["result"] == "Y"  # mode.status answers Y or N
'''


def test_the_reference_portal_is_a_fixture_for_users_own_tests(pytester):
    pytester.makepyfile(test_mine=USER_TESTS)
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=2)


ALL_FILES = SUITE.replace('CLAUSE_FILE = "catalog.document.cancel.yaml"', 'CLAUSE_FILE = "*.yaml"')


def test_each_method_has_a_mark_that_strict_markers_accepts(pytester):
    from b24_conformance.contract.clause import load_clauses as every_clause

    pytester.makepyfile(test_family=ALL_FILES)
    result = pytester.runpytest("--strict-markers", "--collect-only", "-q", "-m", "catalog_document_conductList")
    wanted = [c.id for c in every_clause() if "catalog.document.conductList" in c.methods]
    assert wanted and result.ret == 0
    result.stdout.fnmatch_lines([f"{len(wanted)}/{len(every_clause())} tests collected*"])
    assert all(f"test_clause[{cid}]" in result.stdout.str() for cid in wanted)
    assert "cancel.receipt.succeeds" not in result.stdout.str()
