"""The portal's REST method handlers, called in process with a CallContext (no HTTP)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from b24_conformance.contract.profile import load_profile
from b24_conformance.portal import entities as entities_module
from b24_conformance.portal import inventory as inventory_module
from b24_conformance.portal import listing as listing_module
from b24_conformance.portal import params as params_module
from b24_conformance.portal.database import PortalDB
from b24_conformance.portal.errors import MessageRef, PortalError
from b24_conformance.portal.listing import ListResult
from b24_conformance.portal.methods import METHODS, CallContext
from b24_conformance.portal.methods import catalog as catalog_methods
from b24_conformance.portal.methods import context as context_module
from b24_conformance.portal.methods import contractors as contractor_methods
from b24_conformance.portal.methods import documents as document_methods
from b24_conformance.portal.methods import elements as element_methods
from b24_conformance.portal.seed import seed
from b24_conformance.portal.settings import PortalSettings

SETTINGS = PortalSettings(deterministic=True, page_examples=False)  # an empty document table
PROFILES = ("seed", "docs-en", "docs-ru", "server-en", "server-ru")


class Portal:
    """A seeded PortalDB plus a way to call any method as any seeded user."""

    def __init__(self) -> None:
        self.db = PortalDB()
        self.fx = seed(self.db, SETTINGS).fixtures

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, user: int = 1, portal: int = 1
    ) -> Any:
        ctx = CallContext(
            db=self.db,
            settings=SETTINGS,
            portal=self.db.portal(portal),
            user_id=user,
            now=SETTINGS.fixed_clock,
        )
        return METHODS[method.lower()].handler(ctx, params or {})

    def error(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> PortalError:
        with pytest.raises(PortalError) as info:
            self.call(method, params, **kw)
        return info.value

    def doc(
        self,
        doc_type: str = "S",
        amount: Any = 5,
        *,
        store: str = "main_store_id",
        conduct: bool = False,
        title: str | None = None,
        portal: int = 1,
    ) -> int:
        fields: dict[str, Any] = {"docType": doc_type, "currency": "USD", "responsibleId": 1}
        if title:
            fields["title"] = title
        doc_id = self.call("catalog.document.add", {"fields": fields}, portal=portal)["document"]["id"]
        if amount is not None:
            side = "storeFrom" if doc_type in "RD" else "storeTo"
            product = self.fx["product_id"] if portal == 1 else 3 if portal == 2 else 4
            store_id = self.fx[store] if portal == 1 else 4 if portal == 2 else 5
            item = {"docId": doc_id, "elementId": product, side: store_id, "amount": amount}
            self.call("catalog.document.element.add", {"fields": item}, portal=portal)
        if conduct:
            assert self.call("catalog.document.conduct", {"id": doc_id}) is True
        return doc_id

    def status(self, doc_id: int) -> str:
        result = self.call("catalog.document.list", {"filter": {"id": doc_id}})
        return result.result["documents"][0]["status"]

    def exists(self, doc_id: int) -> bool:
        return bool(self.call("catalog.document.list", {"filter": {"=id": doc_id}}).result["documents"])


@pytest.fixture
def p() -> Iterator[Portal]:
    portal = Portal()
    yield portal
    portal.db.close()


# --- registry ------------------------------------------------------------------------------------


def test_registry_is_keyed_by_lower_case_name() -> None:
    assert all(key == spec.name.lower() for key, spec in METHODS.items())
    for name in (
        "catalog.document.cancelList",
        "catalog.document.mode.status",
        "catalog.storeproduct.get",
        "catalog.document.confirm",
        "catalog.document.unconfirm",
        "catalog.product.add",
    ):
        assert METHODS[name.lower()].name == name and METHODS[name.lower()].scope == "catalog"
    # the aliases have handlers of their own: their outdated pages word some messages otherwise
    assert METHODS["catalog.document.confirm"].handler is not METHODS["catalog.document.conduct"].handler


def test_every_key_the_domain_raises_is_in_every_profile() -> None:
    modules = (document_methods, element_methods, contractor_methods, catalog_methods, context_module,
               params_module, listing_module, inventory_module, entities_module)
    source = "".join(Path(m.__file__).read_text() for m in modules)  # type: ignore[arg-type]
    prefixes = (
        "param",
        "add",
        "update",
        "read",
        "mode-status",
        "delete",
        "delete-list",
        "conduct",
        "conduct-list",
        "cancel",
        "cancel-list",
        "reason",
        "element",
        "storeproduct",
        "admin",
        "contractor",
    )
    keys = {k for k in re.findall(r'"([a-z-]+\.[a-z-]+)"', source) if k.split(".")[0] in prefixes}
    assert len(keys) > 40
    for profile in PROFILES:
        loaded = load_profile(profile)
        for key in keys:
            loaded.message(key)


# --- parameter coercion --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["142", 142, "0", 0, -5, "-5", 10**30, str(10**30), "+7"])
def test_integer_ids_that_name_nothing_are_not_found(p: Portal, value: Any) -> None:
    assert p.error("catalog.document.cancel", {"id": value}).key == "cancel.not-found"
    assert p.error("catalog.document.conduct", {"id": value}).key == "conduct.not-found"
    assert p.error("catalog.document.delete", {"id": value}).key == "delete.not-found"
    assert p.error("catalog.storeproduct.get", {"id": value}).key == "storeproduct.not-found"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("abc", "abc"),
        (1.5, "1.5"),
        (1.0, "1.0"),
        (True, "1"),
        ([], "Array"),
        ([1], "Array"),
        ({"a": 1}, "Array"),
        ("", ""),
        (" 1", " 1"),
        ("1e3", "1e3"),
        ("１２", "１２"),
        ("0x10", "0x10"),
    ],
)
def test_non_integer_ids_are_invalid(p: Portal, value: Any, shown: str) -> None:
    error = p.error("catalog.document.cancel", {"id": value})
    assert (error.key, error.params) == ("param.invalid", {"value": shown, "param": "id", "type": "int"})


def test_missing_id(p: Portal) -> None:
    for params in ({}, {"id": None}, {"ID": 1}):
        error = p.error("catalog.document.cancel", params)
        assert (error.key, error.params) == ("param.missing", {"param": "id"})
    # parameters are checked before the plan
    assert p.error("catalog.document.cancel", {}, portal=2).key == "param.missing"


def test_id_as_string_works(p: Portal) -> None:
    doc_id = p.doc(conduct=True)
    assert p.call("catalog.document.cancel", {"id": str(doc_id)}) is True
    assert p.status(doc_id) == "C"


@pytest.mark.parametrize("ids", ["1", 1, True, None])
def test_document_ids_must_be_an_array(p: Portal, ids: Any) -> None:
    error = p.error("catalog.document.cancelList", {"documentIds": ids})
    assert error.key == ("param.missing" if ids is None else "param.invalid")


HOSTILE: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    10**30,
    -(10**30),
    10**5000,
    1.5,
    float("nan"),
    float("inf"),
    "",
    "abc",
    "\ud800",
    "\x00",
    "1" * 5000,
    "%" * 3000,
    [],
    [None],
    [10**30],
    {},
    {"0": "1"},
    {"a": {"b": {"c": []}}},
    [[["deep"]]],
    "Y",
    "-1",
    "1e999999999",
]
PARAM_NAMES = ("id", "documentIds", "fields", "select", "filter", "order", "start")


def _hostile_params(p: Portal) -> Iterator[dict[str, Any]]:
    for name, value in itertools.product(PARAM_NAMES, HOSTILE):
        yield {name: value}
    field_names = (
        "docType",
        "currency",
        "responsibleId",
        "title",
        "total",
        "dateDocument",
        "docId",
        "elementId",
        "storeFrom",
        "storeTo",
        "amount",
        "purchasingPrice",
        "iblockId",
        "name",
        "address",
        "active",
        "sort",
        "gpsN",
        "documentId",
        "entityTypeId",
        "entityId",
    )
    valid = {
        "docType": "S",
        "currency": "USD",
        "responsibleId": 1,
        "docId": 1,
        "elementId": 1,
        "iblockId": 21,
        "name": "x",
        "address": "y",
        "storeTo": p.fx["main_store_id"],
    }
    for name, value in itertools.product(field_names, HOSTILE):
        yield {"id": 1, "fields": {**valid, name: value}}
    for key, value in itertools.product(
        (">=id", "@id", "!@status", "%title", "=%title", "!dateCreate", "<amount", "storeId", "zzz"), HOSTILE
    ):
        yield {"filter": {key: value}, "order": {"id": value}, "select": [value], "start": 0}
    yield {"order": {"id": "DESC", "title": "asc", "dateCreate": "sideways"}, "select": ["*", "ID", 5]}


def _hostile_sweep(p: Portal, *, every_user: bool) -> None:
    p.doc(conduct=True)
    p.doc(title="Draft")
    cases = list(_hostile_params(p))
    for n, (method, params) in enumerate(itertools.product(sorted(METHODS), cases)):
        # every (method, case) pair, as the admin and the warehouse-restricted clerk in turn;
        # the long sweep sends each pair as both
        for user in (1, 3) if every_user else ((1, 3)[n % 2],):
            try:
                p.call(method, params, user=user)
            except PortalError:
                pass


def test_hostile_params_only_ever_raise_portal_errors(p: Portal) -> None:
    _hostile_sweep(p, every_user=False)


@pytest.mark.slow
def test_hostile_params_as_every_user_only_ever_raise_portal_errors(p: Portal) -> None:
    _hostile_sweep(p, every_user=True)


# --- catalog.document.add / update / getFields / mode.status ------------------------------------

DOCUMENT_KEYS = {
    "commentary",
    "createdBy",
    "currency",
    "dateCreate",
    "dateDocument",
    "dateModify",
    "dateStatus",
    "docNumber",
    "docType",
    "id",
    "modifiedBy",
    "responsibleId",
    "siteId",
    "status",
    "statusBy",
    "title",
    "total",
}


def test_add_returns_a_draft(p: Portal) -> None:
    fields = {
        "docType": "A",
        "currency": "USD",
        "responsibleId": "1",
        "title": "Receipt from Supplier-1",
        "commentary": "Planned",
        "status": "Y",
        "unknown": 1,
        "dateDocument": "2025-10-30T11:19:38+02:00",
    }
    doc = p.call("catalog.document.add", {"fields": fields})["document"]
    assert set(doc) == DOCUMENT_KEYS and list(doc) == sorted(doc)
    assert (doc["status"], doc["siteId"], doc["docNumber"], doc["responsibleId"]) == (
        "N",
        "s1",
        str(doc["id"]),
        1,
    )
    assert (doc["total"], doc["statusBy"], doc["createdBy"]) == (None, None, 1)
    assert doc["dateCreate"] == "2025-11-06T06:37:54+00:00"
    assert doc["dateDocument"] == "2025-10-30T11:19:38+02:00"


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"docType": "W", "currency": "USD", "responsibleId": 1}, "add.bad-doc-type"),
        ({"docType": "a", "currency": "USD", "responsibleId": 1}, "add.bad-doc-type"),
        ({"currency": "USD", "responsibleId": 1}, "add.bad-doc-type"),
        ({"docType": "A", "responsibleId": 1}, "param.missing"),
        ({"docType": "A", "currency": "USD"}, "param.missing"),
        ({"docType": "A", "currency": "dollars", "responsibleId": 1}, "param.invalid"),
        ({"docType": "A", "currency": "USD", "responsibleId": "x"}, "param.invalid"),
        ({"docType": "A", "currency": "USD", "responsibleId": 1, "total": "lots"}, "param.invalid"),
        (
            {"docType": "A", "currency": "USD", "responsibleId": 1, "dateDocument": "yesterday"},
            "param.invalid",
        ),
    ],
)
def test_add_refusals(p: Portal, fields: dict[str, Any], key: str) -> None:
    assert p.error("catalog.document.add", {"fields": fields}).key == key


def test_add_rights_and_plan(p: Portal) -> None:
    fields = {"docType": "A", "currency": "USD", "responsibleId": 1}
    assert p.error("catalog.document.add", {}).key == "param.missing"
    assert p.error("catalog.document.add", {"fields": fields}, user=4).key == "add.no-rights"
    assert p.error("catalog.document.add", {"fields": fields}, portal=2).key == "add.plan"
    assert p.call("catalog.document.add", {"fields": fields}, portal=3)["document"]["status"] == "N"


def test_update(p: Portal) -> None:
    doc_id = p.doc("A")
    changed = p.call(
        "catalog.document.update",
        {
            "id": doc_id,
            "fields": {
                "title": "Renamed",
                "docType": "D",
                "currency": "EUR",
                "total": "12.5",
                "status": "Y",
                "responsibleId": 6,
            },
        },
    )["document"]
    assert (
        changed["title"],
        changed["docType"],
        changed["currency"],
        changed["total"],
        changed["status"],
        changed["responsibleId"],
    ) == ("Renamed", "A", "USD", 12.5, "N", 6)
    assert p.error("catalog.document.update", {"id": 10**6, "fields": {}}).key == "update.not-found"
    assert p.error("catalog.document.update", {"id": doc_id}).key == "param.missing"
    assert (
        p.error("catalog.document.update", {"id": doc_id, "fields": {"title": "x"}}, user=4).key
        == "update.no-rights"
    )
    assert p.error("catalog.document.update", {"id": doc_id, "fields": {}}, portal=2).key == "update.plan"


def test_get_fields_matches_the_docs_page(p: Portal) -> None:
    fields = p.call("catalog.document.getFields")["document"]
    assert set(fields) == DOCUMENT_KEYS
    assert fields["docType"] == {"isImmutable": True, "isReadOnly": False, "isRequired": True, "type": "char"}
    assert fields["status"] == {"isImmutable": False, "isReadOnly": True, "isRequired": False, "type": "char"}
    assert fields["title"]["type"] == "string" and fields["total"]["type"] == "double"
    element = p.call("catalog.document.element.getFields")["documentElement"]
    assert element["docId"] == {
        "isImmutable": True,
        "isReadOnly": False,
        "isRequired": True,
        "type": "integer",
    }
    assert p.error("catalog.document.getFields", user=99).key == "read.no-rights"
    assert p.error("catalog.document.element.getFields", user=99).key == "element.denied"


def test_deprecated_fields_answer_as_their_pages(p: Portal) -> None:
    """outdated/catalog-document-fields.md and -element-fields.md: `object[]`, the getFields descriptions plus
    isMultiple/isDynamic; the pages' error samples are the getFields ones (they were method-not-found)."""
    for old, new, key in (("catalog.document.fields", "catalog.document.getFields", "document"),
                          ("catalog.document.element.fields", "catalog.document.element.getFields",
                           "documentElement")):
        [described] = p.call(old)
        current = p.call(new)[key]
        assert set(described) == set(current), old
        for name, description in described.items():
            assert description == {**current[name], "isMultiple": False, "isDynamic": False}, (old, name)
    assert p.call("catalog.document.fields")[0]["id"]["isReadOnly"] is True  # the page's sample row
    assert p.error("catalog.document.fields", user=99).key == "read.no-rights"
    assert p.error("catalog.document.element.fields", user=99).key == "element.denied"


