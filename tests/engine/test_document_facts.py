"""The facts issue 11's document clauses read back: the document a clause's own call creates (it is
recorded and removed like a built one, even where the portal wrongly creates it), the fields and the
existence of documents after the call, and values inside a result. Grading judges them: a fact that
was not read is never taken for an answer."""

import json

import pytest

from b24_conformance.contract.clause import load_clauses
from b24_conformance.contract.profile import load_all_profiles
from b24_conformance.grading import judge
from b24_conformance.observation import Observation, Reply
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.redact import Redactor
from b24_conformance.runner import Runner, RunOptions
from b24_conformance.target.client import PortalClient
from b24_conformance.target.reference import reference_settings, target_for
from b24_conformance.verdict import Outcome

CLAUSES = {c.id: c for c in load_clauses()}
PROFILES = load_all_profiles()
TIME = {"start": 1, "finish": 1.5, "duration": 0.5, "processing": 0,
        "date_start": "2025-11-06T09:37:54+03:00", "date_finish": "2025-11-06T09:37:54+03:00"}


def verdict(clause_id, reply, **facts):
    observation = Observation(clause_id=clause_id, replies=(reply,), **facts)
    return judge(CLAUSES[clause_id], observation, PROFILES, "seed")


def test_a_document_not_read_back_is_no_proof_that_it_is_gone():
    ok = Reply(status=200, body={"result": True, "time": TIME})
    gone = verdict("delete.draft.succeeds", ok, documents={"doc": None})
    unread = verdict("delete.draft.succeeds", ok, documents={})
    still = verdict("delete.draft.succeeds", ok, documents={"doc": {"id": 7, "status": "N"}})
    assert gone.outcome is Outcome.PASS
    assert unread.outcome is Outcome.FAIL and "after.exists.doc" in unread.reason
    assert still.outcome is Outcome.FAIL and still.mismatches[0].observed is True


def test_fields_read_back_are_compared_after_resolving_references():
    clause_id = "update.no-rights.rejected"
    refused = Reply(status=400, body={"error": "0", "error_description": "Insufficient permissions to save the document"})
    refs = {"$doc.title": "b24c 1 doc", "$doc.id": 7}
    kept = verdict(clause_id, refused, references=refs, statuses={"doc": "N"},
                   documents={"doc": {"id": 7, "status": "N", "commentary": None, "title": "b24c 1 doc"}})
    leaked = verdict(clause_id, refused, references=refs, statuses={"doc": "N"},
                     documents={"doc": {"id": 7, "status": "N", "commentary": "b24-conformance: not allowed",
                                        "title": "b24c 1 doc"}})
    assert kept.outcome is Outcome.PASS
    assert leaked.outcome is Outcome.FAIL and leaked.mismatches[0].field == "after.fields.doc.commentary"


def test_values_inside_the_result_are_checked_at_their_paths():
    fields = {"document": {name: {"isRequired": True, "isImmutable": False, "isReadOnly": False, "type": "char"}
                           for name in ("docType", "currency", "responsibleId")}}
    fields["document"]["commentary"] = {"isRequired": False, "isImmutable": False, "isReadOnly": False, "type": "char"}
    good = verdict("get-fields.required-fields.marked", Reply(status=200, body={"result": fields, "time": TIME}))
    del fields["document"]["currency"]
    short = verdict("get-fields.required-fields.marked", Reply(status=200, body={"result": fields, "time": TIME}))
    assert good.outcome is Outcome.PASS
    assert short.outcome is Outcome.FAIL and short.mismatches[0].field == "result.document.currency.isRequired"
    assert short.mismatches[0].observed == "<missing>"


def _own_documents(portal) -> list:
    config = target_for(portal)
    client = PortalClient(config, Redactor())
    try:
        sent = client.call(config.credential("admin"), "catalog.document.list",
                           {"filter": {"%title": "b24c "}, "select": ["id", "title", "status"]})
    finally:
        client.close()
    return sent.reply.body["result"]["documents"]


@pytest.mark.parametrize("mutant", ["add-currency-default", "add-conducts", "add-accepts-unknown-type"])
def test_what_a_clause_call_creates_is_removed_even_where_the_portal_should_have_refused(mutant, tmp_path):
    clauses = [c for c in CLAUSES.values() if c.method == "catalog.document.add"]
    with EmbeddedPortal(reference_settings("seed", mutants=(mutant,))) as portal:
        result = Runner(target_for(portal), RunOptions(manifest_dir=tmp_path)).run(clauses)
        left = _own_documents(portal)
    assert any(v.outcome is Outcome.FAIL for v in result.verdicts)
    assert left == []
    assert not list(tmp_path.glob("sandbox-*.json")), "the sandbox left a manifest behind"


def test_the_created_title_is_in_the_manifest_before_the_call_and_its_id_after(tmp_path):
    seen: dict[str, dict] = {}
    clause = CLAUSES["add.receipt.creates-draft"]
    with EmbeddedPortal(reference_settings("seed")) as portal:
        runner = Runner(target_for(portal), RunOptions(manifest_dir=tmp_path))
        engine = runner.engine
        call, batch = engine.client.call, engine.client.batch

        def manifest() -> dict:
            return json.loads(next(tmp_path.glob("sandbox-*.json")).read_text("utf-8"))

        def spy_call(cred, method, params, **kw):
            if method == "catalog.document.add":
                seen["before"] = manifest()
            return call(cred, method, params, **kw)

        def spy_batch(cred, commands, **kw):
            if kw.get("phase") == "observe":
                seen["observed"] = manifest()
            return batch(cred, commands, **kw)

        engine.client.call, engine.client.batch = spy_call, spy_batch
        outcome = runner.run([clause]).verdicts[0].outcome
    assert outcome is Outcome.PASS
    assert [t for t in seen["before"]["pending"]["documents"] if t.endswith("add-receipt-creates-draft new")]
    assert seen["before"]["documents"] == []
    assert len(seen["observed"]["documents"]) == 1 and seen["observed"]["pending"]["documents"] == []
    assert not list(tmp_path.glob("sandbox-*.json")), "the sandbox left a manifest behind"
