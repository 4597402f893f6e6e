"""Grading is pure: hand-built raw observations in, verdicts out, with no portal anywhere."""

import json

import pytest

from b24_conformance import paths
from b24_conformance.contract.clause import load_clauses
from b24_conformance.contract.profile import load_all_profiles
from b24_conformance.grading import (
    CHECKS,
    balance_modes,
    balances_are,
    describe_balances,
    judge,
    same_json,
)
from b24_conformance.observation import BalanceReading, Exchange, Observation, Reply
from b24_conformance.verdict import Outcome

CLAUSES = {c.id: c for c in load_clauses()}
PROFILES = load_all_profiles()
TIME = {"start": 1, "finish": 1.5, "duration": 0.5, "processing": 0,
        "date_start": "2025-11-06T09:37:54+03:00", "date_finish": "2025-11-06T09:37:54+03:00"}
OK = Reply(status=200, body={"result": True, "time": TIME})


def reading(document="doc", product="p1", store="main", *, moved, before_conduct, before_call, after):
    return BalanceReading(document=document, product=product, store=store, moved=moved,
                          before_conduct=before_conduct, before_call=before_call, after=after)


def reverted(document="doc", product="p1", store="main", moved=5.0):
    """The amounts of a receipt of `moved` that was conducted on an empty warehouse, then cancelled."""
    return reading(document, product, store, moved=moved, before_conduct=0.0, before_call=moved, after=0.0)


def observe(clause_id, *replies, statuses=None, balances=(), references=None, **facts):
    return Observation(clause_id=clause_id, replies=replies, statuses=statuses or {}, balances=tuple(balances),
                       references=references or {}, **facts)


def error_reply(profile, key, **params):
    http, error, text = PROFILES[profile].render(key, **params)
    return Reply(status=http, body={"error": error, "error_description": text})


def grade(clause_id, observation, selected="seed", profiles=PROFILES):
    return judge(CLAUSES[clause_id], observation, profiles, selected)


# -- balance arithmetic, fed real numbers ----------------------------------------------------------
def test_a_cancelled_receipt_is_reverted_and_nothing_else():
    assert balance_modes(reverted(moved=5)) == ("reverted",)


def test_an_untouched_conducted_receipt_is_unchanged_and_applied():
    r = reading(moved=5, before_conduct=2, before_call=7, after=7)
    assert balance_modes(r) == ("unchanged", "applied")


def test_an_outflow_reverts_upwards():
    r = reading(moved=-3, before_conduct=10, before_call=7, after=10)
    assert balance_modes(r) == ("reverted",)


def test_a_half_reverted_amount_is_no_mode():
    assert balance_modes(reading(moved=4, before_conduct=0, before_call=4, after=2)) == ()


def test_float_noise_is_tolerated_but_a_real_difference_is_not():
    assert balance_modes(reading(moved=0.1, before_conduct=0.2, before_call=0.3, after=0.1 + 0.1)) == ("reverted",)
    assert balance_modes(reading(moved=0.1, before_conduct=0.2, before_call=0.3, after=0.2001)) == ()


def test_every_reading_of_a_document_must_be_in_the_mode():
    readings = [reverted(product="p1"), reading(product="p2", moved=1, before_conduct=0, before_call=1, after=1)]
    assert not balances_are("reverted", readings)
    assert balances_are("reverted", readings[:1])
    described = describe_balances(readings)
    assert described["matches"] == ["none"]
    assert described["amounts"]["p2@main"] == {"before_conduct": 0, "before_call": 1, "now": 1, "moved": 1}


# -- one observation of each kind ------------------------------------------------------------------
def test_json_equality_tells_booleans_from_numbers():
    assert same_json(True, True) and not same_json(True, 1) and not same_json(1, True)
    assert same_json({"a": [1, 2.0]}, {"a": [1, 2]})
    assert not same_json({"a": 1}, {"a": 1, "b": 2})


