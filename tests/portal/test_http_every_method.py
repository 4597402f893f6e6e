"""Every registered method, called over real HTTP in one document's life, each answer checked against
its schema. The walk must name every method in METHODS, so a new method cannot go untested."""

from __future__ import annotations

from typing import Any

import httpx

from b24_conformance.contract.schemas import load_all, validate
from b24_conformance.portal.methods import METHODS
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings


def test_every_method_answers_over_http() -> None:
    schemas = load_all()
    called: set[str] = set()
    with EmbeddedPortal(PortalSettings(tls=False, rate_threshold=0)) as portal, httpx.Client() as client:
        base = portal.webhook_url("admin")
        fx = portal.fixtures

        def call(method: str, params: dict[str, Any] | None = None, *, expect: Any = ...) -> Any:
            response = client.post(base + method, json=params or {})
            assert response.status_code == 200, (method, response.text)
            body = response.json()
            for name in (f"result/{method}", "success"):
                if name in schemas:
                    assert validate(name, body) == [], (method, validate(name, body))
                    break
            if expect is not ...:
                assert body["result"] == expect and type(body["result"]) is type(expect), (method, body)
            called.add(method)
            return body["result"]

        iblock = call("catalog.catalog.list")["catalogs"][0]["iblockId"]
        store = call("catalog.store.add", {"fields": {"title": "walk", "address": "a"}})["store"]["id"]
        assert any(s["id"] == store for s in call("catalog.store.list")["stores"])
        product = call("catalog.product.add", {"fields": {"iblockId": iblock, "name": "walk"}})["element"]["id"]
        assert any(p["id"] == product for p in
                   call("catalog.product.list", {"select": ["id", "iblockId"], "filter": {"iblockId": iblock}})["products"])
        assert call("catalog.document.mode.status") == "Y"
        assert {t["id"] for t in call("catalog.enum.getStoreDocumentTypes")["enum"]} >= {"A", "S", "M", "R", "D"}
        assert "docType" in call("catalog.document.getFields")["document"]
        assert "amount" in call("catalog.document.element.getFields")["documentElement"]
        assert "docType" in call("catalog.document.fields")[0]                 # deprecated
        assert "amount" in call("catalog.document.element.fields")[0]          # deprecated

        def new_document(title: str, amount: int) -> int:
            doc = call("catalog.document.add", {"fields": {"docType": "S", "currency": "USD",
                                                           "responsibleId": 1, "title": title}})["document"]
            assert doc["status"] == "N"
            call("catalog.document.element.add", {"fields": {"docId": doc["id"], "elementId": product,
                                                             "storeTo": store, "amount": amount}})
            return doc["id"]

        doc = new_document("walk", 2)
        assert call("catalog.document.update", {"id": doc, "fields": {"title": "walked"}})["document"]["title"] == "walked"
        item = call("catalog.document.element.add", {"fields": {"docId": doc, "elementId": fx["product_id"],
                                                                "storeTo": store, "amount": 1}})["documentElement"]["id"]
        call("catalog.document.element.update", {"id": item, "fields": {"amount": 4}})
        call("catalog.document.element.delete", {"id": item}, expect=True)
        items = call("catalog.document.element.list", {"filter": {"docId": doc}})["documentElements"]
        assert [i["amount"] for i in items] == [2]

        call("catalog.document.conduct", {"id": doc}, expect=True)
        rows = call("catalog.storeproduct.list", {"filter": {"productId": product}})["storeProducts"]
        assert [(r["storeId"], r["amount"]) for r in rows] == [(store, 2)]
        assert call("catalog.storeproduct.get", {"id": rows[0]["id"]})["storeProduct"]["amount"] == 2
        assert call("catalog.document.delete", {"id": doc}) is None  # conducted: documented null
        call("catalog.document.cancel", {"id": doc}, expect=True)
        call("catalog.document.confirm", {"id": doc}, expect=True)      # deprecated alias of conduct
        call("catalog.document.unconfirm", {"id": doc}, expect=True)    # deprecated alias of cancel
        assert call("catalog.document.list", {"filter": {"id": doc}})["documents"][0]["status"] == "C"

        others = [new_document("walk a", 1), new_document("walk b", 1)]
        call("catalog.document.conductList", {"documentIds": others}, expect=True)
        call("catalog.document.cancelList", {"documentIds": others}, expect=True)
        call("catalog.document.deleteList", {"documentIds": others}, expect=True)
        call("catalog.document.delete", {"id": doc}, expect=True)
        assert call("catalog.document.list", {"filter": {"title": "walk"}})["documents"] == []

        # a receipt conducts with its supplier bound (catalog.documentcontractor.*)
        assert call("catalog.documentcontractor.getFields")["documentContractor"]["entityId"]["isRequired"] is True
        receipt = call("catalog.document.add", {"fields": {"docType": "A", "currency": "USD",
                                                           "responsibleId": 1}})["document"]["id"]
        call("catalog.document.element.add", {"fields": {"docId": receipt, "elementId": product,
                                                         "storeTo": store, "amount": 1}})
        supplier = {"documentId": receipt, "entityTypeId": 3, "entityId": fx["supplier_contact_id"]}
        binding = call("catalog.documentcontractor.add", {"fields": supplier})["documentContractor"]
        assert binding == {**supplier, "id": binding["id"]}
        assert call("catalog.documentcontractor.list", {"filter": {"documentId": receipt}})["documentContractor"] \
            == [binding]
        call("catalog.document.conduct", {"id": receipt}, expect=True)
        call("catalog.document.cancel", {"id": receipt}, expect=True)
        call("catalog.documentcontractor.delete", {"id": binding["id"]}, expect=True)
        assert call("catalog.documentcontractor.list", {"filter": {"documentId": receipt}})["documentContractor"] == []
        call("catalog.document.delete", {"id": receipt}, expect=True)
        call("catalog.product.delete", {"id": product}, expect=True)
        call("catalog.store.delete", {"id": store}, expect=True)

    assert {spec.name for spec in METHODS.values()} - called == set()


