"""Client-side pacing and retries, and removing what an interrupted live run left behind."""

import json
from dataclasses import replace

import httpx

from b24_conformance.cli import main
from b24_conformance.contract.clause import load_clauses
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings
from b24_conformance.redact import Redactor
from b24_conformance.target.client import PortalClient
from b24_conformance.target.config import RateLimit, single_webhook_target
from b24_conformance.target.ratelimit import LeakyBucket, RetryPolicy
from b24_conformance.target.sandbox import Sandbox


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_lets_a_burst_through_then_paces_at_the_drain_rate():
    clock = FakeClock()
    bucket = LeakyBucket(threshold=50, drain_per_s=2.0, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(60)]
    assert waits[:49] == [0.0] * 49          # one slot of headroom below the portal's threshold
    assert all(abs(w - 0.5) < 1e-9 for w in waits[49:])  # then one request per 1/Y seconds
    clock.now += 100                          # a long pause drains the bucket
    assert bucket.acquire() == 0.0


def test_operating_limit_retry_waits_for_the_reset_time():
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=30)
    assert policy.delay(1) == 0.5 and policy.delay(3) == 2.0
    assert abs(policy.delay(1, reset_at=1010.0, now=1000.0) - 10.1) < 1e-9
    assert policy.delay(1, reset_at=5000.0, now=1000.0) == 30


def test_query_limit_refusals_are_retried_until_the_bucket_drains():
    settings = PortalSettings(tls=False, rate_threshold=3, rate_drain_per_s=20.0)
    with EmbeddedPortal(settings) as portal:
        config = single_webhook_target(portal.webhook_url("admin"))
        # a client that does not pace itself, so the portal's own bucket has to refuse
        no_pacing = replace(config, rate=RateLimit(threshold=10**6, drain_per_s=1e6))
        unpaced = PortalClient(no_pacing, Redactor(), retry=RetryPolicy(attempts=8, base_delay_s=0.05))
        admin = config.credential("admin")
        statuses = [unpaced.call(admin, "catalog.document.mode.status", {}).reply.status for _ in range(12)]
        refused = [e.status for e in unpaced.exchanges].count(503)
        unpaced.close()
    assert statuses == [200] * 12      # every call ended in success ...
    assert refused > 0                  # ... after the portal had refused some of them


def test_cleanup_removes_what_an_interrupted_run_left(tmp_path, capsys):
    clause = next(c for c in load_clauses() if c.id == "cancel-list.all-conducted.succeeds")
    with EmbeddedPortal(PortalSettings(tls=False)) as portal:
        webhook = portal.webhook_url("admin")
        # a live target's config names the supplier its receipts need (suites/targets/example-live.yaml)
        config = replace(single_webhook_target(webhook), fixtures={"supplier_contact_id": portal.fixtures["supplier_contact_id"]})
        client = PortalClient(config, Redactor())
        sandbox = Sandbox(client, config, "cut0ff", tmp_path)
        sandbox.open()
        sandbox.prepare([clause])      # ... and the run dies here: no cleanup, no close
        client.close()
        manifest = json.loads((tmp_path / "sandbox-cut0ff.json").read_text())
        assert manifest["documents"] and manifest["products"] and len(manifest["stores"]) == 2
        assert main(["cleanup", "--webhook", webhook, "--manifest-dir", str(tmp_path)]) == 0
        left = httpx.post(webhook + "catalog.document.list", json={"filter": {"%title": "b24c cut0ff"}}).json()
        stores = httpx.post(webhook + "catalog.store.list", json={}).json()["result"]["stores"]
    assert left["result"]["documents"] == []
    assert not any("cut0ff" in s["title"] for s in stores)
    assert not (tmp_path / "sandbox-cut0ff.json").exists()
    out = capsys.readouterr().out
    assert "sandbox-cut0ff.json: removed 3 documents, 2 products, 2 stores" in out
    assert webhook.split("/")[-2] not in out  # the webhook code is never printed


def test_oversized_set_up_is_cut_in_order_and_refused_only_for_a_forward_reference():
    from b24_conformance.target.sandbox import chunks

    series = {f"d{n}": ("catalog.document.add", {"fields": {"title": f"t{n}"}}) for n in range(52)}
    parts = chunks(series, 50)
    assert [len(p) for p in parts] == [50, 2] and list(parts[1]) == ["d50", "d51"]
    # a reference into an earlier batch is fine: it is filled in from that batch's answer
    linked = dict(series) | {"e": ("catalog.document.element.add", {"fields": {"docId": "$result[d0][document][id]"}})}
    assert [list(p)[-1] for p in chunks(linked, 50)] == ["d49", "e"]
    forward = {"e": ("catalog.document.element.add", {"fields": {"docId": "$result[d0][document][id]"}})} | series
    assert chunks(forward, 50) is None


def test_a_reference_into_an_earlier_batch_is_filled_from_its_answer():
    from b24_conformance.target.sandbox import _answered

    earlier = {"d0": {"document": {"id": 7}}, "p": {"element": {"id": 9}}}
    params = {"fields": {"docId": "$result[d0][document][id]", "elementId": "$result[p][element][id]",
                         "storeTo": "$result[d9][document][id]", "title": "x $result[d0][document][id]"},
              "ids": ["$result[d0][document][id]"]}
    assert _answered(params, earlier) == {
        "fields": {"docId": 7, "elementId": 9,
                   "storeTo": "$result[d9][document][id]",  # not answered yet (or failed): left to the portal
                   "title": "x $result[d0][document][id]"},  # only a whole value is a reference
        "ids": [7]}


def test_the_sandbox_bookkeeping_has_a_bucket_of_its_own_on_the_embedded_portal(tmp_path):
    """On loopback the suite sends its set-up, observation and clean-up batches from an address of
    their own (the portal keeps a bucket per address, as Bitrix does): a clause that sends 4
    bookkeeping batches and 1 call of its own never waits on a pacer whose buckets hold 4 requests
    each; from one address the fifth request would wait for the bucket to drain."""
    from b24_conformance.runner import Runner, RunOptions
    from b24_conformance.target.reference import reference_settings, target_for

    clause = next(c for c in load_clauses() if c.id == "cancel.receipt.succeeds")
    with EmbeddedPortal(replace(reference_settings(), rate_threshold=5, rate_drain_per_s=1.0)) as portal:
        config = target_for(portal)
        assert config.sandbox_address and config.sandbox_address != config.source_address
        runner = Runner(config, RunOptions(manifest_dir=tmp_path))
        result = runner.run([clause])
        client = runner.engine.client
        waited, sent = client.bucket.waited_s + client._sandbox_bucket.waited_s, client.request_count
    assert [(v.clause_id, v.outcome.name) for v in result.verdicts] == [(clause.id, "PASS")], result.verdicts[0].reason
    assert sent == 5 and waited == 0  # open, set-up, the cancel, observe and clean up, close
