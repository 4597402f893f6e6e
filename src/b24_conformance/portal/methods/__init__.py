"""The REST method handlers of the reference portal, one module per family, and their registry `METHODS`.

  context.py    what every handler is given (`CallContext`) and the rights checks families share
  documents.py  catalog.document.* (the state machine's methods and the document CRUD)
  elements.py   catalog.document.element.* (a document's items)
  contractors.py  catalog.documentcontractor.* (the supplier bound to a receipt)
  catalog.py    catalog.enum, catalog.storeproduct, catalog.catalog, catalog.product, catalog.store

A handler takes a `CallContext` and the decoded params, coerces them the way Bitrix's controller
binder does (params.py), calls the domain (inventory.py, or catalog.py for the plain CRUD) and
returns the `result` value, or a `ListResult` (listing.py). Every documented failure is a
`PortalError` with a key of suites/profiles/README.md; hostile input never raises anything else.

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
 9. Suppliers. With `require_contractor` on (the default, as on real portals; `portal serve
    --no-require-supplier` turns it off, and the portal then offers no `supplier_contact_id`
    fixture, so the sandbox binds none), a receipt (A) conducts only with a supplier bound through
    `catalog.documentcontractor.add`, else `reason.no-contractor` (real portals refuse it with
    CAT_DOC_WRONG_CONTRACTOR; the docs give "Supplier not specified" as the example reason). The
    vendors are a fixed seed set per portal (contacts 101, 102; companies 201, 202); the portal has
    no crm.* method and CRM is always the provider, so `contractor.no-crm` is never sent. `add` needs
    `fields` (`param.missing`) and refuses in its page's table order: the document
    (`contractor.doc-not-found`), type A, not conducted (only `Y`: the row says "conducted", so a
    cancelled receipt may get a supplier), entity type 3 or 4, a vendor of that type, not bound
    twice, at most one company, then the rights: create-and-edit on receipts, catalog and inventory
    access (`contractor.denied`; the server source asks them first, the page lists them last). A
    field that is absent or no integer gets its own row's error, as the Value column words them
    ("An invalid or non-existent `entityId`"), not code 100. `delete`: found, then the same rights,
    in any status (its table names no status refusal); a refusal is its table's error, not the
    `null` its Returned Data mentions. `list`/`getFields`: catalog read and inventory access (no
    per-type view right is modelled). A binding goes with its document.
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

from . import catalog, contractors, documents, elements
from .context import CallContext, Handler, MethodSpec

__all__ = ["METHODS", "CallContext", "Handler", "MethodSpec"]


def _registry() -> dict[str, MethodSpec]:
    """Every method, keyed by its lower-case name (Bitrix matches method names case-insensitively)."""
    handlers = (*documents.HANDLERS, *elements.HANDLERS, *contractors.HANDLERS, *catalog.HANDLERS)
    return {name.lower(): MethodSpec(name, handler) for name, handler in handlers}


METHODS: dict[str, MethodSpec] = _registry()