def test_mode_status(p: Portal) -> None:
    assert p.call("catalog.document.mode.status") == "Y"
    assert p.call("catalog.document.mode.status", user=4) == "Y"
    assert p.call("catalog.document.mode.status", portal=2) == "N"
    assert p.call("catalog.document.mode.status", portal=3) == "N"
    assert p.error("catalog.document.mode.status", user=99).key == "mode-status.denied"
    assert p.error("catalog.document.mode.status", user=5).key == "mode-status.denied"


# --- catalog.document.list -----------------------------------------------------------------------


def test_list_pages_filters_orders_and_selects(p: Portal) -> None:
    ids = [p.doc("A" if i % 2 else "S", None, title=f"Doc {i:02d}") for i in range(60)]
    first = p.call("catalog.document.list")
    assert isinstance(first, ListResult) and (first.total, first.next) == (60, 50)
    assert [d["id"] for d in first.result["documents"]] == ids[:50]
    second = p.call("catalog.document.list", {"start": "50"})
    assert (len(second.result["documents"]), second.total, second.next) == (10, 60, None)
    uncounted = p.call("catalog.document.list", {"start": -1})
    assert (len(uncounted.result["documents"]), uncounted.total, uncounted.next) == (50, 0, None)

    def select(params: dict[str, Any]) -> list[Any]:
        return [d["id"] for d in p.call("catalog.document.list", params).result["documents"]]

    assert select({"filter": {">=id": ids[58]}}) == ids[58:]
    assert select({"filter": {"<id": ids[2]}}) == ids[:2]
    assert select({"filter": {"@id": [ids[3], str(ids[4])]}}) == ids[3:5]
    assert select({"filter": {"id": [ids[3], ids[4]]}}) == ids[3:5]
    assert len(select({"filter": {"!@id": ids[:10]}, "start": 0})) == 50
    assert select({"filter": {"docType": "A", "%title": "doc 0"}}) == ids[1:10:2]
    assert select({"filter": {"=%title": "Doc 1%", "!docType": "A"}}) == ids[10:20:2]
    assert select({"filter": {"!=%title": "Doc _%"}}) == []
    assert select({"order": {"id": "DESC"}, "filter": {">id": ids[55]}}) == ids[:55:-1]
    assert select({"order": {"docType": "asc", "id": "desc"}, "filter": {"@id": ids[:4]}}) == [
        ids[3],
        ids[1],
        ids[2],
        ids[0],
    ]
    assert select({"filter": {">=dateCreate": "2025-11-06T09:37:54+03:00", "status": "N"}}) == ids[:50]
    assert select({"filter": {">dateCreate": "2025-11-06T06:37:54+00:00"}}) == []
    row = p.call("catalog.document.list", {"select": ["id", "STATUS", "nope"], "filter": {"id": ids[0]}})
    assert row.result["documents"] == [{"id": ids[0], "status": "N"}]
    assert p.error("catalog.document.list", {"filter": "string"}).params == {
        "value": "string",
        "param": "filter",
        "type": "array",
    }
    assert p.error("catalog.document.list", user=99).key == "read.no-rights"
    assert p.call("catalog.document.list", portal=2).result == {"documents": []}


