"""Grading is pure: PASS, NON-STRICT and FAIL from an observation and the profiles."""

from b24_conformance.contract.clause import load_clauses
from b24_conformance.contract.profile import load_all_profiles
from b24_conformance.grading import grade, same_json
from b24_conformance.observation import Observation, Response
from b24_conformance.verdict import Outcome

CLAUSES = {c.id: c for c in load_clauses()}
PROFILES = load_all_profiles()
TIME = {"start": 1, "finish": 1.5, "duration": 0.5, "processing": 0,
        "date_start": "2025-11-06T09:37:54+03:00", "date_finish": "2025-11-06T09:37:54+03:00"}


def observe(clause_id, status, body, after=None):
    return Observation(clause_id=clause_id, responses=(Response(status=status, body=body, text=""),),
                       after=after or {})


def error_body(profile, key):
    http, error, text = PROFILES[profile].render(key)
    return http, {"error": error, "error_description": text}


def test_json_equality_tells_booleans_from_numbers():
    assert same_json(True, True) and not same_json(True, 1) and not same_json(1, True)
    assert same_json({"a": [1, 2.0]}, {"a": [1, 2]})
    assert not same_json({"a": 1}, {"a": 1, "b": 2})


def test_documented_error_passes_under_its_own_profile():
    clause = CLAUSES["cancel.missing-document.rejected"]
    http, body = error_body("seed", "cancel.not-found")
    assert grade(clause, observe(clause.id, http, body), PROFILES, "seed").outcome is Outcome.PASS


def test_another_profiles_wording_is_non_strict_and_names_it():
    clause = CLAUSES["cancel.missing-document.rejected"]
    http, body = error_body("server-ru", "cancel.not-found")
    verdict = grade(clause, observe(clause.id, http, body), PROFILES, "seed")
    assert verdict.outcome is Outcome.NON_STRICT
    assert verdict.matched_profile in ("server-ru", "docs-ru")


def test_unknown_wording_fails_with_the_field_named():
    clause = CLAUSES["cancel.missing-document.rejected"]
    http, body = error_body("seed", "cancel.not-found")
    body["error_description"] = "Something else entirely"
    verdict = grade(clause, observe(clause.id, http, body), PROFILES, "seed")
    assert verdict.outcome is Outcome.FAIL
    assert verdict.reason.startswith("error_description: expected")
    assert [f.field for f in verdict.fields if not f.ok] == ["error_description"]


def test_the_right_text_with_the_wrong_status_fails():
    clause = CLAUSES["cancel.missing-document.rejected"]
    _, body = error_body("seed", "cancel.not-found")
    verdict = grade(clause, observe(clause.id, 200, body), PROFILES, "seed")
    assert verdict.outcome is Outcome.FAIL and verdict.fields[0].field == "http"


def test_result_true_must_be_a_real_boolean_with_a_time_block():
    clause = CLAUSES["cancel.receipt.succeeds"]
    after = {"status": {"doc": "C"}, "balances": {"doc": {"reverted": True}}}
    good = grade(clause, observe(clause.id, 200, {"result": True, "time": TIME}, after), PROFILES, "seed")
    assert good.outcome is Outcome.PASS
    for body in ({"result": "true", "time": TIME}, {"result": 1, "time": TIME}, {"result": True}):
        assert grade(clause, observe(clause.id, 200, body, after), PROFILES, "seed").outcome is Outcome.FAIL


def test_side_effects_are_checked():
    clause = CLAUSES["cancel.receipt.succeeds"]
    body = {"result": True, "time": TIME}
    wrong_status = {"status": {"doc": "N"}, "balances": {"doc": {"reverted": True}}}
    not_reverted = {"status": {"doc": "C"}, "balances": {"doc": {"reverted": False, "applied": True}}}
    for after in (wrong_status, not_reverted):
        verdict = grade(clause, observe(clause.id, 200, body, after), PROFILES, "seed")
        assert verdict.outcome is Outcome.FAIL


def test_concurrent_responses_match_in_any_order():
    clause = CLAUSES["cancel.concurrent.reverts-once"]
    http, err = error_body("seed", "cancel.not-conducted")
    after = {"status": {"doc": "C"}, "balances": {"doc": {"reverted": True}}}
    for order in ([(200, {"result": True, "time": TIME}), (http, err)], [(http, err), (200, {"result": True, "time": TIME})]):
        obs = Observation(clause_id=clause.id, after=after,
                          responses=tuple(Response(status=s, body=b, text="") for s, b in order))
        assert grade(clause, obs, PROFILES, "seed").outcome is Outcome.PASS
    both_ok = Observation(clause_id=clause.id, after=after, responses=(
        Response(status=200, body={"result": True}, text=""), Response(status=200, body={"result": True}, text="")))
    assert grade(clause, both_ok, PROFILES, "seed").outcome is Outcome.FAIL
