"""Schemathesis fuzzes the family's id-only and parameterless methods on the embedded reference portal (loopback).

The methods: cancel, conduct, their *List forms, delete, deleteList, element.delete, the deprecated
confirm/unconfirm/fields/element.fields, getFields, element.getFields and mode.status (`FUZZED`). The methods
with `fields` bodies are walked by the stateful phase in test_stateful.py.

The OpenAPI document is `build_openapi()`; the base URL is the portal's webhook URL without its trailing
slash (schemathesis joins it with `/catalog.document.cancel`). Checks are set for RPC reality
(contract-testing-anchors.md §1.4, §1.7):

- `not_a_server_error` stays on, with its default (any 5xx fails): a 500 is a portal bug.
- `positive_data_acceptance` also accepts 400: a schema-valid random `id` legitimately gets a business error
  ("Insufficient permissions to save the document", "Document not found", "…has not been conducted yet").
- `unsupported_method` and `allow_header_conformance` are off: Bitrix serves GET and POST for every method
  and sends no `Allow` header. `use_after_free` / `ensure_resource_availability` key on REST verbs; off.
- `response_schema_conformance`, `status_code_conformance`, `content_type_conformance` and
  `negative_data_rejection` stay on with their defaults.

`negative_data_rejection` is triaged, not switched off. The request schemas are strict (what a client should
send), while Bitrix's parameter binder, and the portal after it, is lenient the way PHP is: unknown keys are
ignored, `auth` is ignored on a webhook URL, "142" binds as 142, a JSON object binds as an array of its values,
and an empty `documentIds` does nothing and returns `true` (portal/methods/__init__.py, choices 1-2). A `filter_failure`
hook drops an "accepted negative data" failure only when the body, read that way, is a valid request; every
other acceptance (a float or boolean id, a non-numeric string that binds, …) still fails the test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import AcceptedNegativeData

from b24_conformance.contract import schemas
from b24_conformance.contract.openapi import SCHEMATHESIS_CHECKS, build_openapi
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings

FUZZED = ("catalog.document.cancel", "catalog.document.conduct", "catalog.document.cancelList",
          "catalog.document.conductList", "catalog.document.delete", "catalog.document.deleteList",
          "catalog.document.element.delete", "catalog.document.confirm", "catalog.document.unconfirm",
          "catalog.document.getFields", "catalog.document.element.getFields", "catalog.document.fields",
          "catalog.document.element.fields", "catalog.document.mode.status")
MAX_EXAMPLES = int(os.environ.get("B24_SCHEMATHESIS_MAX_EXAMPLES", "25"))  # per operation and phase
SEED = int(os.environ.get("B24_SCHEMATHESIS_SEED", "20251106"))

CONFIG: dict[str, Any] = {
    "seed": SEED,
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "database": "none"},
    "phases": {
        "coverage": {"unexpected-methods": []},
        "stateful": {"enabled": False},
    },
    "checks": SCHEMATHESIS_CHECKS,
    "request-timeout": 10,
}

full_schema = schemathesis.openapi.from_dict(build_openapi(), config=SchemathesisConfig.from_dict(CONFIG))
schema = full_schema.include(path_regex="^/(" + "|".join(name.replace(".", r"\.") for name in FUZZED) + ")$")



_DECIMAL = re.compile(r"[+-]?[0-9]+")


def _php_int(value: Any) -> Any:
    return int(value) if isinstance(value, str) and _DECIMAL.fullmatch(value) else value


def bound_as_bitrix(request_schema: str, body: Any) -> Any:
    """The body as Bitrix's binder sees it on a webhook call (see the module docstring)."""
    if not isinstance(body, dict):
        return body
    known = set(schemas.schema(request_schema).get("properties", {})) - {"auth"}
    out = {key: value for key, value in body.items() if key in known}
    if "id" in out:
        out["id"] = _php_int(out["id"])
    if "documentIds" in out:
        ids = out["documentIds"]
        if isinstance(ids, dict):
            ids = list(ids.values())
        if isinstance(ids, list):
            ids = [_php_int(item) for item in ids] or [1]  # empty: a documented no-op, stands in as valid
        out["documentIds"] = ids
    return out