# --- delete / deleteList -------------------------------------------------------------------------


def test_delete(p: Portal) -> None:
    draft, conducted = p.doc(), p.doc(conduct=True)
    assert p.call("catalog.document.delete", {"id": conducted}) is None
    assert p.exists(conducted)
    assert p.call("catalog.document.delete", {"id": draft}) is True
    assert not p.exists(draft)
    assert p.error("catalog.document.delete", {"id": draft}).key == "delete.not-found"
    assert p.error("catalog.document.delete", {"id": p.doc()}, user=4).key == "delete.no-rights"
    assert p.error("catalog.document.delete", {"id": p.doc(store="restricted_store_id")}, user=3).key == (
        "delete.no-rights"
    )
    assert p.error("catalog.document.delete", {"id": 1}, portal=2).key == "delete.plan"
    assert p.call("catalog.document.cancel", {"id": conducted}) is True
    assert p.call("catalog.document.delete", {"id": conducted}) is True


def test_delete_list_is_not_atomic(p: Portal) -> None:
    first, conducted, last = p.doc(), p.doc(conduct=True, title="Busy"), p.doc()
    error = p.error("catalog.document.deleteList", {"documentIds": [first, conducted, 10**6, last]})
    assert (error.key, error.params) == ("delete-list.conducted", {"id": conducted, "title": "Busy"})
    assert not p.exists(first) and not p.exists(last) and p.exists(conducted)
    error = p.error("catalog.document.deleteList", {"documentIds": {"0": "999999"}})
    assert (error.key, error.params) == ("delete-list.not-found", {"id": "999999"})
    assert p.call("catalog.document.deleteList", {"documentIds": []}) is True
    assert p.error("catalog.document.deleteList", {"documentIds": [1]}, portal=2).key == "delete-list.plan"


