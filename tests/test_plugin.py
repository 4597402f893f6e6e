"""The pytest plugin, driven through real nested pytest runs: node ids are clause ids, and each
verdict becomes pytest's pass, warning, failure or skip with the reason shown."""

import pytest

from b24_conformance.contract.clause import load_clauses
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings

SUITE = '''
from b24_conformance.plugin import assert_verdict

CLAUSE_FILE = "catalog.document.cancel.yaml"


def test_clause(b24_verdict):
    assert_verdict(b24_verdict)
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