def test_documented_error_passes_under_its_own_profile():
    verdict = grade("cancel.missing-document.rejected",
                    observe("cancel.missing-document.rejected", error_reply("seed", "cancel.not-found")))
    assert verdict.outcome is Outcome.PASS and verdict.reason == ""


def test_another_profiles_wording_is_non_strict_and_names_it():
    verdict = grade("cancel.missing-document.rejected",
                    observe("cancel.missing-document.rejected", error_reply("server-ru", "cancel.not-found")))
    assert verdict.outcome is Outcome.NON_STRICT
    assert verdict.matched_profile in ("server-ru", "docs-ru")
    assert verdict.reason.startswith(f"matches profile {verdict.matched_profile}, not seed (error_description:")


def test_unknown_wording_fails_with_the_field_named_in_json():
    reply = error_reply("seed", "cancel.not-found")
    reply.body["error_description"] = "Something else entirely"
    verdict = grade("cancel.missing-document.rejected", observe("cancel.missing-document.rejected", reply))
    assert verdict.outcome is Outcome.FAIL
    assert [f.field for f in verdict.mismatches] == ["error_description"]
    assert verdict.reason == ('error_description: expected "Insufficient permissions to save the document", '
                              'got "Something else entirely"')


def test_the_right_text_with_the_wrong_status_fails_on_http():
    reply = error_reply("seed", "cancel.not-found")
    verdict = grade("cancel.missing-document.rejected",
                    observe("cancel.missing-document.rejected", Reply(status=200, body=reply.body)))
    assert verdict.outcome is Outcome.FAIL and verdict.fields[0].field == "http"
    assert verdict.reason == "http: expected 400, got 200"


def test_result_true_must_be_a_real_boolean_with_a_time_block():
    cid = "cancel.receipt.succeeds"
    balances = [reverted("doc", "p1", "main", 5), reverted("doc", "p2", "second", 3)]
    assert grade(cid, observe(cid, OK, statuses={"doc": "C"}, balances=balances)).outcome is Outcome.PASS
    for body in ({"result": "true", "time": TIME}, {"result": 1, "time": TIME}, {"result": True}):
        verdict = grade(cid, observe(cid, Reply(status=200, body=body), statuses={"doc": "C"}, balances=balances))
        assert verdict.outcome is Outcome.FAIL, body


def test_statuses_read_back_are_checked():
    cid = "cancel.receipt.succeeds"
    balances = [reverted("doc", "p1", "main", 5), reverted("doc", "p2", "second", 3)]
    for status, field in (("N", "after.status.doc"), (None, "after.status.doc")):
        verdict = grade(cid, observe(cid, OK, statuses={"doc": status}, balances=balances))
        assert verdict.outcome is Outcome.FAIL and verdict.mismatches[0].field == field
    missing = grade(cid, observe(cid, OK, statuses={}, balances=balances))
    assert missing.reason == 'after.status.doc: expected "C", got "<missing>"'


def test_balances_that_did_not_move_back_fail_with_the_amounts():
    cid = "cancel.receipt.succeeds"
    kept = [reading("doc", "p1", "main", moved=5, before_conduct=0, before_call=5, after=5),
            reverted("doc", "p2", "second", 3)]
    verdict = grade(cid, observe(cid, OK, statuses={"doc": "C"}, balances=kept))
    assert verdict.outcome is Outcome.FAIL
    mismatch = verdict.mismatches[0]
    assert mismatch.field == "after.balances.doc"
    assert mismatch.observed["amounts"]["p1@main"] == {"before_conduct": 0, "before_call": 5, "now": 5, "moved": 5}


