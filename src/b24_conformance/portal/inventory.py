"""The inventory domain: the document state machine (conduct, cancel, delete and their list variants),
balances, and the rules for editing documents and their items; pure Python over repository.py's port.

It knows no HTTP and no SQL. Each operation is one unit of work (`repo.transaction()`), so it
changes everything or nothing, and two operations never interleave. Failures are `PortalError`s
with profile keys. The deviations a mutant switches on are read at named branch points.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from .deviations import FAITHFUL, Deviations
from .entities import (
    ACTIONS,
    CANCELLED,
    COMPANY,
    CONDUCTED,
    CONTACT,
    DOC_TYPES,
    DRAFT,
    RECEIPT,
    ZERO,
    ActionKeys,
    Document,
    DocumentContractor,
    DocumentElement,
    DocumentRef,
    Movement,
    NewDocument,
    NewElement,
    PortalRecord,
    Rights,
    iso,
)
from .errors import MessageRef, PortalError
from .repository import InventoryRepository, InventoryTransaction

# Fields a document update may change (camelCase field → Document field).
DOCUMENT_UPDATABLE: Mapping[str, str] = {
    "responsibleId": "responsible_id",
    "dateDocument": "date_document",
    "total": "total",
    "commentary": "commentary",
    "title": "title",
    "docNumber": "doc_number",
    "modifiedBy": "modified_by",
    "dateModify": "date_modify",
}


def _moves(doc_type: str, item: DocumentElement) -> list[Movement] | None:
    """The balance changes one item makes when conducted, outflows first; None if a warehouse is missing."""
    out = [Movement(item.element_id, item.store_from, -item.amount)] if doc_type in "MRD" else []
    inn = [Movement(item.element_id, item.store_to, item.amount)] if doc_type in "ASM" else []
    moves = out + inn
    return None if any(m.store_id is None for m in moves) else moves


@dataclass(frozen=True, slots=True)
class Inventory:
    """One caller's view of one portal: every operation runs in its own unit of work."""

    repo: InventoryRepository
    portal: PortalRecord
    user_id: int
    rights: Rights
    now: float
    require_contractor: bool = False
    deviations: Deviations = FAITHFUL  # switched on by mutants (portal/mutants.py)

    @classmethod
    def open(
        cls, repo: InventoryRepository, portal: PortalRecord, user_id: int, now: float, *,
        require_contractor: bool = False, deviations: Deviations = FAITHFUL,
    ) -> Inventory:
        return cls(repo, portal, user_id, repo.rights(user_id), now, require_contractor, deviations)

    # -- portal-wide preconditions

    def require_plan(self, key: str) -> None:
        if self.deviations.cancel_ignores_plan and key.startswith("cancel."):
            return
        if self.deviations.cancel_list_ignores_plan and key.startswith("cancel-list."):
            return
        if self.deviations.conduct_ignores_plan and key.startswith("conduct"):
            return
        if not self.portal.plan_has_inventory:
            raise PortalError(key)

    def require_mode(self, key: str) -> None:
        if self.deviations.cancel_ignores_mode and key.startswith("cancel."):
            return
        if self.deviations.cancel_list_ignores_mode and key.startswith("cancel-list."):
            return
        if self.deviations.conduct_ignores_mode and key.startswith("conduct"):
            return
        if not self.portal.inventory_enabled:
            raise PortalError(key)

    @property
    def mode_enabled(self) -> bool:
        return self.portal.plan_has_inventory and self.portal.inventory_enabled

    # -- reads

    def documents(self) -> list[Document]:
        with self.repo.transaction() as tx:
            return tx.documents()

    def document(self, doc_id: int | None) -> Document | None:
        with self.repo.transaction() as tx:
            return _document(tx, doc_id)

    def balance(self, product_id: int, store_id: int) -> Decimal:
        with self.repo.transaction() as tx:
            return tx.balance(product_id, store_id)

    # -- documents

    def add_document(self, new: NewDocument) -> Document:
        """Create a draft (`N`). The caller has checked the plan, the type and the create right."""
        with self.repo.transaction() as tx:
            doc_id = tx.add_document(
                new, status=CONDUCTED if self.deviations.add_conducts else DRAFT, created_by=new.created_by if new.created_by is not None else self.user_id,
                modified_by=self.user_id, stamp=iso(self.now),
            )
            if new.doc_number is None:
                tx.update_document(doc_id, {"doc_number": str(doc_id)})
            return _found(tx.document(doc_id))

    def update_document(self, doc_id: int | None, changes: Mapping[str, Any], keys: ActionKeys) -> Document:
        """Apply `changes` (camelCase keys of DOCUMENT_UPDATABLE, values already typed)."""
        with self.repo.transaction() as tx:
            doc = _document(tx, doc_id)
            if doc is None:
                raise PortalError(keys.not_found)
            if not self.rights.may("edit", doc.doc_type) and not self.deviations.update_ignores_right:
                raise PortalError(keys.no_rights)
            values = {DOCUMENT_UPDATABLE[k]: v for k, v in changes.items() if k in DOCUMENT_UPDATABLE}
            values.setdefault("modified_by", self.user_id)
            values.setdefault("date_modify", iso(self.now))
            tx.update_document(doc.id, values)
            return _found(tx.document(doc.id))

    def delete_document(self, doc_id: int | None, keys: ActionKeys, *, shown_id: str = "") -> bool | None:
        """True when deleted; None for a conducted document (`catalog.document.delete` contract).

        `keys.refused` empty means "conducted is not an error"; else it is raised with #TITLE#/#ID#.
        """
        with self.repo.transaction() as tx:
            doc = _document(tx, doc_id)
            if doc is None:
                raise PortalError(keys.not_found, id=shown_id)
            stores = set().union(*(i.stores for i in tx.elements_of(doc.id)))
            if not self._may_delete(doc.doc_type, stores):
                raise PortalError(keys.no_rights, id=doc.id, title=doc.display_title)
            if self._undeletable(doc, keys):
                if keys.refused:
                    raise PortalError(keys.refused, id=doc.id, title=doc.display_title)
                return None
            if not self.deviations.delete_keeps_document:
                tx.delete_document(doc.id)
            return True

    def _may_delete(self, doc_type: str, stores: set[int]) -> bool:
        dv = self.deviations
        return ((self.rights.may("delete", doc_type) or dv.delete_ignores_delete_right)
                and (self.rights.may_stores(stores) or dv.delete_ignores_store_right))

    def _undeletable(self, doc: Document, keys: ActionKeys) -> bool:
        """A conducted document cannot be deleted (the mutants: a cancelled one neither, or a
        single delete removes a conducted one)."""
        dv = self.deviations
        if doc.status == CANCELLED and dv.delete_refuses_cancelled:
            return True
        return doc.status == CONDUCTED and not (dv.delete_removes_conducted and not keys.refused)

    # -- the state machine: N --conduct--> Y --cancel--> C --conduct--> Y

    def conduct(self, doc_id: int | None, keys: ActionKeys, *, shown_id: str = "") -> None:
        """Apply every item's movements and set status `Y`, or change nothing (one unit of work).

        The caller has checked plan and mode. Order: exists, catalog and inventory access, conduct
        right, warehouse rights, then the document's own validity (`keys.refused` with #ERROR# = a `reason.*` message).
        """
        with self.repo.transaction() as tx:
            doc = _document(tx, doc_id)
            if doc is None:
                single = self.deviations.conduct_list_missing_says_single and keys.not_found == "conduct-list.not-found"
                raise PortalError(keys.no_rights if self.deviations.conduct_missing_says_rights
                                  else "conduct.not-found" if single else keys.not_found, id=shown_id)
            params = {"id": doc.id, "title": doc.display_title}
            if not self.deviations.conduct_ignores_access:
                self._require_access(keys, params)
            types = DOC_TYPES if self.deviations.conduct_right_any_type else (doc.doc_type,)
            every = self.deviations.conduct_right_every_type
            if not (all if every else any)(self.rights.may("conduct", t) for t in (DOC_TYPES if every else types)):
                raise PortalError(keys.no_rights, **params)
            items = tx.elements_of(doc.id)
            if not self.rights.may_stores(set().union(*(i.stores for i in items))) \
                    and not self.deviations.conduct_ignores_store_right:
                raise PortalError(keys.no_store_rights, **params)

            def refuse(reason: str, **reason_params: Any) -> PortalError:
                return PortalError(keys.refused, error=MessageRef(reason, reason_params), **params)

            if doc.status == CANCELLED and self.deviations.conduct_refuses_cancelled:
                raise refuse("reason.already-conducted")
            if doc.status == CONDUCTED and not self.deviations.conduct_accepts_conducted:
                raise refuse("reason.already-conducted")
            if not items and not self.deviations.conduct_accepts_empty:
                raise refuse("reason.no-items")
            if not self._has_supplier(tx, doc):
                raise refuse("reason.no-contractor")  # a receipt needs a supplier (catalog.documentcontractor.add)
            tx.record_movements(doc.id, self._apply(tx, doc.doc_type, items, refuse))
            total = sum((i.amount * Decimal(repr(i.purchasing_price or 0.0)) for i in items), ZERO)
            stamp = iso(self.now)
            allowed = (DRAFT, CANCELLED, CONDUCTED) if self.deviations.conduct_accepts_conducted else (DRAFT, CANCELLED)
            changed = tx.set_status_if(doc.id, allowed, {
                "status": CONDUCTED, "status_by": self.user_id, "date_status": stamp, "date_modify": stamp,
                "total": float(total),
            })
            if not changed:  # cannot happen inside one unit of work; kept as the guard of record
                raise refuse("reason.already-conducted")

    def _apply(
        self, tx: InventoryTransaction, doc_type: str, items: list[DocumentElement],
        refuse: Callable[..., PortalError],
    ) -> list[Movement]:
        """Change balances item by item (outflow before inflow); refuse if one would drop below zero."""
        applied: list[Movement] = []
        for item in items:
            moves = _moves(doc_type, item)
            if item.amount <= 0 or moves is None:
                raise refuse("reason.insufficient-amount", product=item.element_id,
                             name=tx.product_name(item.element_id))
            for move in moves:
                balance = tx.balance(move.product_id, move.store_id) + move.delta
                if balance < 0 and not self.deviations.conduct_allows_negative:
                    raise refuse("reason.insufficient-amount", product=move.product_id,
                                 name=tx.product_name(move.product_id))
                if not self.deviations.conduct_keeps_balances:
                    tx.set_balance(move.product_id, move.store_id, balance)
                    applied.append(move)
        return applied

    def cancel(self, doc_id: int | None, keys: ActionKeys, *, shown_id: str = "") -> None:
        """Reverse exactly the movements conduct recorded and set status `C` (one unit of work).

        The status check-and-set is the repository's compare-and-set inside the unit of work, so of
        two simultaneous cancels exactly one reverts the balances.
        """
        dv = self.deviations
        if dv.cancel_check_then_act:
            self._racy_cancel(doc_id, keys, shown_id)
            return
        allowed = (CONDUCTED, *((DRAFT,) if dv.cancel_accepts_draft else ()),
                   *((CANCELLED,) if dv.cancel_accepts_cancelled else ()))
        with self.repo.transaction() as tx:
            doc, movements = self._cancel_checks(tx, doc_id, keys, shown_id)
            self._cancel_apply(tx, doc, movements, keys, allowed)

    def _cancel_checks(
        self, tx: InventoryTransaction, doc_id: int | None, keys: ActionKeys, shown_id: str
    ) -> tuple[Document, list[Movement]]:
        """Exists; catalog and inventory access; the cancel right for this document's type; "view
        and select" on every warehouse it moved stock in or out of. The movements to reverse."""
        dv = self.deviations
        doc = _document(tx, doc_id)
        if doc is None:
            wrong = dv.cancel_missing_says_delete and keys.not_found == "cancel.not-found"
            if dv.cancel_list_missing_says_single and keys.not_found == "cancel-list.not-found":
                raise PortalError("cancel.not-found", id=shown_id)
            raise PortalError("delete.not-found" if wrong else keys.not_found, id=shown_id)
        params = {"id": doc.id, "title": doc.display_title}
        self._require_access(keys, params, catalog=not dv.cancel_ignores_catalog_access,
                             inventory=not dv.cancel_ignores_inventory_access)
        action = "conduct" if dv.cancel_checks_conduct_right else "cancel"
        types = DOC_TYPES if dv.cancel_right_any_type else (doc.doc_type,)
        if not any(self.rights.may(action, t) for t in types) and not dv.cancel_ignores_cancel_right:
            untitled = dv.cancel_list_rights_untitled and keys.no_rights == "cancel-list.no-rights"
            raise PortalError(keys.no_rights, **({"id": doc.id, "title": ""} if untitled else params))
        movements = tx.movements_of(doc.id)
        stores = {mv.store_id for mv in movements}.union(*(i.stores for i in tx.elements_of(doc.id)))
        skip_stores = dv.cancel_ignores_store_right or (dv.cancel_stores_receipts_only and doc.doc_type != "A")
        if not self.rights.may_stores(stores) and not skip_stores:
            raise PortalError(keys.no_store_rights, **params)
        return doc, movements

    def _require_access(self, keys: ActionKeys, params: Mapping[str, Any], *, catalog: bool = True,
                        inventory: bool = True) -> None:
        """Access to the product catalog and to inventory management, which every conduct and cancel
        needs besides the per-type right: "No access permission to the product catalog, inventory
        management" (the cancel page's error table; the conduct pages say the same)."""
        if catalog and not self.rights.may_read:
            raise PortalError(keys.no_rights, **params)
        if inventory and not self.rights.may_use_inventory:
            raise PortalError(keys.no_rights, **params)

    def _cancel_apply(
        self, tx: InventoryTransaction, doc: Document, movements: list[Movement], keys: ActionKeys,
        allowed: tuple[str, ...],
    ) -> None:
        """Set the status (only from an `allowed` one) and reverse the movements."""
        dv = self.deviations
        stamp = iso(self.now)
        changed = tx.set_status_if(doc.id, allowed, {
            "status": DRAFT if dv.cancel_sets_draft else CANCELLED, "status_by": self.user_id,
            "date_status": stamp, "date_modify": stamp,
        })
        if not changed:
            raise PortalError(keys.refused, id=doc.id, title=doc.display_title)
        if dv.cancel_keeps_balances:
            return
        for move in reversed(movements):
            if dv.transfer_cancel_one_sided and doc.doc_type == "M" and move.delta < 0:
                continue
            balance = tx.balance(move.product_id, move.store_id) - move.delta
            tx.set_balance(move.product_id, move.store_id, balance)
        tx.forget_movements(doc.id)

    def _racy_cancel(self, doc_id: int | None, keys: ActionKeys, shown_id: str) -> None:
        """`cancel_check_then_act`: check, let go, then act; two callers can both pass the check."""
        with self.repo.transaction() as tx:
            doc, movements = self._cancel_checks(tx, doc_id, keys, shown_id)
            if doc.status != CONDUCTED:
                raise PortalError(keys.refused, id=doc.id, title=doc.display_title)
        time.sleep(0.05)
        with self.repo.transaction() as tx:
            self._cancel_apply(tx, doc, movements, keys, (CONDUCTED, CANCELLED))

    # -- the list variants: each document in its own unit of work

    def conduct_list(self, refs: Iterable[DocumentRef], keys: ActionKeys) -> None:
        refs = list(refs)
        if self.deviations.conduct_list_atomic:  # all or nothing: a document that cannot be conducted stops the list first
            for ref in refs:
                doc = self.document(ref.id)
                with self.repo.transaction() as tx:
                    empty = doc is not None and not tx.elements_of(doc.id)
                if doc is None or doc.status == CONDUCTED or empty:
                    self.conduct(ref.id, keys, shown_id=ref.shown)
        _each(refs, self.conduct, keys)

    def cancel_list(self, refs: Iterable[DocumentRef], keys: ActionKeys) -> None:
        refs = list(refs)
        if self.deviations.cancel_list_atomic:  # all or nothing: the first refusal cancels none
            for ref in refs:
                doc = self.document(ref.id)
                if doc is None or doc.status != CONDUCTED:
                    self.cancel(ref.id, keys, shown_id=ref.shown)
        _each(refs, self.cancel, keys)

    def delete_list(self, refs: Iterable[DocumentRef], keys: ActionKeys) -> None:
        refs = list(refs)
        if self.deviations.delete_list_atomic:  # all or nothing: a document that cannot go stops the list first
            for ref in refs:
                doc = self.document(ref.id)
                if doc is None or doc.status == CONDUCTED:
                    self.delete_document(ref.id, keys, shown_id=ref.shown)
        _each(refs, self.delete_document, keys)

    # -- document items: they change only in a draft

    def _check_editable(self, doc: Document | None, ignores_status: bool = False) -> Document:
        dv = self.deviations
        if doc is None:
            raise PortalError(self._element_missing())
        if not self.rights.may("edit", doc.doc_type) and not dv.element_ignores_edit_right:
            raise PortalError("element.denied")
        editable = doc.status == DRAFT or (doc.status == CANCELLED and dv.element_accepts_cancelled)
        if not editable and not ignores_status:
            raise PortalError("element.conducted")
        return doc

    def _element_missing(self) -> str:
        return "element.denied" if self.deviations.element_missing_says_denied else "element.not-found"

    def _check_item(self, tx: InventoryTransaction, doc: Document, item: NewElement) -> None:
        """The product and warehouses must exist on this portal, and the caller may use the warehouses."""
        if not tx.has_product(item.element_id):
            raise PortalError(self._element_missing())
        stores = {s for s in (item.store_from, item.store_to) if s is not None}
        if not all(tx.has_store(s) for s in stores):
            raise PortalError(self._element_missing())
        if not self.rights.may_stores(stores) and not self.deviations.element_ignores_store_right:
            raise PortalError("element.denied")
        if doc.doc_type in "MRD" and item.store_from is None:
            raise PortalError("param.missing", param="storeFrom")
        if doc.doc_type in "ASM" and item.store_to is None:
            raise PortalError("param.missing", param="storeTo")

    def _editable_element(
        self, tx: InventoryTransaction, element_id: int, ignores_status: bool = False
    ) -> tuple[DocumentElement, Document]:
        """The item and its document, if the caller may change it there."""
        element = tx.element(element_id)
        if element is None:
            raise PortalError(self._element_missing())
        doc = self._check_editable(tx.document(element.doc_id), ignores_status)
        if not self.rights.may_stores(element.stores) and not self.deviations.element_ignores_store_right:
            raise PortalError("element.denied")
        return element, doc

    def add_element(self, item: NewElement) -> DocumentElement:
        dv = self.deviations
        with self.repo.transaction() as tx:
            doc = self._check_editable(_document(tx, item.doc_id), dv.element_add_ignores_status)
            self._check_item(tx, doc, item)
            if dv.element_add_drops_price:
                item = replace(item, purchasing_price=None)
            if dv.element_add_swaps_stores:
                item = replace(item, store_from=item.store_to, store_to=item.store_from)
            return tx.add_element(item)

    def update_element(self, element_id: int, changes: Mapping[str, Any]) -> DocumentElement:
        """`changes`: any of storeFrom, storeTo, amount, purchasingPrice (typed); others are kept."""
        dv = self.deviations
        with self.repo.transaction() as tx:
            old, doc = self._editable_element(tx, element_id, dv.element_update_ignores_status)
            kept = {"amount": ZERO, "purchasingPrice": None} if dv.element_update_clears_unset else {
                "amount": old.amount, "purchasingPrice": old.purchasing_price}
            new = NewElement(
                doc_id=doc.id,
                element_id=old.element_id,
                store_from=changes.get("storeFrom", old.store_from),
                store_to=changes.get("storeTo", old.store_to),
                amount=changes.get("amount", kept["amount"]),
                purchasing_price=changes.get("purchasingPrice", kept["purchasingPrice"]),
            )
            self._check_item(tx, doc, new)
            if dv.element_update_ignores_stores:
                new = replace(new, store_from=old.store_from, store_to=old.store_to)
            updated = tx.update_element(old.id, new)
            return old if dv.element_update_answers_old else updated

    def delete_element(self, element_id: int) -> None:
        dv = self.deviations
        with self.repo.transaction() as tx:
            element, _ = self._editable_element(tx, element_id, dv.element_delete_ignores_status)
            if not dv.element_delete_keeps_row:
                tx.delete_element(element.id)

    def visible_elements(self) -> list[DocumentElement]:
        """The item rows element.list shows the caller: "automatically limited by available document
        types and the user's permissions on warehouses". A type is available to a user who holds
        any document right on it; an administrator sees every row."""
        dv = self.deviations
        with self.repo.transaction() as tx:
            types = {doc.id: doc.doc_type for doc in tx.documents()}
            rows = tx.elements()
        return [e for e in rows
                if (dv.element_list_ignores_type_right or self._type_available(types.get(e.doc_id)))
                and (dv.element_list_ignores_store_right or self.rights.may_stores(e.stores))]

    def _type_available(self, doc_type: str | None) -> bool:
        return doc_type is not None and any(self.rights.may(action, doc_type) for action in ACTIONS)


    # -- supplier bindings of receipts (catalog.documentcontractor.*, choice 9)

    def contractors(self) -> list[DocumentContractor]:
        """Every binding of the portal, in id order (the caller checks the list page's rights)."""
        with self.repo.transaction() as tx:
            return tx.contractors()

    def bind_contractor(self, doc_id: int | None, entity_type_id: int | None, entity_id: int | None
                        ) -> DocumentContractor:
        """Bind a CRM vendor to a receipt that is not conducted. The refusals come in the add page's
        table order: the document, its type, its status, the vendor, the document's bindings, rights.
        A value that is absent or no integer (None) is the refusal of its field."""
        with self.repo.transaction() as tx:
            doc = _document(tx, doc_id)
            if doc is None:
                raise PortalError("contractor.doc-not-found")
            if doc.doc_type != RECEIPT:
                raise PortalError("contractor.wrong-type")
            if doc.status == CONDUCTED:
                raise PortalError("contractor.conducted")
            vendor = _vendor(tx, entity_type_id, entity_id)
            _check_bindings(tx.contractors_of(doc.id), vendor)
            self._require_binding_rights()
            return tx.add_contractor(doc.id, *vendor)

    def unbind_contractor(self, binding_id: int) -> None:
        """Remove a binding, in the delete page's table order: found, then rights (any status)."""
        with self.repo.transaction() as tx:
            binding = tx.contractor(binding_id)
            if binding is None:
                raise PortalError("contractor.not-found")
            self._require_binding_rights()
            tx.delete_contractor(binding.id)

    def _require_binding_rights(self) -> None:
        """The add and delete pages' rights: create-and-edit on receipts, catalog and inventory access."""
        rights = self.rights
        if not (rights.may("edit", RECEIPT) and rights.may_read and rights.may_use_inventory):
            raise PortalError("contractor.denied")

    def _has_supplier(self, tx: InventoryTransaction, doc: Document) -> bool:
        """Whether conduct may go ahead as far as the supplier goes (choice 9)."""
        return (doc.doc_type != RECEIPT or not self.require_contractor
                or self.deviations.conduct_ignores_supplier or bool(tx.contractors_of(doc.id)))