# --- conduct / cancel and the list variants ------------------------------------------------------


def test_conduct_and_cancel_change_status_and_stock(p: Portal) -> None:
    doc_id = p.doc("S", "2.5")
    assert p.call("catalog.document.conduct", {"id": doc_id}) is True
    assert p.status(doc_id) == "Y"
    balances = p.call("catalog.storeproduct.list", {"filter": {"productId": p.fx["product_id"]}})
    assert balances.result["storeProducts"] == [
        {
            "amount": 2.5,
            "id": 1,
            "productId": p.fx["product_id"],
            "quantityReserved": 0,
            "storeId": p.fx["main_store_id"],
        }
    ]
    assert p.call("catalog.storeproduct.get", {"id": 1}) == {
        "storeProduct": balances.result["storeProducts"][0]
    }
    assert p.call("catalog.document.cancel", {"id": doc_id}) is True
    assert p.status(doc_id) == "C"
    assert p.call("catalog.storeproduct.get", {"id": "1"})["storeProduct"]["amount"] == 0
    assert p.error("catalog.document.cancel", {"id": doc_id}).key == "cancel.not-conducted"
    assert p.error("catalog.document.cancel", {"id": p.doc()}).key == "cancel.not-conducted"


def test_conduct_failures_carry_the_reason(p: Portal) -> None:
    error = p.error("catalog.document.conduct", {"id": p.doc(amount=None)})
    assert (error.key, error.params["error"]) == ("conduct.failed", MessageRef("reason.no-items"))
    error = p.error("catalog.document.conduct", {"id": p.doc("D", 3)})
    assert error.params["error"] == MessageRef(
        "reason.insufficient-amount", {"product": p.fx["product_id"], "name": "Monster Energy"}
    )
    http, _code, text = error.render(load_profile("seed"))
    assert http == 400 and "Monster Energy" in text


