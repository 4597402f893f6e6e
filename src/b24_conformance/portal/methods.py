"""The REST method handlers of the reference portal and their registry, `METHODS`.

A handler takes a `CallContext` and the decoded params, coerces them the way Bitrix's controller
binder does, calls the domain (inventory.py) and returns the `result` value (or a `ListResult`).
Every documented failure is a `PortalError` with a key of suites/profiles/README.md; hostile input
never raises anything else.

Choices (where the docs are silent or contradict each other):
 1. Parameter coercion. An integer parameter accepts a JSON integer or a string of decimal digits
    with an optional sign; anything else (float, bool, "", "abc", list, object) is `param.invalid`
    (type `int`). Zero, negative and out-of-range (beyond signed 64 bit) ids are valid integers that
    name no row: not-found semantics. `#VALUE#` is rendered as PHP would print the value: `Array`
    for a list or object, `1`/`` for true/false.
 2. Array parameters (`documentIds`, `select`, `filter`, `order`, `fields`) accept a JSON array or
    an object (PHP's `documentIds[0]=…` form); a scalar is `param.invalid` (type `array`). An empty
    `documentIds` does nothing and returns `true`.
 3. List variants (`conductList`, `cancelList`, `deleteList`) are not atomic: every document is
    processed in its own transaction, successes stay, and after all are processed the FIRST failure
    is raised (so the error reports the earliest failing id in request order). An item of
    `documentIds` that is not an integer is reported per document as not found (`#ID#` = the value),
    as Bitrix looks it up as given. A missing warehouse right in a list variant is reported with
    the list's `no-rights` key (the list pages document no separate warehouse message).
 4. Check order. conduct: params, plan, mode, exists, conduct right, warehouse rights, then
    validity: already conducted (`Y`), no items, receipt without supplier, amounts/balances.
    cancel: params, plan, mode, exists, cancel right, warehouse rights, status `Y`. List variants
    check plan and mode once, before any document. `cancel` checks the mode although the cancel page
    does not list that error (`cancel.mode-disabled`).
 5. Re-conduct of a cancelled (`C`) document is allowed. Conducting a `Y` document is
    `conduct.failed` with `reason.already-conducted`.
 6. Cancel reverses exactly the movements recorded at conduct time (not a recomputation from the
    current items) and may leave a balance negative: the cancel page documents no such refusal.
 7. Balance arithmetic (the docs never spell it out): A/S +amount at storeTo; M -amount at
    storeFrom then +amount at storeTo; R/D -amount at storeFrom. Items apply in id order, outflow
    before inflow; a balance that would drop below zero, an amount <= 0, or an item without the
    warehouse its type needs refuses the whole conduct with `reason.insufficient-amount` (the
    "Incorrect quantity of goods #ID (NAME)" message). Amounts are exact decimals internally, so
    conduct followed by cancel restores balances exactly. Balance rows are created on first move.
 8. `total` is recalculated at conduct as the sum of amount x purchasingPrice ("calculated
    automatically after approval").
 9. With `require_contractor` on, every receipt (A) conduct fails with `reason.no-contractor`: this
    portal implements no supplier-binding method (`catalog.documentcontractor.*`).
10. Items (`element.add/update/delete`) may change only in status `N`; a cancelled (`C`) document
    counts as not `N` (`element.conducted`). The element's product and warehouses must exist on the
    portal, else `element.not-found`; the warehouse the type needs (storeTo for A/S/M, storeFrom for
    M/R/D) is required: `param.missing`. Element rights: the doc type's create-and-edit right and
    view-and-select on the element's warehouses (`element.denied`); `element.list`/`getFields` need
    the catalog read right (`element.denied`).
11. `add`: a missing `fields` is `param.missing`; a missing or unknown `docType` (types are A S M R D,
    upper case) is `add.bad-doc-type`; missing `currency`/`responsibleId` is `param.missing` with the
    field's name; `currency` must be three capital letters. Omitted optional fields are null, except
    `siteId` ("s1") and `docNumber` (the new id as a string). An empty title stays null; messages that
    need a title use "<type name from catalog.enum.getStoreDocumentTypes> <id>", e.g.
    "Goods Receipt 35". `createdBy` defaults to the caller. Adding works with inventory switched off
    (only the plan is checked). Datetimes are printed in UTC (`+00:00`).
12. `update`: `docType`, `currency`, `id`, `status`, `dateStatus`, `dateCreate`, `createdBy` and
    unknown fields are ignored silently; header fields may change in any status.
13. `delete` of a `Y` document returns `null` (documented); deleting `N`/`C` documents removes their
    items. The delete right and view-and-select on the items' warehouses are both needed
    (`delete.no-rights`). Inventory mode is not checked for delete.
14. `list` methods: page size 50, `next` = start + 50 while rows remain; `start=-1` skips counting
    (`total` 0, no `next`); a negative start other than -1 counts as 0. Filter keys take the
    documented prefixes (`>= > <= < = != ! @ !@ % =% %= !% !=% !%=`); `=`/`!=` with an array act as
    IN/NOT IN; LIKE is case-insensitive; unknown filter, order and select fields are ignored (a
    select with no known field selects everything); order directions are case-insensitive and
    anything but `desc` sorts ascending; nulls sort first. `catalog.document.list` shows every
    document of the portal to a user with the catalog read right.
15. `mode.status` returns "N" on a plan without inventory accounting.
16. `catalog.store.*` and `catalog.catalog.list` are administrator-only, as their pages say;
    `catalog.product.list` needs the catalog read right; all refusals there are `admin.denied`.
    A missing product, store or catalog in those methods is `param.invalid` with the entity's id type
    (the profiles have no dedicated key). `catalog.product.list` requires `filter.iblockId`
    (`param.missing`, param `iblockId`).
17. Deprecated `confirm`/`unconfirm` are exact aliases of `conduct`/`cancel` (same keys, same rights).
18. Rights are read once per user and kept (no REST method changes them); an unknown or deactivated user has none (the HTTP layer refuses a
    deactivated user's credential before any handler runs). `catalog.enum.getStoreDocumentTypes`
    answers any user. Amounts and prices must be finite and below 1e15 (`param.invalid`, type
    `double`); text containing a lone UTF-16 surrogate is `param.invalid` (type `string`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .database import PortalDB, PortalRecord
from .deviations import FAITHFUL, Deviations
from .entities import DOC_TYPES, TYPE_NAMES, ActionKeys, NewDocument, NewElement
from .errors import PortalError
from .fields import (
    CATALOG_TYPES,
    DOCUMENT_FIELDS,
    DOCUMENT_TYPES,
    ELEMENT_FIELDS,
    ELEMENT_TYPES,
    PRODUCT_TYPES,
    STORE_PRODUCT_TYPES,
    STORE_TYPES,
)
from .inventory import Inventory
from .listing import paginate, split_filter_key
from .params import (
    fields_param,
    int_param,
    invalid,
    maybe_int,
    required,
    shown,
    to_array,
    to_datetime,
    to_decimal,
    to_double,
    to_flag,
    to_id,
    to_int,
    to_object,
    to_text,
)
from .settings import PortalSettings

_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class ListResult:
    result: Any
    total: int
    next: int | None


@dataclass
class CallContext:
    """Built by the HTTP layer for one call."""

    db: PortalDB
    settings: PortalSettings
    portal: PortalRecord
    user_id: int
    now: float  # unix time of the call
    deviations: Deviations = FAITHFUL  # the domain deviations switched on (a faithful portal: none)


Handler = Callable[[CallContext, Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str  # canonical camelCase name, e.g. "catalog.document.cancelList"
    handler: Handler
    scope: str = "catalog"
    batch_allowed: bool = True


# --- keys per method ------------------------------------------------------------------------------

CONDUCT = ActionKeys("conduct.not-found", "conduct.no-rights", "conduct.no-store-rights", "conduct.failed")
CONDUCT_LIST = ActionKeys(
    "conduct-list.not-found", "conduct-list.no-rights", "conduct-list.no-rights", "conduct-list.failed"
)
CANCEL = ActionKeys("cancel.not-found", "cancel.no-rights", "cancel.no-store-rights", "cancel.not-conducted")
CANCEL_LIST = ActionKeys(
    "cancel-list.not-found", "cancel-list.no-rights", "cancel-list.no-rights", "cancel-list.not-conducted"
)
DELETE = ActionKeys("delete.not-found", "delete.no-rights", "delete.no-rights", "")
DELETE_LIST = ActionKeys(
    "delete-list.not-found", "delete-list.no-rights", "delete-list.no-rights", "delete-list.conducted"
)
UPDATE = ActionKeys("update.not-found", "update.no-rights", "update.no-rights", "")


# --- handlers: documents --------------------------------------------------------------------------


def _inventory(ctx: CallContext) -> Inventory:
    return Inventory.open(
        ctx.db, ctx.portal, ctx.user_id, ctx.now, require_contractor=ctx.settings.require_contractor,
        deviations=ctx.deviations,
    )


def _readable(inv: Inventory, key: str) -> Inventory:
    if not inv.rights.may_read:
        raise PortalError(key)
    return inv


def document_add(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    fields = fields_param(params)
    inv = _inventory(ctx)
    inv.require_plan("add.plan")
    doc_type = fields.get("docType")
    if not isinstance(doc_type, str) or doc_type not in DOC_TYPES:
        raise PortalError("add.bad-doc-type")
    if not inv.rights.may("edit", doc_type):
        raise PortalError("add.no-rights")
    currency = to_text(required(fields, "currency"), "currency")
    if not currency:
        raise PortalError("param.missing", param="currency")
    if not _CURRENCY.fullmatch(currency):
        raise invalid(currency, "currency", "string")
    new = NewDocument(
        doc_type=doc_type,
        currency=currency,
        responsible_id=_not_none(to_id(required(fields, "responsibleId"), "responsibleId")),
        site_id=to_text(fields.get("siteId"), "siteId") or "s1",
        date_document=to_datetime(fields.get("dateDocument"), "dateDocument"),
        title=to_text(fields.get("title"), "title") or None,
        commentary=to_text(fields.get("commentary"), "commentary"),
        total=to_double(fields.get("total"), "total"),
        doc_number=to_text(fields.get("docNumber"), "docNumber") or None,
        created_by=to_id(fields.get("createdBy"), "createdBy"),
    )
    return {"document": inv.add_document(new).to_api()}


def _not_none(value: int | None) -> int:
    assert value is not None
    return value


_UPDATE_PARSERS: Mapping[str, Callable[[Any, str], Any]] = {
    "responsibleId": lambda v, p: _not_none(to_id(v, p)) if v is not None else _raise_missing(p),
    "dateModify": lambda v, p: to_datetime(v, p),
    "dateDocument": to_datetime,
    "total": to_double,
    "commentary": to_text,
    "title": lambda v, p: to_text(v, p) or None,
    "docNumber": to_text,
    "modifiedBy": to_id,
}


def _raise_missing(param: str) -> Any:
    raise PortalError("param.missing", param=param)


def document_update(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    doc_id = int_param(params, "id")
    fields = fields_param(params)
    inv = _inventory(ctx)
    inv.require_plan("update.plan")
    changes = {k: parse(fields[k], k) for k, parse in _UPDATE_PARSERS.items() if k in fields}
    if changes.get("dateModify") is None:
        changes.pop("dateModify", None)
    return {"document": inv.update_document(doc_id, changes, UPDATE).to_api()}


def document_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    inv = _readable(_inventory(ctx), "read.no-rights")
    rows, total, nxt = paginate([d.to_api() for d in inv.documents()], DOCUMENT_TYPES, params)
    return ListResult({"documents": rows}, total, nxt)


def document_get_fields(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    _readable(_inventory(ctx), "read.no-rights")
    return {"document": {k: dict(v) for k, v in DOCUMENT_FIELDS.items()}}


def mode_status(ctx: CallContext, params: Mapping[str, Any]) -> str:
    inv = _readable(_inventory(ctx), "mode-status.denied")
    return "Y" if inv.mode_enabled else "N"


def document_delete(ctx: CallContext, params: Mapping[str, Any]) -> bool | None:
    doc_id = int_param(params, "id")
    inv = _inventory(ctx)
    inv.require_plan("delete.plan")
    return inv.delete_document(doc_id, DELETE, shown_id=shown(doc_id))


def document_conduct(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    doc_id = int_param(params, "id")
    inv = _inventory(ctx)
    inv.require_plan("conduct.plan")
    inv.require_mode("conduct.mode-disabled")
    inv.conduct(doc_id, CONDUCT, shown_id=shown(doc_id))
    return True


def document_cancel(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    doc_id = int_param(params, "id")
    inv = _inventory(ctx)
    inv.require_plan("cancel.plan")
    inv.require_mode("cancel.mode-disabled")
    inv.cancel(doc_id, CANCEL, shown_id=shown(doc_id))
    return True


def _each(ids: list[Any], action: Callable[..., Any], keys: ActionKeys) -> bool:
    """Run `action` per document, keep going after failures, then raise the first failure."""
    first: PortalError | None = None
    for raw in ids:
        try:
            action(maybe_int(raw), keys, shown_id=shown(raw))
        except PortalError as error:
            first = first or error
    if first is not None:
        raise first
    return True


def document_conduct_list(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    ids = to_array(required(params, "documentIds"), "documentIds")
    inv = _inventory(ctx)
    inv.require_plan("conduct-list.plan")
    inv.require_mode("conduct-list.mode-disabled")
    return _each(ids, inv.conduct, CONDUCT_LIST)


def document_cancel_list(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    ids = to_array(required(params, "documentIds"), "documentIds")
    inv = _inventory(ctx)
    inv.require_plan("cancel-list.plan")
    inv.require_mode("cancel-list.mode-disabled")
    if inv.deviations.cancel_list_atomic:  # a deviation: all or nothing, the first refusal cancels none
        for raw in ids:
            doc = inv.document(maybe_int(raw)) if maybe_int(raw) is not None else None
            if doc is None or doc.status != "Y":
                inv.cancel(maybe_int(raw), CANCEL_LIST, shown_id=shown(raw))
    return _each(ids, inv.cancel, CANCEL_LIST)


def document_delete_list(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    ids = to_array(required(params, "documentIds"), "documentIds")
    inv = _inventory(ctx)
    inv.require_plan("delete-list.plan")
    return _each(ids, inv.delete_document, DELETE_LIST)


# --- handlers: document items ---------------------------------------------------------------------


def _element_changes(fields: Mapping[str, Any]) -> dict[str, Any]:
    parsers: Mapping[str, Callable[[Any, str], Any]] = {
        "storeFrom": to_id,
        "storeTo": to_id,
        "amount": lambda v, p: Decimal(0) if v is None else to_decimal(v, p),
        "purchasingPrice": to_double,
    }
    return {k: parse(fields[k], k) for k, parse in parsers.items() if k in fields}


def element_add(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    fields = fields_param(params)
    doc_id = to_int(required(fields, "docId"), "docId")
    product_id = to_int(required(fields, "elementId"), "elementId")
    changes = _element_changes(fields)
    item = NewElement(
        doc_id=doc_id,
        element_id=product_id,
        store_from=changes.get("storeFrom"),
        store_to=changes.get("storeTo"),
        amount=changes.get("amount", Decimal(0)),
        purchasing_price=changes.get("purchasingPrice"),
    )
    return {"documentElement": _inventory(ctx).add_element(item).to_api()}


def element_update(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    element_id = int_param(params, "id")
    changes = _element_changes(fields_param(params))
    return {"documentElement": _inventory(ctx).update_element(element_id, changes).to_api()}


def element_delete(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    _inventory(ctx).delete_element(int_param(params, "id"))
    return True


def element_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    inv = _readable(_inventory(ctx), "element.denied")
    rows, total, nxt = paginate([e.to_api() for e in inv.elements()], ELEMENT_TYPES, params)
    return ListResult({"documentElements": rows}, total, nxt)


def element_get_fields(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    _readable(_inventory(ctx), "element.denied")
    return {"documentElement": {k: dict(v) for k, v in ELEMENT_FIELDS.items()}}


def enum_document_types(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    return {"enum": [{"id": t, "name": TYPE_NAMES[t]} for t in DOC_TYPES]}


# --- handlers: balances, catalogs, products, stores -----------------------------------------------


def store_product_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    inv = _readable(_inventory(ctx), "storeproduct.denied")
    rows, total, nxt = paginate([s.to_api() for s in inv.store_products()], STORE_PRODUCT_TYPES, params)
    return ListResult({"storeProducts": rows}, total, nxt)


def store_product_get(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    row_id = int_param(params, "id")
    inv = _readable(_inventory(ctx), "storeproduct.denied")
    found = inv.store_product(row_id)
    if found is None:
        raise PortalError("storeproduct.not-found")
    return {"storeProduct": found.to_api()}


def _admin(ctx: CallContext) -> Inventory:
    inv = _inventory(ctx)
    if not inv.rights.is_admin:
        raise PortalError("admin.denied")
    return inv


def catalog_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    inv = _admin(ctx)
    rows, total, nxt = paginate([c.to_api() for c in inv.catalogs()], CATALOG_TYPES, params)
    return ListResult({"catalogs": rows}, total, nxt)


def product_add(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    fields = fields_param(params)
    inv = _admin(ctx)
    iblock_id = to_int(required(fields, "iblockId"), "iblockId")
    name = to_text(required(fields, "name"), "name")
    if not name:
        raise PortalError("param.missing", param="name")
    extra = {
        "active": to_flag(fields.get("active", "Y"), "active"),
        "code": to_text(fields.get("code"), "code"),
        "xmlId": to_text(fields.get("xmlId"), "xmlId"),
    }
    product = inv.add_product(iblock_id, name, extra)
    if product is None:
        raise invalid(iblock_id, "iblockId", "catalog_catalog.id")
    return {"element": product.to_api()}


def product_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    inv = _readable(_inventory(ctx), "admin.denied")
    filters = to_object(params.get("filter") or {}, "filter")
    if not any(split_filter_key(k)[1].lower() == "iblockid" for k in filters):
        raise PortalError("param.missing", param="iblockId")
    rows, total, nxt = paginate([p.to_api() for p in inv.products()], PRODUCT_TYPES, params)
    return ListResult({"products": rows}, total, nxt)


def product_delete(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    product_id = int_param(params, "id")
    if not _admin(ctx).delete_product(product_id):
        raise invalid(product_id, "id", "catalog_product.id")
    return True


_STORE_PARSERS: Mapping[str, Callable[[Any, str], Any]] = {
    "title": to_text,
    "address": to_text,
    "active": to_flag,
    "code": to_text,
    "description": to_text,
    "email": to_text,
    "phone": to_text,
    "schedule": to_text,
    "xmlId": to_text,
    "sort": lambda v, p: 100 if v is None else _not_none(to_id(v, p)),
    "gpsN": to_double,
    "gpsS": to_double,
    "issuingCenter": to_flag,
}


def store_add(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    fields = fields_param(params)
    if not fields:
        raise PortalError("param.missing", param="fields")
    inv = _admin(ctx)
    values = {k: parse(fields[k], k) for k, parse in _STORE_PARSERS.items() if k in fields}
    if not values.get("address"):
        raise PortalError("param.missing", param="address")
    return {"store": inv.add_store(values).to_api()}


def store_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    inv = _admin(ctx)
    rows, total, nxt = paginate([s.to_api() for s in inv.stores()], STORE_TYPES, params)
    return ListResult({"stores": rows}, total, nxt)


def store_delete(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    store_id = int_param(params, "id")
    if not _admin(ctx).delete_store(store_id):
        raise invalid(store_id, "id", "catalog_store.id")
    return True


# --- the registry ---------------------------------------------------------------------------------

_HANDLERS: tuple[tuple[str, Handler], ...] = (
    ("catalog.document.add", document_add),
    ("catalog.document.update", document_update),
    ("catalog.document.list", document_list),
    ("catalog.document.getFields", document_get_fields),
    ("catalog.document.mode.status", mode_status),
    ("catalog.document.delete", document_delete),
    ("catalog.document.deleteList", document_delete_list),
    ("catalog.document.conduct", document_conduct),
    ("catalog.document.conductList", document_conduct_list),
    ("catalog.document.cancel", document_cancel),
    ("catalog.document.cancelList", document_cancel_list),
    ("catalog.document.confirm", document_conduct),
    ("catalog.document.unconfirm", document_cancel),
    ("catalog.document.element.add", element_add),
    ("catalog.document.element.update", element_update),
    ("catalog.document.element.delete", element_delete),
    ("catalog.document.element.list", element_list),
    ("catalog.document.element.getFields", element_get_fields),
    ("catalog.enum.getStoreDocumentTypes", enum_document_types),
    ("catalog.storeproduct.list", store_product_list),
    ("catalog.storeproduct.get", store_product_get),
    ("catalog.catalog.list", catalog_list),
    ("catalog.product.add", product_add),
    ("catalog.product.list", product_list),
    ("catalog.product.delete", product_delete),
    ("catalog.store.add", store_add),
    ("catalog.store.list", store_list),
    ("catalog.store.delete", store_delete),
)


def _registry() -> dict[str, MethodSpec]:
    return {name.lower(): MethodSpec(name, handler) for name, handler in _HANDLERS}


METHODS: dict[str, MethodSpec] = _registry()