@schema.hook
def filter_failure(ctx: Any, failure: Any, case: schemathesis.Case, response: Any) -> bool:
    """Drop an accepted-negative-data failure when Bitrix would bind the body to a valid request."""
    if not isinstance(failure, AcceptedNegativeData):
        return True
    name = "request/" + case.operation.path.lstrip("/")
    return not schemas.is_valid(name, bound_as_bitrix(name, case.body))


@pytest.fixture(scope="session")
def reference_portal() -> Iterator[EmbeddedPortal]:
    """One portal for the whole fuzz run; the rate limiter is effectively off so 503 means a bug."""
    with EmbeddedPortal(PortalSettings(rate_threshold=10**6)) as portal:
        yield portal


@pytest.fixture(scope="session")
def fuzz_base_url(reference_portal: EmbeddedPortal) -> str:
    return reference_portal.webhook_url("admin").rstrip("/")


def _call(base_url: str, method: str, body: dict[str, Any]) -> Any:
    """One hand-written call, checked by the same schemathesis checks as the fuzzed ones."""
    case = full_schema[f"/{method}"]["POST"].Case(body=body)
    return case.call_and_validate(base_url=base_url).json()


def test_success_chain_on_reference_portal(reference_portal: EmbeddedPortal, fuzz_base_url: str) -> None:
    """add -> element.add -> conduct -> cancel (and the List variants): the 200 bodies meet their schemas.

    Random ids almost never name a document, so the fuzz alone would see only errors. This runs first, so the
    fuzz's boundary cases (id 1) also meet a real document.
    """
    fixtures = reference_portal.fixtures
    added = _call(fuzz_base_url, "catalog.document.add",
                  {"fields": {"docType": "A", "currency": "USD", "responsibleId": 1, "title": "schemathesis"}})
    doc_id = added["result"]["document"]["id"]
    assert added["result"]["document"]["status"] == "N"
    _call(fuzz_base_url, "catalog.document.element.add", {"fields": {
        "docId": doc_id, "elementId": fixtures["product_id"], "storeTo": fixtures["main_store_id"],
        "amount": 5, "purchasingPrice": 10}})
    # a receipt conducts with its supplier (no operation of the fuzzed schema, so a plain call)
    supplier = {"documentId": doc_id, "entityTypeId": 3, "entityId": fixtures["supplier_contact_id"]}
    assert httpx.post(f"{fuzz_base_url}/catalog.documentcontractor.add", json={"fields": supplier}).status_code == 200
    assert _call(fuzz_base_url, "catalog.document.conduct", {"id": doc_id})["result"] is True
    assert _call(fuzz_base_url, "catalog.document.cancel", {"id": doc_id})["result"] is True
    again = _call(fuzz_base_url, "catalog.document.cancel", {"id": doc_id})
    assert set(again) >= {"error", "error_description"}, "a cancelled document cannot be cancelled again"
    assert _call(fuzz_base_url, "catalog.document.conductList", {"documentIds": [doc_id]})["result"] is True
    assert _call(fuzz_base_url, "catalog.document.cancelList", {"documentIds": [doc_id]})["result"] is True
    listed = _call(fuzz_base_url, "catalog.document.list", {"filter": {"id": doc_id}})
    assert [doc["status"] for doc in listed["result"]["documents"]] == ["C"]
    _call(fuzz_base_url, "catalog.storeproduct.list", {"filter": {"productId": fixtures["product_id"]}})


def test_fuzzed_operations_are_the_listed_ones() -> None:
    labels = sorted(result.ok().label for result in schema.get_all_operations())
    assert labels == sorted(f"POST /{name}" for name in FUZZED)


@schema.parametrize()
def test_fuzz_on_reference_portal(case: schemathesis.Case, fuzz_base_url: str) -> None:
    case.call_and_validate(base_url=fuzz_base_url)