def test_plan_and_mode_come_before_existence(p: Portal) -> None:
    for method, plan, mode in (
        ("catalog.document.conduct", "conduct.plan", "conduct.mode-disabled"),
        ("catalog.document.cancel", "cancel.plan", "cancel.mode-disabled"),
        ("catalog.document.confirm", "confirm.plan", "conduct.mode-disabled"),  # its own page's plan wording
        ("catalog.document.unconfirm", "cancel.plan", "cancel.mode-disabled"),
    ):
        assert p.error(method, {"id": 10**6}, portal=2).key == plan
        assert p.error(method, {"id": 10**6}, portal=3).key == mode
    for method, prefix in (
        ("catalog.document.conductList", "conduct-list"),
        ("catalog.document.cancelList", "cancel-list"),
    ):
        assert p.error(method, {"documentIds": [10**6]}, portal=2).key == f"{prefix}.plan"
        assert p.error(method, {"documentIds": [10**6]}, portal=3).key == f"{prefix}.mode-disabled"


def test_rights_on_conduct_and_cancel(p: Portal) -> None:
    restricted = p.doc(store="restricted_store_id", title="Hidden")
    assert p.error("catalog.document.conduct", {"id": restricted}, user=3).key == "conduct.no-store-rights"
    assert p.error("catalog.document.conduct", {"id": restricted}, user=4).key == "conduct.no-rights"
    p.call("catalog.document.conduct", {"id": restricted}, user=2)
    assert p.error("catalog.document.cancel", {"id": restricted}, user=2).key == "cancel.no-rights"
    assert p.error("catalog.document.cancel", {"id": restricted}, user=3).key == "cancel.no-store-rights"
    error = p.error("catalog.document.cancelList", {"documentIds": [restricted]}, user=2)
    assert (error.key, error.params["title"]) == ("cancel-list.no-rights", "Hidden")
    assert p.call("catalog.document.cancel", {"id": restricted}, user=6) is True


