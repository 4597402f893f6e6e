"""Schemathesis' stateful phase walks the document life on the embedded reference portal (loopback).

The state machine comes from the OpenAPI links of `build_openapi()` (add -> element.add -> conduct -> cancel ->
delete, the *List forms, the item edits and the reads). Each step's body is generated from the request schema
with the link's values merged in, sent to the portal, and checked by schemathesis: no 5xx, the status is
documented, the body meets the operation's response schema (contract-testing-anchors.md §1.4, §1.6).

Three things a random value cannot hit are pinned before a call, the way a live run pins them with
`[parameters]`; everything else goes as generated:
- catalogue references (`elementId`, `storeFrom`, `storeTo`) are folded onto the portal's seeded products and
  warehouses: a random product id names no product, and the walk would stop at element.add;
- an item that names no warehouse gets both (from main, to second): the portal, like Bitrix, wants `storeTo`
  on A/S/M items and `storeFrom` on M/R/D ones, which the page's table leaves optional;
- an item that names no amount gets 1 (an absent amount is stored as 0, and a zero-quantity item cannot be
  conducted); a generated amount, zero or negative included, goes as generated;
- an integral float id (`1.0`, valid as a JSON Schema `integer`) is sent as `1`: Bitrix's binder refuses it
  ("Should be value of type int."), which test_schemathesis.py's fuzz phase keeps covering.
Most conducts still meet a business error (a write-off with no stock, a zero amount); what the test demands is
that the life is walked, link by link, with HTTP 200 at each step, and counted.

`B24_STATEFUL_EXAMPLES` (default 10 scenarios a round), `B24_STATEFUL_STEPS` (default 30 steps each) and
`B24_STATEFUL_ROUNDS` (default at most 10 rounds, stopping once every stage is walked) bound the run (about 5 s
a round); the `slow` sweep runs 100 scenarios of 40 steps. A mutant portal that drops the `time` block
must make the same walk fail on the response schemas, so the checks are known to bite.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any, ClassVar

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from b24_conformance.contract.openapi import LINKS, SCHEMATHESIS_CHECKS, build_openapi
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings

LIFE = ("catalog.document.add", "catalog.document.update", "catalog.document.conduct", "catalog.document.conductList",
        "catalog.document.cancel", "catalog.document.cancelList", "catalog.document.delete",
        "catalog.document.deleteList", "catalog.document.element.add", "catalog.document.element.update",
        "catalog.document.element.delete")
EXAMPLES = int(os.environ.get("B24_STATEFUL_EXAMPLES", "10"))
STEPS = int(os.environ.get("B24_STATEFUL_STEPS", "30"))
ROUNDS = int(os.environ.get("B24_STATEFUL_ROUNDS", "10"))
SEED = int(os.environ.get("B24_SCHEMATHESIS_SEED", "20251106"))

CONFIG: dict[str, Any] = {
    "seed": SEED,
    "generation": {"mode": "positive", "database": "none"},
    "checks": SCHEMATHESIS_CHECKS,
    "request-timeout": 10,
}

_PATHS = "^/(" + "|".join(name.replace(".", r"\.") for name in LIFE) + ")$"
life_schema = schemathesis.openapi.from_dict(build_openapi(), config=SchemathesisConfig.from_dict(CONFIG)).include(
    path_regex=_PATHS)

# The document life, stage by stage; each stage is walked when one of its links is followed with HTTP 200 at
# both ends (the single or the *List form of a step, or conduct after an item edit).
_ADD, _ITEM, _EDIT = "catalog.document.add", "catalog.document.element.add", "catalog.document.element.update"
_CONDUCT, _CONDUCT_LIST = "catalog.document.conduct", "catalog.document.conductList"
_CANCEL, _CANCEL_LIST = "catalog.document.cancel", "catalog.document.cancelList"
STAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "add -> element.add": ((_ADD, "AddItem"),),
    "element.add -> conduct": ((_ITEM, "ConductFilled"), (_ITEM, "ConductListFilled"), (_EDIT, "ConductEdited")),
    "conduct -> cancel": ((_CONDUCT, "CancelConducted"), (_CONDUCT, "CancelListConducted"),
                          (_CONDUCT_LIST, "CancelListConducted")),
    "cancel -> delete": ((_CANCEL, "DeleteCancelled"), (_CANCEL, "DeleteListCancelled"),
                         (_CANCEL_LIST, "DeleteListCancelled")),
    "element.add -> element.update": ((_ITEM, "UpdateItem"),),
    "element.add -> element.delete": ((_ITEM, "DeleteItem"), (_EDIT, "DeleteEdited")),
}


def transition_id(source: str, link: str) -> str:
    target = next(path for path in build_openapi()["paths"]
                  if build_openapi()["paths"][path]["post"]["operationId"] == LINKS[source][link]["operationId"])
    return f"POST /{source} -> [200] {link} -> POST {target}"


_IDS = ("id", "docId", "elementId", "storeFrom", "storeTo")


def _integral_float(value: Any) -> bool:
    return isinstance(value, float) and value.is_integer() and abs(value) < 2**53


class Walk:
    """What the machine did: every step's status, and every link followed (values applied) with its status."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.followed: Counter[str] = Counter()
        self.followed_ok: Counter[str] = Counter()
        self.scenarios = 0
        self.rounds = 0

    def summary(self) -> str:
        ok = ", ".join(f"{name.split(' -> ')[1]} {count}" for name, count in sorted(self.followed_ok.items()))
        return (f"{self.rounds} round(s), {self.scenarios} scenarios, {sum(self.statuses.values())} calls {dict(self.statuses)}, "
                f"{sum(self.followed.values())} links followed, {sum(self.followed_ok.values())} with 200: {ok}")