def test_a_warehouse_that_documents_use_is_not_deleted() -> None:
    """catalog-store-delete.md: `0` "Documents are issued for this warehouse", for a document of any
    status naming it as storeFrom or storeTo; deleted once no document does. A product documents use
    is deleted (catalog-product-delete.md documents no such refusal)."""
    with EmbeddedPortal(PortalSettings(tls=False, rate_threshold=0)) as portal, httpx.Client() as client:
        base = portal.webhook_url("admin")

        def post(method: str, params: dict[str, Any]) -> httpx.Response:
            return client.post(base + method, json=params)

        def result(method: str, params: dict[str, Any]) -> Any:
            response = post(method, params)
            assert response.status_code == 200, (method, response.text)
            return response.json()["result"]

        def refused(store: int) -> None:
            response = post("catalog.store.delete", {"id": store})
            assert response.status_code == 400
            assert response.json() == {"error": "0", "error_description": "Documents are issued for this warehouse"}

        stores = [result("catalog.store.add", {"fields": {"title": t, "address": "a"}})["store"]["id"]
                  for t in ("from", "to")]
        product = result("catalog.product.add", {"fields": {"iblockId": 21, "name": "p"}})["element"]["id"]

        def document(doc_type: str, **ends: int) -> int:
            doc = result("catalog.document.add", {"fields": {"docType": doc_type, "currency": "USD",
                                                             "responsibleId": 1}})["document"]["id"]
            result("catalog.document.element.add", {"fields": {"docId": doc, "elementId": product, "amount": 1,
                                                               **ends}})
            return doc

        stock = document("S", storeTo=stores[0])
        refused(stores[0])  # a draft
        result("catalog.document.conduct", {"id": stock})
        transfer = document("M", storeFrom=stores[0], storeTo=stores[1])
        result("catalog.document.conduct", {"id": transfer})
        refused(stores[1])  # conducted, as storeTo
        result("catalog.document.cancel", {"id": transfer})
        refused(stores[0])  # cancelled, as storeFrom
        result("catalog.document.delete", {"id": transfer})
        assert result("catalog.store.delete", {"id": stores[1]}) is True
        result("catalog.document.cancel", {"id": stock})
        refused(stores[0])
        assert result("catalog.product.delete", {"id": product}) is True  # the documents still name it
        result("catalog.document.delete", {"id": stock})
        assert result("catalog.store.delete", {"id": stores[0]}) is True
