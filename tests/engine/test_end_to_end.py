"""The suite end to end against the reference portal, over real HTTP(S) on loopback."""

from dataclasses import replace
from pathlib import Path

import pytest

from b24_conformance.contract.clause import load_clauses
from b24_conformance.contract.profile import load_all_profiles
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.report import write_reports
from b24_conformance.runner import Runner, RunOptions
from b24_conformance.target.config import single_webhook_target
from b24_conformance.target.reference import reference_settings, target_for
from b24_conformance.verdict import Outcome

CLAUSES = load_clauses()
STRING_CLAUSES = {"cancel.draft.rejected", "cancel.already-cancelled.rejected", "cancel.no-store-right.rejected",
                  "cancel.in-batch-draft.reported", "cancel.in-batch-halt.stops", "cancel.concurrent.reverts-once",
                  "cancel.write-off-store-right.rejected", "cancel.adjustment-store-right.rejected",
                  "cancel.return-store-right.rejected", "cancel.transfer-source-store-right.rejected",
                  "cancel.transfer-destination-store-right.rejected"}


def run(portal_profile="seed", profile="seed", profiles=None, tmp_path=None, **options):
    with EmbeddedPortal(reference_settings(portal_profile)) as portal:
        config = target_for(portal)
        runner = Runner(config, RunOptions(profile=profile, manifest_dir=tmp_path or Path(".b24-conformance"),
                                           **options), profiles)
        result = runner.run(CLAUSES)
        secrets = {c.secret for c in portal.credentials}
    return result, secrets


def with_supplier(config, portal):
    """A live target as its user configures it: with the supplier contact its receipts need
    (suites/targets/example-live.yaml, fixtures.supplier_contact_id)."""
    return replace(config, fixtures={"supplier_contact_id": portal.fixtures["supplier_contact_id"]})


def test_every_clause_passes_against_the_reference_portal(tmp_path):
    result, secrets = run(tmp_path=tmp_path)
    bad = [(v.clause_id, v.outcome.value, v.reason) for v in result.verdicts if v.outcome is not Outcome.PASS]
    assert bad == []
    assert result.exit_code == 0
    assert 100 < result.request_count < 600
    assert not list(tmp_path.glob("sandbox-*.json")), "the sandbox left a manifest behind"
    # nothing written to disk carries a webhook code or token
    written = write_reports(result, tmp_path / "reports", secrets=secrets)
    for path in written.values():
        text = path.read_text(encoding="utf-8")
        assert not any(s in text for s in secrets), path


def test_newer_doc_wording_is_non_strict_not_fail(tmp_path):
    result, _ = run(portal_profile="docs-en", tmp_path=tmp_path)
    outcomes = {v.clause_id: v for v in result.verdicts}
    assert {cid for cid, v in outcomes.items() if v.outcome is Outcome.NON_STRICT} == STRING_CLAUSES
    assert all(outcomes[cid].matched_profile == "docs-en" for cid in STRING_CLAUSES)
    assert all(v.outcome is Outcome.PASS for cid, v in outcomes.items() if cid not in STRING_CLAUSES)
    assert result.exit_code == 0


def test_wording_from_no_known_profile_fails_the_gate(tmp_path):
    only_seed = {"seed": load_all_profiles()["seed"]}
    result, _ = run(portal_profile="docs-ru", profiles=only_seed, tmp_path=tmp_path)
    failed = {v.clause_id for v in result.verdicts if v.outcome is Outcome.FAIL}
    assert STRING_CLAUSES <= failed
    assert result.exit_code == 1


def test_a_live_target_without_allow_writes_skips_what_would_write(tmp_path):
    with EmbeddedPortal(reference_settings("seed", tls=False)) as portal:
        config = single_webhook_target(portal.webhook_url("admin"))
        result = Runner(config, RunOptions(manifest_dir=tmp_path)).run(CLAUSES)
    by_id = {v.clause_id: v for v in result.verdicts}
    assert by_id["cancel.receipt.succeeds"].outcome is Outcome.SKIP
    assert "--allow-writes" in by_id["cancel.receipt.succeeds"].reason
    assert by_id["cancel.rate-limit.rejected"].outcome is Outcome.SKIP
    assert "--allow-burst" in by_id["cancel.rate-limit.rejected"].reason
    assert by_id["cancel.no-cancel-right.rejected"].outcome is Outcome.SKIP
    assert by_id["cancel.wrong-webhook-code.rejected"].outcome is Outcome.PASS
    assert result.exit_code == 0


