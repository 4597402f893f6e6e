"""The supplier the sandbox binds to every receipt it builds (fixtures.supplier_contact_id), and what a
run says when a target names none or a wrong one: against the reference portal, which requires a
supplier on receipts as real portals do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from b24_conformance.contract.clause import load_clauses
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings
from b24_conformance.redact import Redactor
from b24_conformance.runner import Runner, RunOptions
from b24_conformance.target.client import PortalClient
from b24_conformance.target.config import TargetConfig, single_webhook_target
from b24_conformance.target.sandbox import Sandbox
from b24_conformance.verdict import Outcome

CLAUSES = {c.id: c for c in load_clauses()}
BARE_RECEIPT = ("conduct.receipt-without-supplier.rejected", "conduct-list.receipt-without-supplier.keeps-others")


@pytest.fixture(scope="module")
def portal() -> Iterator[EmbeddedPortal]:
    with EmbeddedPortal(PortalSettings(tls=False, rate_threshold=10**6)) as started:
        yield started


def live(portal: EmbeddedPortal, **fixtures: int) -> TargetConfig:
    """The portal as a live target whose config names these fixtures and nothing else."""
    return replace(single_webhook_target(portal.webhook_url("admin")), fixtures=fixtures)


def verdicts(config: TargetConfig, ids: tuple[str, ...], tmp_path: Path) -> dict[str, tuple[Outcome, str]]:
    result = Runner(config, RunOptions(manifest_dir=tmp_path, allow_writes=True)).run([CLAUSES[i] for i in ids])
    return {v.clause_id: (v.outcome, v.reason) for v in result.verdicts}


def test_the_supplier_is_bound_right_after_each_receipt_is_added(portal: EmbeddedPortal, tmp_path: Path) -> None:
    config = live(portal, supplier_contact_id=portal.fixtures["supplier_contact_id"])
    client = PortalClient(config, Redactor())
    sandbox = Sandbox(client, config, "plan1", tmp_path)
    sandbox.open()
    try:
        commands = sandbox.plan(CLAUSES["conduct-list.receipt-without-supplier.keeps-others"]).commands
        write_off = sandbox.plan(CLAUSES["conduct.write-off.succeeds"]).commands
    finally:
        sandbox.close()
        client.close()
    keys = list(commands)
    assert keys.index("d_a_supplier") == keys.index("d_a") + 1 < keys.index("d_a_e0")
    assert commands["d_a_supplier"] == ("catalog.documentcontractor.add", {"fields": {
        "documentId": "$result[d_a][document][id]", "entityTypeId": 3, "entityId": 101}})
    assert "d_b_supplier" not in commands  # `supplier: false`
    assert "d_c_supplier" not in commands  # an adjustment (S) has none
    assert not any(k.endswith("_supplier") for k in write_off)  # nor the stock-up adjustment of an outflow


def test_every_clause_with_a_receipt_passes_on_a_live_target_naming_the_supplier(portal, tmp_path) -> None:
    ids = ("conduct.receipt.succeeds", "cancel.receipt.succeeds", *BARE_RECEIPT)
    config = live(portal, supplier_contact_id=portal.fixtures["supplier_contact_id"])
    assert {i: o for i, (o, _) in verdicts(config, ids, tmp_path).items()} == dict.fromkeys(ids, Outcome.PASS)


def test_without_the_fixture_a_bare_receipt_clause_is_skipped_with_the_reason(portal, tmp_path) -> None:
    seen = verdicts(live(portal), BARE_RECEIPT, tmp_path)
    for outcome, reason in seen.values():
        assert outcome is Outcome.SKIP
        assert reason.startswith("the target config declares no fixtures.supplier_contact_id, so the run cannot "
                                 "tell that the portal requires a supplier"), reason


@pytest.mark.parametrize("clause_id", ["conduct.already-conducted.rejected",  # set-up conducts the receipt
                                       "conduct.receipt.succeeds",  # the clause's own call conducts it
                                       "cancel.receipt.succeeds", "cancel-list.all-conducted.succeeds"])
def test_without_the_fixture_a_clause_that_conducts_a_receipt_is_skipped_never_failed(portal, tmp_path, clause_id):
    """On a portal that requires a supplier, a run whose target names none would see its receipts
    refused: an ERROR at set-up, or worse a FAIL of conduct.receipt.succeeds on a conforming portal.
    The target cannot give the precondition, so the clause is SKIP, with what to set."""
    ((outcome, reason),) = verdicts(live(portal), (clause_id,), tmp_path).values()
    assert outcome is Outcome.SKIP
    assert reason.startswith("a receipt (A) is conducted here, which real portals refuse without a supplier"), reason
    assert "--fixture supplier_contact_id=ID" in reason


def test_without_the_fixture_receipts_that_stay_drafts_still_run(portal, tmp_path) -> None:
    ids = ("element-add.receipt.adds-row", "delete.draft.succeeds", "conduct.write-off.succeeds")
    assert {i: o for i, (o, _) in verdicts(live(portal), ids, tmp_path).items()} == dict.fromkeys(ids, Outcome.PASS)


def test_a_supplier_the_portal_does_not_know_is_an_error_naming_the_fixture(portal, tmp_path) -> None:
    ((outcome, reason),) = verdicts(live(portal, supplier_contact_id=999), ("conduct.receipt.succeeds",),
                                    tmp_path).values()
    assert outcome is Outcome.ERROR
    assert reason.startswith("set-up step d_doc_supplier was refused: 0 Wrong entity id (the supplier "
                             "fixtures.supplier_contact_id=999 was refused: set fixtures.supplier_contact_id"), reason


def test_a_portal_serving_without_the_rule_fails_only_the_bare_receipt_clauses(tmp_path) -> None:
    """`portal serve --no-require-supplier` conducts a receipt without a supplier: its receipts with
    one pass, and the two clauses about a bare receipt catch it (SHOULD: the page's "e.g.")."""
    from b24_conformance.target.reference import target_for

    with EmbeddedPortal(PortalSettings(tls=False, require_contractor=False)) as relaxed:
        seen = verdicts(target_for(relaxed), ("conduct.receipt.succeeds", *BARE_RECEIPT), tmp_path)
    assert {i: o for i, (o, _) in seen.items()} == {"conduct.receipt.succeeds": Outcome.PASS,
                                                    **dict.fromkeys(BARE_RECEIPT, Outcome.FAIL)}