def test_batch_results_errors_and_absent_keys():
    cid = "cancel.in-batch-halt.stops"
    err = error_reply("seed", "cancel.not-conducted").body
    unchanged = [reading("draft", "p1", moved=1, before_conduct=0, before_call=0, after=0),
                 reading("doc", "p2", moved=1, before_conduct=0, before_call=1, after=1)]
    body = {"result": {"result": {}, "result_error": {"a": err}, "result_total": [], "result_next": [],
                       "result_time": {}}, "time": TIME}
    good = observe(cid, Reply(status=200, body=body), statuses={"draft": "N", "doc": "Y"}, balances=unchanged)
    assert grade(cid, good).outcome is Outcome.PASS
    ran_on = {**body, "result": {**body["result"], "result": {"b": True}}}
    bad = observe(cid, Reply(status=200, body=ran_on), statuses={"draft": "N", "doc": "Y"}, balances=unchanged)
    verdict = grade(cid, bad)
    assert verdict.outcome is Outcome.FAIL and verdict.mismatches[0].field == "batch.b"


def test_a_list_error_renders_the_documents_title_from_the_references():
    cid = "cancel-list.partial-failure.keeps-successes"
    refs = {"$a.id": 1, "$a.title": "b24c run a", "$b.id": 2, "$b.title": "b24c run b"}
    reply = error_reply("seed", "cancel-list.not-conducted", title="b24c run b")
    balances = [reverted("a"), reading("b", moved=2, before_conduct=0, before_call=0, after=0)]
    obs = observe(cid, reply, statuses={"a": "C", "b": "N"}, balances=balances, references=refs)
    assert grade(cid, obs).outcome is Outcome.PASS
    other = observe(cid, reply, statuses={"a": "C", "b": "N"}, balances=balances,
                    references={**refs, "$b.title": "someone else's"})
    assert grade(cid, other).outcome is Outcome.FAIL


def test_concurrent_replies_match_in_any_order():
    cid = "cancel.concurrent.reverts-once"
    refused = error_reply("seed", "cancel.not-conducted")
    outflow = [reading(moved=-3, before_conduct=3, before_call=0, after=3)]
    for replies in ((OK, refused), (refused, OK)):
        assert grade(cid, observe(cid, *replies, statuses={"doc": "C"}, balances=outflow)).outcome is Outcome.PASS
    both = grade(cid, observe(cid, OK, OK, statuses={"doc": "C"}, balances=outflow))
    assert both.outcome is Outcome.FAIL
    one = grade(cid, observe(cid, OK, statuses={"doc": "C"}, balances=outflow))
    assert one.reason == "responses: expected 2, got 1"


def test_a_fault_is_error_and_an_unavailable_precondition_is_skip_never_fail():
    cid = "cancel.receipt.succeeds"
    wire = (Exchange(method="POST", url="https://portal.example/rest/1/REDACTED/batch", fault="ReadTimeout",
                     phase="setup"),)
    fault = grade(cid, observe(cid, fault="POST …/batch: ReadTimeout: timed out", exchanges=wire))
    assert fault.outcome is Outcome.ERROR and fault.reason.endswith("timed out") and fault.exchanges == wire
    assert not fault.gating_failure
    skip = grade(cid, observe(cid, unavailable="the target provides no credential for role 'x'"))
    assert skip.outcome is Outcome.SKIP and skip.fields == ()


def test_every_then_key_of_the_clause_format_has_a_check():
    schema = json.loads((paths.schemas_dir() / "meta" / "clause-file.schema.json").read_text("utf-8"))
    then = schema["$defs"]["then"]["properties"]
    keys = {k for k in then if k not in ("after", "batch")} | {"batch"}
    keys |= {f"after.{k}" for k in then["after"]["properties"]}
    assert keys == set(CHECKS)


@pytest.mark.parametrize("clause_id", sorted(CLAUSES))
def test_every_clause_key_is_checked(clause_id):
    assert set(CLAUSES[clause_id].then.checked_keys()) <= set(CHECKS)


