"""Faults are ERROR or retried, never FAIL, and leave nothing behind: a reference portal posing as a
live one at the documented rate, behind a proxy that drains, breaks, stalls and resets."""

from __future__ import annotations

import httpx
import pytest

from b24_conformance import paths
from b24_conformance.contract.clause import load_clause_file
from b24_conformance.redact import Redactor
from b24_conformance.runner import Runner, RunOptions
from b24_conformance.target.cleanup import cleanup_manifest
from b24_conformance.target.client import PortalClient
from b24_conformance.target.config import load_target_config
from b24_conformance.verdict import Outcome

from .conftest import FaultyProxy, leftovers, live_portal, manifests, target_file

# The seed page's clauses: they use every transport, batch, rights role and system error the engine
# has, and a live run of them at the documented 2 requests/s takes ~20 s. Faults are the transport's
# and the client's business, not a method's: the other methods' files add pacing time, not cover.
CLAUSES = load_clause_file(paths.clauses_dir() / "catalog.document.cancel.yaml").clauses


def run_live(path, manifest_dir, **options):
    config = load_target_config(path)
    return Runner(config, RunOptions(allow_writes=True, manifest_dir=manifest_dir, **options)).run(CLAUSES)


def outcomes(result):
    counts = result.counts()
    failed = [(v.clause_id, v.reason) for v in result.verdicts if v.outcome is Outcome.FAIL]
    return counts, failed


def clean_up(path, manifest_dir):
    """`b24-conformance cleanup`, as a user would run it after a faulty run."""
    config = load_target_config(path)
    client = PortalClient(config, Redactor())
    try:
        return [cleanup_manifest(client, config.credential("admin"), p) for p in manifest_dir.glob("sandbox-*.json")]
    finally:
        client.close()


def test_two_live_runs_back_to_back_at_the_documented_rate_both_pass(tmp_path):
    with live_portal() as portal:
        path = target_file(portal, tmp_path)
        first = run_live(path, tmp_path)
        second = run_live(path, tmp_path)
        left = leftovers(portal)
    for result in (first, second):
        counts, failed = outcomes(result)
        assert failed == [] and counts["ERROR"] == 0, (counts, failed)
    assert counts["PASS"] >= 30
    assert left == {"documents": [], "stores": [], "products": []}
    assert manifests(tmp_path) == []


def test_a_bucket_another_client_drained_is_waited_out(tmp_path):
    with live_portal() as portal:
        admin = portal.webhook_url("admin")
        with httpx.Client() as other:  # another integration uses up the portal's request budget
            refused = sum(other.post(admin + "catalog.document.mode.status", json={}).status_code == 503
                          for _ in range(60))
        assert refused > 0
        result = run_live(target_file(portal, tmp_path), tmp_path)
        left = leftovers(portal)
    counts, failed = outcomes(result)
    assert failed == [] and counts["ERROR"] == 0, (counts, failed)
    assert left == {"documents": [], "stores": [], "products": []}


def every(n: int, fault: str, *, skip_first: int = 1):
    """A plan: `fault` on every n-th request (after the first `skip_first`, so the preflight passes)."""
    return lambda number, body: fault if number > skip_first and number % n == 0 else None


@pytest.mark.parametrize("plan, timeout", [
    (every(5, "502"), 30.0),
    (every(6, "html-after"), 30.0),
    (every(7, "502-after"), 30.0),
    (every(9, "stall"), 0.5),
    (every(8, "stall-after"), 0.5),
    (every(7, "reset"), 30.0),
    (every(6, "reset-after"), 30.0),
], ids=["502", "html-after-running", "502-after-running", "stall", "stall-after-running", "reset",
        "reset-after-running"])
def test_no_fault_turns_a_clause_into_fail_and_nothing_is_left(tmp_path, plan, timeout):
    with live_portal() as portal, FaultyProxy(portal.base_url, plan, stall_s=2.0) as proxy:
        path = target_file(portal, tmp_path, via=proxy, timeout=timeout)
        result = run_live(path, tmp_path)
        proxy.plan = lambda number, body: None  # the user's cleanup, once the portal is healthy again
        clean_up(path, tmp_path)
        left = leftovers(portal)
    counts, failed = outcomes(result)
    assert proxy.injected, "the plan injected no fault"
    assert failed == [], failed
    assert counts["ERROR"] > 0 or counts["PASS"] >= 30  # faults were either graded ERROR or retried away
    errors = [v.reason for v in result.verdicts if v.outcome is Outcome.ERROR]
    assert all("Traceback" not in r for r in errors)
    assert left == {"documents": [], "stores": [], "products": []}
    assert manifests(tmp_path) == []