def test_cancel_list_is_not_atomic_and_reports_the_first_failure(p: Portal) -> None:
    a, draft, b = p.doc(conduct=True), p.doc(title="Draft"), p.doc(conduct=True)
    error = p.error("catalog.document.cancelList", {"documentIds": [str(a), draft, "x", b]})
    assert (error.key, error.params) == ("cancel-list.not-conducted", {"id": draft, "title": "Draft"})
    assert (p.status(a), p.status(draft), p.status(b)) == ("C", "N", "C")
    error = p.error("catalog.document.cancelList", {"documentIds": ["x"]})
    assert (error.key, error.params) == ("cancel-list.not-found", {"id": "x"})
    c, d = p.doc(conduct=True), p.doc(conduct=True)
    assert p.call("catalog.document.cancelList", {"documentIds": {"0": str(c), "1": str(d)}}) is True
    assert (p.status(c), p.status(d)) == ("C", "C")


def test_conduct_list_is_not_atomic(p: Portal) -> None:
    good, empty, other = p.doc(), p.doc(amount=None), p.doc()
    error = p.error("catalog.document.conductList", {"documentIds": [good, empty, other]})
    assert error.key == "conduct-list.failed"
    assert error.params == {
        "id": empty,
        "title": f"Goods Acquisition {empty}",
        "error": MessageRef("reason.no-items"),
    }
    assert (p.status(good), p.status(empty), p.status(other)) == ("Y", "N", "Y")
    assert p.error("catalog.document.conductList", {"documentIds": [999999]}).params == {"id": "999999"}