def test_an_unasked_rate_limit_is_error_unless_the_bucket_was_seen_open():
    cid = "cancel.operating-limit.rejected"  # asks for OPERATION_TIME_LIMIT
    limited = Reply(status=503, body={"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"})
    assert grade(cid, observe(cid, limited)).outcome is Outcome.ERROR  # not probed: says nothing
    assert grade(cid, observe(cid, limited, bucket_after="refused")).outcome is Outcome.ERROR
    # the bucket let the next request through: the 503 was the portal's answer to the question
    wrong = grade(cid, observe(cid, limited, bucket_after="admitted"))
    assert wrong.outcome is Outcome.FAIL and wrong.reason.startswith("http: expected 429, got 503")
    # and the clause that asks for QUERY_LIMIT_EXCEEDED judges it without any probe
    assert grade("cancel.rate-limit.rejected", observe("cancel.rate-limit.rejected", limited)).outcome is Outcome.PASS


# -- a list method's pages (issue 11) --------------------------------------------------------------
def page(ids, *, total, next_=None, fields=("id",)):
    body = {"result": {"documents": [{f: (i if f == "id" else "x") for f in fields} for i in ids]},
            "total": total, "time": TIME}
    if next_ is not None:
        body["next"] = next_
    return Reply(status=200, body=body)


SERIES = ({f"$page{n}.id": 100 + n for n in range(52)} | {"$given.marker": "b24c rec list-paging "}
          | {"$given.ids": list(range(100, 152))})


def test_every_own_row_once_over_two_pages_passes():
    first, second = page(range(100, 150), total=52, next_=50), page(range(150, 152), total=52)
    assert grade("list.paging.every-row-once", observe("x", first, second, references=SERIES)).outcome is Outcome.PASS


def test_a_row_on_two_pages_or_a_missing_row_fails_the_paging_clause():
    overlap = page(range(100, 150), total=52, next_=49), page(range(149, 151), total=52, next_=99)
    verdict = grade("list.paging.every-row-once", observe("x", *overlap, references=SERIES))
    assert verdict.outcome is Outcome.FAIL
    ids = next(f for f in verdict.fields if f.field == "pages.ids")
    assert not ids.ok and ids.observed.count(149) == 2 and 151 not in ids.observed


def test_a_total_that_counts_the_page_fails():
    pages = page(range(100, 150), total=50, next_=50), page(range(150, 152), total=2)
    verdict = grade("list.paging.every-row-once", observe("x", *pages, references=SERIES))
    assert verdict.outcome is Outcome.FAIL and verdict.mismatches[0].field == "pages.total"


def test_rows_in_the_wrong_order_or_with_extra_fields_fail():
    refs = {"$a.id": 1, "$b.id": 2, "$c.id": 3}
    assert grade("list.default-order.id-ascending",
                 observe("x", page([1, 2, 3], total=3), references=refs)).outcome is Outcome.PASS
    assert grade("list.default-order.id-ascending",
                 observe("x", page([3, 2, 1], total=3), references=refs)).outcome is Outcome.FAIL
    wide = page([1], total=1, fields=("id", "title", "docNumber"))
    verdict = grade("list.select.only-chosen", observe("x", wide, references={"$a.id": 1}))
    assert verdict.outcome is Outcome.FAIL and [f.field for f in verdict.mismatches] == ["pages.fields"]


# -- a document's item rows after the call (issue 11: catalog.document.element.*) ------------------
ROWS_REFS = {"$doc.id": 7, "$line.id": 70, "$product.p1": 11, "$product.p2": 12, "$store.main": 21,
             "$store.second": 22}
ADDED = Reply(status=200, body={"result": {"documentElement": {
    "id": 71, "docId": 7, "elementId": 12, "storeFrom": None, "storeTo": 21, "amount": 3, "purchasingPrice": 12.5}},
    "time": TIME})


def row(element_id, amount, store_to, price=10.0, store_from=None, **extra):
    return {"id": 70, "docId": 7, "elementId": element_id, "amount": amount, "storeFrom": store_from,
            "storeTo": store_to, "purchasingPrice": price, **extra}


