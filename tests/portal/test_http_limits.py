"""The leaky bucket and the operating budget: unit tests on an injected clock, then over real HTTP."""

from __future__ import annotations

import time
from typing import Any

import httpx

from b24_conformance.contract.profile import load_profile
from b24_conformance.portal.limits import LeakyBucket, OperatingBudget

from .conftest import Api

MODE = "catalog.document.mode.status"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_bucket_refuses_once_the_level_exceeds_the_threshold() -> None:
    clock = FakeClock()
    bucket = LeakyBucket(threshold=50, drain_per_s=2, clock=clock)
    assert all(bucket.admit("ip") for _ in range(51))
    assert not bucket.admit("ip")
    assert bucket.admit("other-ip")


def test_bucket_drains_at_its_rate() -> None:
    clock = FakeClock()
    bucket = LeakyBucket(threshold=5, drain_per_s=2, clock=clock)
    for _ in range(6):
        assert bucket.admit("k")
    assert not bucket.admit("k")
    clock.now += 0.4  # drained 0.8: level 5.2 still exceeds 5
    assert not bucket.admit("k")
    clock.now += 0.2  # level 4.8
    assert bucket.admit("k")
    assert not bucket.admit("k")
    clock.now += 100
    assert bucket.level("k") == 0


def test_sustained_drain_rate_is_never_refused() -> None:
    clock = FakeClock()
    bucket = LeakyBucket(threshold=2, drain_per_s=2, clock=clock)
    for _ in range(1000):
        assert bucket.admit("k")
        clock.now += 0.5


def test_bucket_off_when_threshold_is_zero() -> None:
    bucket = LeakyBucket(threshold=0, drain_per_s=0)
    assert all(bucket.admit("k") for _ in range(1000))


def test_operating_budget_blocks_the_next_call_after_crossing() -> None:
    clock = FakeClock(600_000.0)
    budget = OperatingBudget(limit_s=10, clock=clock)
    state = budget.record("cred", "m", 6)
    assert (state.operating, state.reset_at) == (6, 600_600)
    assert not budget.blocked("cred", "m")
    clock.now += 30
    budget.record("cred", "m", 6)  # this call crosses the limit and completes
    assert budget.blocked("cred", "m")
    assert not budget.blocked("cred", "other-method")
    assert not budget.blocked("other-cred", "m")


def test_operating_baskets_expire_ten_minutes_after_their_first_call() -> None:
    clock = FakeClock(600_000.0)
    budget = OperatingBudget(limit_s=10, clock=clock)
    budget.record("c", "m", 8)  # minute 10000, first call at 600000
    clock.now += 70
    budget.record("c", "m", 5)  # minute 10001, first call at 600070
    assert budget.blocked("c", "m")
    assert budget.state("c", "m").reset_at == 600_600
    clock.now = 600_600  # the oldest basket leaves the sum
    assert not budget.blocked("c", "m")
    assert budget.state("c", "m").operating == 5
    assert budget.state("c", "m").reset_at == 600_670
    clock.now = 600_670
    assert budget.state("c", "m").operating == 0


def test_time_operating_grows_per_method_and_credential(seed_api: Api) -> None:
    first = seed_api.call("catalog.document.list", {"select": ["id"]}).json()["time"]
    second = seed_api.call("catalog.document.list", {"select": ["id"]}).json()["time"]
    assert second["operating"] >= first["operating"] > 0
    assert first["operating_reset_at"] == second["operating_reset_at"]  # the oldest basket's, unchanged


def test_batch_counts_once_for_the_rate_limit(start_portal: Any) -> None:
    portal = start_portal(rate_threshold=2, rate_drain_per_s=0.001)
    url = portal.webhook_url("burst") + "batch"
    cmd = {f"c{i}": MODE for i in range(50)}
    with httpx.Client() as client:
        answers = [client.post(url, json={"cmd": cmd}) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    http, code, text = load_profile(portal.settings.profile).render("system.query-limit")
    assert (answers[3].status_code, answers[3].json()) == (http, {"error": code, "error_description": text})


def test_rate_limit_recovers_after_draining(start_portal: Any) -> None:
    portal = start_portal(rate_threshold=1, rate_drain_per_s=20.0)
    url = portal.webhook_url("burst") + MODE
    refused, _, _ = load_profile(portal.settings.profile).render("system.query-limit")
    with httpx.Client() as client:
        codes = [client.post(url, json={}).status_code for _ in range(10)]
        assert codes[:2] == [200, 200] and refused in codes
        time.sleep(0.3)  # 20/s drains any level reached above
        assert client.post(url, json={}).status_code == 200


def test_low_operating_limit_blocks_over_http(start_portal: Any) -> None:
    portal = start_portal(operating_limit_s=1e-9)
    url = portal.webhook_url("admin") + "catalog.document.list"
    with httpx.Client() as client:
        first = client.post(url, json={"select": ["id"]})
        second = client.post(url, json={"select": ["id"]})
        other = client.post(portal.webhook_url("admin") + MODE, json={})
    assert first.status_code == 200
    assert first.json()["time"]["operating"] > 1e-9
    http, code, text = load_profile(portal.settings.profile).render("system.operation-time-limit")
    assert (second.status_code, second.json()) == (http, {"error": code, "error_description": text})
    assert other.status_code == 200


def test_an_exhausted_fixture_budget_never_recovers() -> None:
    clock = FakeClock(600_000.0)
    budget = OperatingBudget(limit_s=10, clock=clock)
    budget.exhaust("c", "m")
    assert budget.blocked("c", "m")
    clock.now += 3600
    assert budget.blocked("c", "m")
    assert budget.state("c", "m").operating == 0
    assert not budget.blocked("c", "other")