# --- items, balances, catalogs, products, stores -------------------------------------------------


def test_elements(p: Portal) -> None:
    doc_id = p.doc("M", None)
    fx = p.fx
    fields = {
        "docId": str(doc_id),
        "elementId": fx["product_id"],
        "storeFrom": fx["main_store_id"],
        "storeTo": fx["second_store_id"],
        "amount": "1.5",
        "purchasingPrice": 10,
    }
    item = p.call("catalog.document.element.add", {"fields": fields})["documentElement"]
    assert item == {
        "amount": 1.5,
        "docId": doc_id,
        "elementId": fx["product_id"],
        "id": item["id"],
        "purchasingPrice": 10,
        "storeFrom": fx["main_store_id"],
        "storeTo": fx["second_store_id"],
    }
    updated = p.call("catalog.document.element.update", {"id": item["id"], "fields": {"amount": 2}})
    assert (
        updated["documentElement"]["amount"] == 2
        and updated["documentElement"]["storeTo"] == fx["second_store_id"]
    )
    listed = p.call("catalog.document.element.list", {"filter": {"docId": doc_id}})
    assert listed.result == {"documentElements": [updated["documentElement"]]} and listed.total == 1
    assert p.error("catalog.document.element.add", {"fields": {**fields, "storeTo": None}}).params == {
        "param": "storeTo"
    }
    assert (
        p.error("catalog.document.element.add", {"fields": {**fields, "docId": 10**6}}).key
        == "element.not-found"
    )
    assert p.error("catalog.document.element.add", {"fields": {**fields, "elementId": 10**6}}).key == (
        "element.not-found"
    )
    assert p.error("catalog.document.element.add", {"fields": fields}, user=4).key == "element.denied"
    restricted = {**fields, "storeTo": fx["restricted_store_id"]}
    assert p.error("catalog.document.element.add", {"fields": restricted}, user=3).key == "element.denied"
    assert p.error("catalog.document.element.update", {"id": 10**6, "fields": {}}).key == "element.not-found"
    assert p.error("catalog.document.element.list", user=99).key == "element.denied"
    assert p.call("catalog.document.element.delete", {"id": item["id"]}) is True
    assert p.error("catalog.document.element.delete", {"id": item["id"]}).key == "element.not-found"

    conducted = p.doc(conduct=True)
    existing = p.call("catalog.document.element.list", {"filter": {"docId": conducted}}).result[
        "documentElements"
    ]
    assert p.error("catalog.document.element.delete", {"id": existing[0]["id"]}).key == "element.conducted"
    assert p.error("catalog.document.element.add", {"fields": {**fields, "docId": conducted}}).key == (
        "element.conducted"
    )