def items_verdict(rows):
    seen = observe("element-add.receipt.adds-row", ADDED, statuses={"doc": "N"}, references=ROWS_REFS,
                   items={"doc": tuple(rows)} if rows is not None else {})
    return grade("element-add.receipt.adds-row", seen)


def test_item_rows_match_in_any_order_on_product_amount_warehouses_and_given_price():
    # the given row has no price in the clause's expectation, so any price is fine for it; real
    # portals send numbers as strings at times
    assert items_verdict([row(12, "3", 21, price="12.5"), row(11, 5, 21, price=99)]).outcome is Outcome.PASS


@pytest.mark.parametrize("rows, why", [
    ([row(11, 5, 21)], "the added row is missing"),
    ([row(11, 5, 21), row(12, 3, 21, price=12.5), row(12, 3, 21, price=12.5)], "a row too many"),
    ([row(11, 5, 21), row(12, 4, 21, price=12.5)], "the wrong amount"),
    ([row(11, 5, 21), row(12, 3, 22, price=12.5)], "the wrong warehouse"),
    ([row(11, 5, 21), row(12, 3, 21, price=12.5, store_from=22)], "a source warehouse on a receipt"),
    ([row(11, 5, 21), row(12, 3, 21, price=None)], "the price lost"),
    ([row(11, 5, 21), row(11, 3, 21, price=12.5)], "the wrong product"),
])
def test_a_wrong_set_of_item_rows_fails_on_after_items(rows, why):
    verdict = items_verdict(rows)
    assert verdict.outcome is Outcome.FAIL, why
    assert [f.field for f in verdict.mismatches] == ["after.items.doc"]


def test_a_row_expected_without_a_price_does_not_take_the_row_a_priced_one_needs():
    """Two expected rows alike but for the price one names: whatever the order, a portal whose two
    rows match them one to one passes."""
    from b24_conformance.contract.clause import MISSING, Expect, Item, Then
    from b24_conformance.contract.profile import load_profile
    from b24_conformance.grading import Context, check_after_items

    any_price = Item(product="p2", amount=3, store_to="main")
    priced = Item(product="p2", amount=3, store_to="main", price=12.5)
    got = observe("x", items={"doc": (row(12, 3, 21, price=12.5), row(12, 3, 21, price=10))})
    ctx = Context(load_profile("seed"), ROWS_REFS)
    for order in ((any_price, priced), (priced, any_price)):
        then = Then(expect=Expect(result=MISSING), after_items={"doc": order})
        assert [f.ok for f in check_after_items(then, got, ctx)] == [True], order


def test_item_rows_that_were_not_read_back_fail_rather_than_pass():
    verdict = items_verdict(None)
    assert verdict.outcome is Outcome.FAIL and verdict.mismatches[0].observed == "<missing>"


def test_element_rows_are_found_under_their_own_key_and_ids_items_means_every_given_row_once():
    refs = {"$doc.id": 7, "$given.items": [70, 71, 72], "$given.ids": [7]}
    body = {"result": {"documentElements": [{"id": i, "docId": 7} for i in (72, 70, 71)]}, "total": 3,
            "time": TIME}
    seen = observe("x", Reply(status=200, body=body), references=refs)
    assert grade("element-list.by-document.every-row", seen).mismatches[0].field == "pages.has"  # rows lack fields
    body["result"]["documentElements"] = [row(11, 1, 21) | {"id": i} for i in (72, 70, 71)]
    assert grade("element-list.by-document.every-row", observe("x", Reply(status=200, body=body),
                                                               references=refs)).outcome is Outcome.PASS
    body["result"]["documentElements"].pop()
    verdict = grade("element-list.by-document.every-row", observe("x", Reply(status=200, body=body), references=refs))
    assert verdict.outcome is Outcome.FAIL and verdict.mismatches[0].field == "pages.ids"