_Base: Any = life_schema.as_state_machine()
class LifeMachine(_Base):  # type: ignore[misc, valid-type]
    walk: ClassVar[Walk] = Walk()
    mutants: ClassVar[tuple[str, ...]] = ()  # portal/mutants.py names, for the test that the checks bite
    portal: EmbeddedPortal
    base_url: str
    products: tuple[int, ...]
    stores: tuple[int, ...]

    def setup(self) -> None:
        """A fresh portal per scenario: the same steps meet the same answers, as Hypothesis requires of a
        state machine (a shared portal's growing ids and stock would make the walk's draws inconsistent)."""
        self.walk.scenarios += 1
        self.portal = EmbeddedPortal(PortalSettings(rate_threshold=10**6, mutants=self.mutants))
        self.portal.start()
        fixtures = self.portal.fixtures
        self.base_url = self.portal.webhook_url("admin").rstrip("/")
        self.products = (fixtures["product_id"], fixtures["second_product_id"])
        self.stores = (fixtures["main_store_id"], fixtures["second_store_id"])

    def teardown(self) -> None:
        self.portal.stop()
        super().teardown()

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        return {"base_url": self.base_url}

    def before_call(self, case: schemathesis.Case) -> None:
        """Pin what a random value cannot hit (see the module docstring); everything else goes as generated."""
        if not isinstance(case.body, dict):
            return
        for key in _IDS:
            if _integral_float(case.body.get(key)):
                case.body[key] = int(case.body[key])
        fields = case.body.get("fields")
        if not isinstance(fields, dict) or not case.operation.path.startswith("/catalog.document.element."):
            return
        for key in _IDS:
            if _integral_float(fields.get(key)):
                fields[key] = int(fields[key])
        for key, pool in (("elementId", self.products), ("storeFrom", self.stores), ("storeTo", self.stores)):
            if isinstance(fields.get(key), int) and not isinstance(fields[key], bool):
                fields[key] = pool[fields[key] % len(pool)]
        if case.operation.path == "/catalog.document.element.add" and "storeFrom" not in fields \
                and "storeTo" not in fields:
            fields["storeFrom"], fields["storeTo"] = self.stores[0], self.stores[1]
        if case.operation.path == "/catalog.document.element.add":
            fields.setdefault("amount", 1)

    def after_call(self, response: Any, case: schemathesis.Case) -> None:
        super().after_call(response, case)
        self.walk.statuses[response.status_code] += 1  # before the checks run, so a failing step counts too

    def step(self, input: Any) -> Any:
        output = super().step(input)
        status = output.response.status_code
        if input.transition is not None and input.is_applied:
            self.walk.followed[input.transition.id] += 1
            if status == 200:
                self.walk.followed_ok[input.transition.id] += 1
        return output


def _run(examples: int, steps: int, mutants: tuple[str, ...] = (), *, rounds: int = 1) -> tuple[Walk, float]:
    """Up to `rounds` runs of `examples` scenarios, stopping once every stage has been walked.

    Which links a scenario follows rests on coin flips schemathesis draws from true randomness, so one run
    may miss a stage that the next one takes; the rounds bound that, and the walk counts over all of them.
    """
    LifeMachine.walk = Walk()
    LifeMachine.mutants = mutants
    started = time.perf_counter()
    for _ in range(rounds):
        LifeMachine.walk.rounds += 1
        LifeMachine.run(settings=settings(
            max_examples=examples, stateful_step_count=steps, derandomize=False, database=None, deadline=None,
            suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
            phases=[Phase.generate]))  # no shrinking: a failing walk is reported as found, with its curl
        if not _missing_stages(LifeMachine.walk):
            break
    return LifeMachine.walk, time.perf_counter() - started


def _missing_stages(walk: Walk) -> list[str]:
    return [stage for stage, links in STAGES.items()
            if not sum(walk.followed_ok[transition_id(source, link)] for source, link in links)]


def _assert_walked(walk: Walk) -> None:
    assert walk.scenarios >= 1
    assert not [status for status in walk.statuses if status >= 500], walk.summary()
    missing = _missing_stages(walk)
    assert not missing, f"the walk never took {missing} with HTTP 200: {walk.summary()}"


def test_transition_ids_name_real_links() -> None:
    """The ids the walk is judged by are the ones schemathesis builds (a typo would make the check vacuous)."""
    labels = {result.ok().label for result in life_schema.get_all_operations()}
    assert labels == {f"POST /{name}" for name in LIFE}
    for source, link in (pair for links in STAGES.values() for pair in links):
        name = transition_id(source, link)
        assert name.startswith(f"POST /{source} -> [200] {link} -> POST /catalog.document.")


def test_stateful_walks_the_document_life() -> None:
    walk, seconds = _run(EXAMPLES, STEPS, rounds=ROUNDS)
    print(f"\nstateful: {walk.summary()}; {seconds:.1f}s")
    _assert_walked(walk)


@pytest.mark.slow
def test_stateful_long_sweep() -> None:
    walk, seconds = _run(100, 40)
    print(f"\nstateful sweep: {walk.summary()}; {seconds:.1f}s")
    _assert_walked(walk)


@pytest.mark.parametrize("mutant", ["no-time-block", "result-as-string"])
def test_stateful_walk_catches_a_broken_envelope(mutant: str) -> None:
    """The same walk on a portal whose success bodies break their schemas fails on the first of them."""
    with pytest.raises(FailureGroup) as caught:
        _run(EXAMPLES, STEPS, mutants=(mutant,))
    assert {str(failure).splitlines()[0] for failure in caught.value.exceptions} == {"Response violates schema"}
    assert LifeMachine.walk.statuses[200] >= 1, "the failure came from a success body"