def test_a_live_target_with_allow_writes_builds_and_removes_its_sandbox(tmp_path):
    with EmbeddedPortal(reference_settings("seed", tls=False)) as portal:
        config = with_supplier(single_webhook_target(portal.webhook_url("admin")), portal)
        chosen = [c for c in CLAUSES if c.id in ("cancel.transfer.succeeds", "cancel-list.partial-failure.keeps-successes")]
        result = Runner(config, RunOptions(manifest_dir=tmp_path, allow_writes=True)).run(chosen)
        import httpx
        docs = httpx.post(portal.webhook_url("admin") + "catalog.document.list",
                          json={"filter": {"%title": "b24c "}}).json()
    assert [v.outcome for v in result.verdicts] == [Outcome.PASS, Outcome.PASS]
    assert docs["result"]["documents"] == [], "the sandbox left documents behind"
    assert not list(tmp_path.glob("sandbox-*.json"))


@pytest.mark.parametrize("clause_id", ["cancel.receipt.succeeds"])
def test_verdicts_carry_a_redacted_reproduction(tmp_path, clause_id):
    result, secrets = run(tmp_path=tmp_path)
    verdict = next(v for v in result.verdicts if v.clause_id == clause_id)
    assert verdict.reproduction.startswith("curl -X POST")
    assert "REDACTED" in verdict.reproduction and not any(s in verdict.reproduction for s in secrets)
    assert verdict.exchanges


@pytest.mark.parametrize("profile", ["seed", "docs-en", "docs-ru", "server-en", "server-ru"])
def test_a_portal_speaking_a_profile_passes_when_graded_by_it(profile, tmp_path):
    """Every cancel error string, system error and side effect, in every profile, over real HTTPS."""
    result, _ = run(portal_profile=profile, profile=profile, tmp_path=tmp_path)
    bad = [(v.clause_id, v.outcome.value, v.reason) for v in result.verdicts if v.outcome is not Outcome.PASS]
    assert bad == []


def test_a_live_target_reached_by_oauth_token_only(tmp_path):
    from b24_conformance.target.config import oauth_only_target

    with EmbeddedPortal(reference_settings("seed", tls=False)) as portal:
        config = with_supplier(oauth_only_target(portal.oauth_url(), portal.credential("admin-oauth").secret), portal)
        chosen = [c for c in CLAUSES if c.id in ("cancel.receipt.succeeds", "cancel.oauth-query.succeeds",
                                                 "cancel.draft.rejected", "cancel.no-cancel-right.rejected")]
        result = Runner(config, RunOptions(manifest_dir=tmp_path, allow_writes=True)).run(chosen)
    outcomes = {v.clause_id: v.outcome for v in result.verdicts}
    assert outcomes == {"cancel.receipt.succeeds": Outcome.PASS, "cancel.oauth-query.succeeds": Outcome.PASS,
                        "cancel.draft.rejected": Outcome.PASS, "cancel.no-cancel-right.rejected": Outcome.SKIP}


def test_a_self_hosted_portal_without_operating_keys_passes(tmp_path):
    """The variant on-prem portals send (no `time.operating`, limits.md) is conformant."""
    with EmbeddedPortal(reference_settings("seed", on_prem=True)) as portal:
        result = Runner(target_for(portal), RunOptions(manifest_dir=tmp_path)).run(CLAUSES)
    assert [(v.clause_id, v.reason) for v in result.verdicts if v.outcome is not Outcome.PASS] == []
    bodies = [e.response_body for v in result.verdicts for e in v.exchanges if e.phase == "call"]
    assert bodies and not any('"operating' in b for b in bodies)
