"""The self-test's plumbing: one portal serves mutant after mutant (a fresh app each time), mutants
spread over worker processes give the same verdicts as one after another, and the report measures
itself against a clean run."""

import ssl

import httpx
import pytest

from b24_conformance.contract.clause import load_clauses
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.selftest import check_mutants, render_mutants, run_mutant
from b24_conformance.target.reference import reference_settings

CLAUSES = {c.id: c for c in load_clauses()}


def test_reset_swaps_in_a_fresh_portal_on_the_same_listeners():
    with EmbeddedPortal(reference_settings("seed")) as portal:
        ctx = ssl.create_default_context(cafile=portal.ca_path)
        base, old = portal.tls_base_url, portal.webhook_url("admin")
        assert httpx.get(old + "catalog.document.mode.status", verify=ctx).status_code == 200
        portal.reset(reference_settings("seed", mutants=("no-get",)))
        new = portal.webhook_url("admin")
        assert portal.tls_base_url == base and new != old  # same listener, new seed (new codes)
        assert httpx.get(new + "catalog.document.mode.status", verify=ctx).status_code == 405
        assert httpx.post(old + "catalog.document.mode.status", verify=ctx).status_code == 401
        portal.reset(reference_settings("seed"))
        again = portal.webhook_url("admin")
        assert httpx.get(again + "catalog.document.mode.status", verify=ctx).status_code == 200


def test_reset_refuses_to_change_the_listeners():
    with EmbeddedPortal(reference_settings("seed")) as portal, pytest.raises(ValueError, match="tls"):
        portal.reset(reference_settings("seed", tls=False))


def test_a_shared_portal_judges_a_mutant_as_its_own_portal_does(tmp_path):
    clauses = [CLAUSES[c] for c in ("cancel.receipt.succeeds", "cancel.no-cancel-right.rejected")]
    with EmbeddedPortal(reference_settings("seed")) as portal:
        shared = [run_mutant(m, clauses, tmp_path, portal) for m in ("ignore-cancel-right", "cancel-keeps-balances")]
    own = [run_mutant(m, clauses, tmp_path) for m in ("ignore-cancel-right", "cancel-keeps-balances")]
    assert shared == own
    assert [r.killed_by for r in own] == [("cancel.no-cancel-right.rejected",), ("cancel.receipt.succeeds",)]


def test_workers_give_the_verdicts_of_one_process_and_the_report_times_itself():
    names = ("ignore-cancel-right", "no-get")
    two = check_mutants(names, jobs=2)
    one = check_mutants(names, jobs=1)
    assert two.mutants == one.mutants and two.all_killed and two.jobs == 2 and one.jobs == 1
    assert two.clean_failures == () and two.clean_s > 0 and two.wall_s > 0
    text = render_mutants(two)
    assert "2/2 mutants killed" in text and "on 2 worker(s)" in text and "one clean run" in text