def test_element_list_shows_only_the_rows_a_user_may_see(p: Portal) -> None:
    """element.list: "Records are automatically limited by available document types and the user's
    permissions on warehouses"; an administrator sees every row."""
    receipt = p.doc("A", store="visible_store_id")
    hidden_store = p.doc("A", store="restricted_store_id")
    write_off = p.doc("D")

    def rows(user: int) -> set[int]:
        listed = p.call("catalog.document.element.list", {"select": ["docId"]}, user=user).result
        return {r["docId"] for r in listed["documentElements"]}

    assert rows(1) == {receipt, hidden_store, write_off}
    assert rows(3) == {receipt, write_off}  # every document right, but not the restricted warehouse
    assert rows(7) == {receipt, hidden_store}  # a right on receipts only, every warehouse
    assert rows(4) == set()  # the catalog reader holds no document right at all


def test_store_products(p: Portal) -> None:
    assert p.error("catalog.storeproduct.get", {}).key == "param.missing"
    assert p.error("catalog.storeproduct.list", user=99).key == "storeproduct.denied"
    assert p.error("catalog.storeproduct.get", {"id": 1}, user=99).key == "storeproduct.denied"
    p.doc(conduct=True)
    p.doc(store="second_store_id", conduct=True)
    listed = p.call(
        "catalog.storeproduct.list", {"filter": {"storeId": p.fx["second_store_id"]}, "select": ["amount"]}
    )
    assert listed.result == {"storeProducts": [{"amount": 5}]}


def test_catalog_product_and_store_methods(p: Portal) -> None:
    catalogs = p.call("catalog.catalog.list").result["catalogs"]
    assert [(c["id"], c["iblockId"]) for c in catalogs] == [(21, 21)]
    product = p.call("catalog.product.add", {"fields": {"iblockId": 21, "name": "Gadget"}})["element"]
    assert (product["name"], product["iblockId"]) == ("Gadget", 21)
    products = p.call("catalog.product.list", {"select": ["id", "name"], "filter": {"iblockId": 21}}).result
    assert {"id": product["id"], "name": "Gadget"} in products["products"]
    assert p.error("catalog.product.list", {"select": ["id"]}).key == "param.missing"
    assert p.call("catalog.product.delete", {"id": product["id"]}) is True
    assert p.error("catalog.product.delete", {"id": product["id"]}).key == "param.invalid"
    assert p.error("catalog.product.add", {"fields": {"iblockId": 22, "name": "x"}}).key == "param.invalid"

    store = p.call("catalog.store.add", {"fields": {"title": "Pop-up", "address": "Main St. 52"}})["store"]
    assert (store["title"], store["active"], store["sort"]) == ("Pop-up", "Y", 100)
    active = p.call("catalog.store.list", {"select": ["id"], "filter": {"active": "Y"}}).result["stores"]
    assert active[0] == {"id": p.fx["main_store_id"]} and {"id": store["id"]} in active
    assert p.error("catalog.store.add", {"fields": {"title": "x"}}).params == {"param": "address"}
    assert p.error("catalog.store.add", {"fields": {}}).params == {"param": "fields"}
    assert p.call("catalog.store.delete", {"id": store["id"]}) is True
    for method, params in (
        ("catalog.store.add", {"fields": {"address": "x"}}),
        ("catalog.store.list", {}),
        ("catalog.store.delete", {"id": 1}),
        ("catalog.product.add", {"fields": {"name": "x"}}),
        ("catalog.product.delete", {"id": 1}),
        ("catalog.catalog.list", {}),
    ):
        assert p.error(method, params, user=6).key == "admin.denied"
    assert p.error("catalog.product.list", {"filter": {"iblockId": 21}}, user=99).key == "admin.denied"
    assert p.call("catalog.enum.getStoreDocumentTypes", user=99)["enum"][0] == {
        "id": "A",
        "name": "Goods Receipt",
    }
