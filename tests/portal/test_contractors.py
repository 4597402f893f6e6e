"""catalog.documentcontractor.* on the reference portal, in process: the binding rules in the add and
delete pages' table order, the rights each page asks, hostile input, and the supplier a receipt
needs before it conducts (choice 9 in portal/methods/__init__.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from b24_conformance.portal.errors import MessageRef, PortalError
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings

from .test_methods import HOSTILE, Portal

CONTACT, OTHER_CONTACT, COMPANY, OTHER_COMPANY = (3, 101), (3, 102), (4, 201), (4, 202)
ADD, LIST, DELETE, FIELDS = (f"catalog.documentcontractor.{m}" for m in ("add", "list", "delete", "getFields"))
# Seeded users (portal/seed.py): 6 has every document right; each other one lacks one thing.
ALL_RIGHTS, NO_STORE, CATALOG_READER, CANCEL_RECEIPTS, NO_CATALOG, NO_INVENTORY = 6, 3, 4, 7, 8, 9


@pytest.fixture
def p() -> Iterator[Portal]:
    portal = Portal()
    yield portal
    portal.db.close()


def bind(p: Portal, doc_id: Any, vendor: tuple[int, int] = CONTACT, **kw: Any) -> dict[str, Any]:
    fields = {"documentId": doc_id, "entityTypeId": vendor[0], "entityId": vendor[1]}
    return p.call(ADD, {"fields": fields}, **kw)["documentContractor"]


def refusal(p: Portal, fields: dict[str, Any], **kw: Any) -> str:
    return p.error(ADD, {"fields": fields}, **kw).key


def bindings(p: Portal, doc_id: int) -> list[dict[str, Any]]:
    return p.call(LIST, {"filter": {"documentId": doc_id}}).result["documentContractor"]


# --- the supplier a receipt needs ------------------------------------------------------------------


def test_a_receipt_conducts_only_with_a_supplier_and_a_refusal_changes_nothing(p: Portal) -> None:
    receipt = p.doc("A", 4)
    error = p.error("catalog.document.conduct", {"id": receipt})
    assert (error.key, error.params["error"]) == ("conduct.failed", MessageRef("reason.no-contractor"))
    assert p.status(receipt) == "N"
    assert p.call("catalog.storeproduct.list", {"filter": {"productId": p.fx["product_id"]}}).result["storeProducts"] == []
    bind(p, receipt, COMPANY)  # a company is a supplier as well as a contact
    assert p.call("catalog.document.conduct", {"id": receipt}) is True and p.status(receipt) == "Y"


def test_the_supplier_check_comes_after_the_status_and_items_checks(p: Portal) -> None:
    empty = p.doc("A", None)
    assert p.error("catalog.document.conduct", {"id": empty}).params["error"] == MessageRef("reason.no-items")


def test_conduct_list_names_the_receipt_without_a_supplier_and_conducts_the_others(p: Portal) -> None:
    supplied, bare, adjustment = p.doc("A", 2), p.doc("A", 3, title="Bare receipt"), p.doc("S", 1)
    bind(p, supplied)
    error = p.error("catalog.document.conductList", {"documentIds": [supplied, bare, adjustment]})
    assert (error.key, error.params) == ("conduct-list.failed", {
        "id": bare, "title": "Bare receipt", "error": MessageRef("reason.no-contractor")})
    assert (p.status(supplied), p.status(bare), p.status(adjustment)) == ("Y", "N", "Y")


def test_a_portal_serving_without_the_rule_conducts_bare_receipts() -> None:
    with EmbeddedPortal(PortalSettings(tls=False, require_contractor=False)) as portal, httpx.Client() as client:
        base, fx = portal.webhook_url("admin"), portal.fixtures
        doc = client.post(base + "catalog.document.add", json={"fields": {
            "docType": "A", "currency": "USD", "responsibleId": 1}}).json()["result"]["document"]["id"]
        client.post(base + "catalog.document.element.add", json={"fields": {
            "docId": doc, "elementId": fx["product_id"], "storeTo": fx["main_store_id"], "amount": 1}})
        answer = client.post(base + "catalog.document.conduct", json={"id": doc})
    assert (answer.status_code, answer.json()["result"]) == (200, True)


# --- add: the page's table, row by row and in its order ---------------------------------------------


def test_add_answers_the_binding_with_every_field(p: Portal) -> None:
    receipt = p.doc("A")
    binding = bind(p, str(receipt), OTHER_CONTACT)
    assert binding == {"documentId": receipt, "entityId": 102, "entityTypeId": 3, "id": binding["id"]}
    assert bindings(p, receipt) == [binding]


@pytest.mark.parametrize("document", [None, 0, -1, 10**30, "abc", 1.5, [], {"a": 1}, True])
def test_a_document_that_is_absent_or_no_integer_or_unknown_is_not_found(p: Portal, document: Any) -> None:
    fields = {"entityTypeId": 3, "entityId": 101} | ({} if document is None else {"documentId": document})
    assert refusal(p, fields) == "contractor.doc-not-found"


def test_only_a_receipt_that_is_not_conducted_takes_a_supplier(p: Portal) -> None:
    assert refusal(p, {"documentId": p.doc("S"), "entityTypeId": 3, "entityId": 101}) == "contractor.wrong-type"
    conducted = p.doc("A")
    bind(p, conducted)
    assert p.call("catalog.document.conduct", {"id": conducted}) is True
    assert refusal(p, {"documentId": conducted, "entityTypeId": 3, "entityId": 102}) == "contractor.conducted"
    assert p.call("catalog.document.cancel", {"id": conducted}) is True
    bind(p, conducted, OTHER_CONTACT)  # cancelled (C) is not conducted: the row refuses conducted only


@pytest.mark.parametrize(("fields", "key"), [
    ({"entityId": 101}, "contractor.wrong-entity-type"),
    ({"entityTypeId": 2, "entityId": 101}, "contractor.wrong-entity-type"),
    ({"entityTypeId": "contact", "entityId": 101}, "contractor.wrong-entity-type"),
    ({"entityTypeId": 3.0, "entityId": 101}, "contractor.wrong-entity-type"),
    ({"entityTypeId": 3}, "contractor.wrong-entity"),
    ({"entityTypeId": 3, "entityId": 999}, "contractor.wrong-entity"),
    ({"entityTypeId": 3, "entityId": 201}, "contractor.wrong-entity"),  # a company id as a contact
    ({"entityTypeId": "4", "entityId": "x"}, "contractor.wrong-entity"),
    ({"entityTypeId": 3, "entityId": 10**30}, "contractor.wrong-entity"),
])
def test_the_vendor_must_be_a_crm_contact_or_company_of_the_portal(p: Portal, fields: dict[str, Any], key: str) -> None:
    assert refusal(p, {"documentId": p.doc("A"), **fields}) == key


def test_a_vendor_binds_once_and_a_document_takes_one_company(p: Portal) -> None:
    receipt = p.doc("A")
    for vendor in (CONTACT, OTHER_CONTACT, COMPANY):
        bind(p, receipt, vendor)
    for vendor, key in ((CONTACT, "contractor.already-bound"), (COMPANY, "contractor.already-bound"),
                        (OTHER_COMPANY, "contractor.has-company")):
        assert refusal(p, {"documentId": receipt, "entityTypeId": vendor[0], "entityId": vendor[1]}) == key
    assert [(b["entityTypeId"], b["entityId"]) for b in bindings(p, receipt)] == [CONTACT, OTHER_CONTACT, COMPANY]


def test_the_rows_come_in_the_table_order(p: Portal) -> None:
    """Type before status before vendor before bindings before rights (choice 9)."""
    conducted_adjustment = p.doc("S", conduct=True)
    assert refusal(p, {"documentId": conducted_adjustment, "entityTypeId": 9}) == "contractor.wrong-type"
    conducted = p.doc("A")
    bind(p, conducted)
    p.call("catalog.document.conduct", {"id": conducted})
    assert refusal(p, {"documentId": conducted, "entityTypeId": 9}) == "contractor.conducted"
    receipt = p.doc("A")
    bind(p, receipt)
    assert refusal(p, {"documentId": receipt, "entityTypeId": 9, "entityId": 101}) == "contractor.wrong-entity-type"
    assert refusal(p, {"documentId": receipt, "entityTypeId": 3, "entityId": 101}, user=NO_CATALOG) \
        == "contractor.already-bound"
    assert refusal(p, {"documentId": 10**6, "entityTypeId": 3, "entityId": 101}, user=NO_CATALOG) \
        == "contractor.doc-not-found"


@pytest.mark.parametrize("user", [CATALOG_READER, CANCEL_RECEIPTS, NO_CATALOG, NO_INVENTORY])
def test_add_and_delete_need_edit_on_receipts_with_catalog_and_inventory_access(p: Portal, user: int) -> None:
    receipt = p.doc("A")
    assert refusal(p, {"documentId": receipt, "entityTypeId": 3, "entityId": 101}, user=user) == "contractor.denied"
    binding = bind(p, receipt, user=ALL_RIGHTS)
    assert p.error(DELETE, {"id": binding["id"]}, user=user).key == "contractor.denied"
    assert p.error(DELETE, {"id": 10**6}, user=user).key == "contractor.not-found"  # found first, then rights
    assert p.call(DELETE, {"id": binding["id"]}, user=NO_STORE) is True  # warehouses play no part
    assert bindings(p, receipt) == []


def test_add_needs_its_fields(p: Portal) -> None:
    error = p.error(ADD, {})
    assert (error.key, error.params) == ("param.missing", {"param": "fields"})
    assert p.error(ADD, {"fields": "x"}).key == "param.invalid"


# --- delete, list, getFields ---------------------------------------------------------------------------


def test_delete_removes_one_binding_and_then_it_is_not_found(p: Portal) -> None:
    receipt = p.doc("A")
    first, second = bind(p, receipt), bind(p, receipt, OTHER_CONTACT)
    assert p.call(DELETE, {"id": str(first["id"])}) is True
    assert bindings(p, receipt) == [second]
    assert p.error(DELETE, {"id": first["id"]}).key == "contractor.not-found"
    assert p.error(DELETE, {}).key == "param.missing" and p.error(DELETE, {"id": "x"}).key == "param.invalid"


def test_a_binding_goes_with_its_document(p: Portal) -> None:
    receipt = p.doc("A")
    binding = bind(p, receipt)
    assert p.call("catalog.document.delete", {"id": receipt}) is True
    assert p.call(LIST, {}).result["documentContractor"] == []
    assert p.error(DELETE, {"id": binding["id"]}).key == "contractor.not-found"


def test_each_portal_sees_only_its_own_bindings(p: Portal) -> None:
    binding = bind(p, p.doc("A"))
    assert p.call(LIST, {}, portal=2).result["documentContractor"] == []
    assert p.error(DELETE, {"id": binding["id"]}, portal=2).key == "contractor.not-found"


def test_list_filters_selects_and_pages(p: Portal) -> None:
    receipts = [p.doc("A", None) for _ in range(3)]
    made = [bind(p, r) for r in receipts]
    listed = p.call(LIST, {"select": ["id", "documentId"], "filter": {">documentId": receipts[0]},
                           "order": {"id": "desc"}})
    assert listed.result["documentContractor"] == [{"documentId": b["documentId"], "id": b["id"]} for b in made[:0:-1]]
    assert listed.total == 2


@pytest.mark.parametrize("user", [CATALOG_READER, NO_CATALOG, NO_INVENTORY])
def test_list_and_get_fields_need_catalog_and_inventory_access(p: Portal, user: int) -> None:
    assert p.error(LIST, {}, user=user).key == "contractor.denied"
    assert p.error(FIELDS, {}, user=user).key == "contractor.denied"
    assert p.call(LIST, {}, user=CANCEL_RECEIPTS).result["documentContractor"] == []


def test_get_fields_is_the_pages_sample(p: Portal) -> None:
    def described(required: bool, read_only: bool = False) -> dict[str, Any]:
        return {"isImmutable": False, "isReadOnly": read_only, "isRequired": required, "type": "integer"}

    assert p.call(FIELDS) == {"documentContractor": {
        "documentId": described(True), "entityId": described(True), "entityTypeId": described(True),
        "id": described(False, read_only=True)}}


# --- hostile input: one of the pages' errors, never anything else ------------------------------------


@pytest.mark.parametrize("name", ["documentId", "entityTypeId", "entityId"])
def test_hostile_fields_are_refused_with_a_table_row(p: Portal, name: str) -> None:
    receipt = p.doc("A")
    rows = {"contractor.doc-not-found", "contractor.wrong-entity-type", "contractor.wrong-entity"}
    for value in HOSTILE:
        fields = {"documentId": receipt, "entityTypeId": 3, "entityId": 102, name: value}
        assert refusal(p, fields) in rows, (name, value)
    for value in HOSTILE:  # no binding exists, so each is refused; anything but a PortalError fails
        with pytest.raises(PortalError) as info:
            p.call(DELETE, {"id": value})
        assert info.value.key in {"param.missing", "param.invalid", "contractor.not-found"}, value


def test_portal_serve_turns_the_rule_off_on_request(tmp_path) -> None:
    """`portal serve --no-require-supplier` serves, and its target config still names the seeded vendor
    contact (binding one to a receipt is harmless where none is required)."""
    import signal
    import socket
    import subprocess
    import sys
    import time

    import yaml

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = tmp_path / "portal.yaml"
    serving = subprocess.Popen([sys.executable, "-m", "b24_conformance.cli", "portal", "serve", "--port", str(port),
                                "--no-require-supplier", "--target-file", str(target)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, written = time.monotonic() + 60, None
        while written is None and serving.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
            written = yaml.safe_load(target.read_text(encoding="utf-8")) if target.exists() else None
        assert written, "portal serve wrote no target config"
        fixtures = written["fixtures"]
    finally:
        serving.send_signal(signal.SIGTERM)
        assert serving.wait(timeout=30) == 0, serving.stderr.read() if serving.stderr else ""
    assert "product_id" in fixtures and fixtures["supplier_contact_id"] == 101