def _vendor(tx: InventoryTransaction, entity_type_id: int | None, entity_id: int | None) -> tuple[int, int]:
    """(entity type, id) of a CRM vendor of the portal, or the add page's refusal for it."""
    if entity_type_id is None or entity_type_id not in (CONTACT, COMPANY):
        raise PortalError("contractor.wrong-entity-type")
    if entity_id is None or not tx.is_vendor(entity_type_id, entity_id):
        raise PortalError("contractor.wrong-entity")
    return entity_type_id, entity_id


def _check_bindings(bound: list[DocumentContractor], vendor: tuple[int, int]) -> None:
    """A vendor is bound to a document once, and a document has at most one company."""
    if any((c.entity_type_id, c.entity_id) == vendor for c in bound):
        raise PortalError("contractor.already-bound")
    if vendor[0] == COMPANY and any(c.entity_type_id == COMPANY for c in bound):
        raise PortalError("contractor.has-company")


def _document(tx: InventoryTransaction, doc_id: int | None) -> Document | None:
    return None if doc_id is None else tx.document(doc_id)


def _found(doc: Document | None) -> Document:
    assert doc is not None
    return doc


def _each(refs: Iterable[DocumentRef], action: Callable[..., Any], keys: ActionKeys) -> None:
    """Run `action` per document, keep going after failures, then raise the first failure."""
    first: PortalError | None = None
    for ref in refs:
        try:
            action(ref.id, keys, shown_id=ref.shown)
        except PortalError as error:
            first = first or error
    if first is not None:
        raise first
