"""The inventory domain's operations on documents, items, balances, stores, products and rights; no HTTP."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .database import PortalDB, PortalRecord
from .deviations import FAITHFUL, Deviations
from .entities import (
    INT64,
    ZERO,
    ActionKeys,
    Catalog,
    Document,
    DocumentElement,
    Movement,
    NewDocument,
    NewElement,
    Product,
    Rights,
    Store,
    StoreProduct,
    iso,
)
from .errors import MessageRef, PortalError


def load_rights(conn: sqlite3.Connection, portal_id: int, user_id: int) -> Rights:
    """The rights of a user; no rights at all for an unknown or deactivated user."""
    if user_id not in INT64:
        return Rights()
    user = conn.execute(
        "SELECT active, is_admin, catalog_read, all_stores FROM users WHERE portal_id = ? AND id = ?",
        (portal_id, user_id),
    ).fetchone()
    if user is None or not user["active"]:
        return Rights()
    doc = conn.execute(
        "SELECT action, doc_type FROM user_doc_rights WHERE portal_id = ? AND user_id = ?",
        (portal_id, user_id),
    ).fetchall()
    stores = conn.execute(
        "SELECT store_id FROM user_store_rights WHERE portal_id = ? AND user_id = ?", (portal_id, user_id)
    ).fetchall()
    return Rights(
        is_admin=bool(user["is_admin"]),
        catalog_read=bool(user["catalog_read"]),
        doc=frozenset((r[0], r[1]) for r in doc),
        stores=None if user["all_stores"] else frozenset(r[0] for r in stores),
    )


# Columns a document update may change (camelCase field → column).
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
STORE_COLUMNS: Mapping[str, str] = {
    "title": "title",
    "address": "address",
    "active": "active",
    "code": "code",
    "description": "description",
    "email": "email",
    "phone": "phone",
    "schedule": "schedule",
    "xmlId": "xml_id",
    "sort": "sort",
    "gpsN": "gps_n",
    "gpsS": "gps_s",
    "issuingCenter": "issuing_center",
}


def _moves(doc_type: str, item: DocumentElement) -> list[Movement] | None:
    """The balance changes one item makes when conducted, outflows first; None if a warehouse is missing."""
    out = [Movement(item.element_id, item.store_from, -item.amount)] if doc_type in "MRD" else []
    inn = [Movement(item.element_id, item.store_to, item.amount)] if doc_type in "ASM" else []
    moves = out + inn
    return None if any(m.store_id is None for m in moves) else moves


# --- the domain ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inventory:
    """One caller's view of one portal: every operation runs in its own `db.transaction()`."""

    db: PortalDB
    portal: PortalRecord
    user_id: int
    rights: Rights
    now: float
    require_contractor: bool = False
    deviations: Deviations = FAITHFUL  # switched on by mutants (portal/mutants.py)

    @classmethod
    def open(
        cls, db: PortalDB, portal: PortalRecord, user_id: int, now: float, *, require_contractor: bool = False,
        deviations: Deviations = FAITHFUL,
    ) -> Inventory:
        def load() -> Rights:
            with db.transaction() as conn:
                return load_rights(conn, portal.id, user_id)

        rights = db.memo(("rights", portal.id, user_id), load) or Rights()
        return cls(db, portal, user_id, rights, now, require_contractor, deviations)

    # -- portal-wide preconditions

    def require_plan(self, key: str) -> None:
        if self.deviations.cancel_ignores_plan and key.startswith("cancel."):
            return
        if not self.portal.plan_has_inventory:
            raise PortalError(key)

    def require_mode(self, key: str) -> None:
        if self.deviations.cancel_ignores_mode and key.startswith("cancel."):
            return
        if not self.portal.inventory_enabled:
            raise PortalError(key)

    @property
    def mode_enabled(self) -> bool:
        return self.portal.plan_has_inventory and self.portal.inventory_enabled

    # -- lookups (inside a transaction)

    def _document(self, conn: sqlite3.Connection, doc_id: int | None) -> Document | None:
        if doc_id is None or doc_id not in INT64:
            return None
        row = conn.execute(
            "SELECT * FROM documents WHERE id = ? AND portal_id = ?", (doc_id, self.portal.id)
        ).fetchone()
        return None if row is None else Document.from_row(row)

    def _elements_of(self, conn: sqlite3.Connection, doc_id: int) -> list[DocumentElement]:
        rows = conn.execute(
            "SELECT * FROM document_elements WHERE doc_id = ? ORDER BY id", (doc_id,)
        ).fetchall()
        return [DocumentElement.from_row(r) for r in rows]

    def _element(self, conn: sqlite3.Connection, element_id: int) -> tuple[DocumentElement, Document] | None:
        if element_id not in INT64:
            return None
        row = conn.execute(
            "SELECT e.* FROM document_elements e JOIN documents d ON d.id = e.doc_id"
            " WHERE e.id = ? AND d.portal_id = ?",
            (element_id, self.portal.id),
        ).fetchone()
        if row is None:
            return None
        element = DocumentElement.from_row(row)
        doc = self._document(conn, element.doc_id)
        assert doc is not None
        return element, doc

    def _movements_of(self, conn: sqlite3.Connection, doc_id: int) -> list[Movement]:
        rows = conn.execute(
            "SELECT product_id, store_id, delta FROM document_movements WHERE doc_id = ? ORDER BY id",
            (doc_id,),
        ).fetchall()
        return [Movement(r[0], r[1], Decimal(r[2])) for r in rows]

    def _exists(self, conn: sqlite3.Connection, table: str, row_id: int | None) -> bool:
        if row_id is None or row_id not in INT64:
            return False
        sql = f"SELECT 1 FROM {table} WHERE id = ? AND portal_id = ?"
        return conn.execute(sql, (row_id, self.portal.id)).fetchone() is not None

    def _product_name(self, conn: sqlite3.Connection, product_id: int) -> str:
        row = conn.execute("SELECT name FROM products WHERE id = ?", (product_id,)).fetchone()
        return "" if row is None else row[0]

    def _balance(self, conn: sqlite3.Connection, product_id: int, store_id: int) -> Decimal:
        row = conn.execute(
            "SELECT amount FROM store_products WHERE portal_id = ? AND product_id = ? AND store_id = ?",
            (self.portal.id, product_id, store_id),
        ).fetchone()
        return ZERO if row is None else Decimal(row[0])

    def _set_balance(self, conn: sqlite3.Connection, product_id: int, store_id: int, amount: Decimal) -> None:
        conn.execute(
            "INSERT INTO store_products (portal_id, product_id, store_id, amount) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (portal_id, product_id, store_id) DO UPDATE SET amount = excluded.amount",
            (self.portal.id, product_id, store_id, str(amount)),
        )

    # -- documents

    def documents(self) -> list[Document]:
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT * FROM documents WHERE portal_id = ? ORDER BY id", (self.portal.id,))
            return [Document.from_row(r) for r in rows.fetchall()]

    def document(self, doc_id: int) -> Document | None:
        with self.db.transaction() as conn:
            return self._document(conn, doc_id)

    def add_document(self, new: NewDocument) -> Document:
        """Create a draft (`N`). The caller has checked the plan, the type and the create right."""
        stamp = iso(self.now)
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO documents (portal_id, doc_type, doc_number, title, site_id, responsible_id,"
                " created_by, modified_by, status, status_by, date_status, date_create, date_modify,"
                " date_document, currency, total, commentary)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'N', NULL, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.portal.id,
                    new.doc_type,
                    new.doc_number,
                    new.title,
                    new.site_id,
                    new.responsible_id,
                    new.created_by if new.created_by is not None else self.user_id,
                    self.user_id,
                    stamp,
                    stamp,
                    stamp,
                    new.date_document,
                    new.currency,
                    new.total,
                    new.commentary,
                ),
            )
            doc_id = cur.lastrowid
            if new.doc_number is None:
                conn.execute("UPDATE documents SET doc_number = ? WHERE id = ?", (str(doc_id), doc_id))
            doc = self._document(conn, doc_id)
            assert doc is not None
            return doc

    def update_document(self, doc_id: int | None, changes: Mapping[str, Any], keys: ActionKeys) -> Document:
        """Apply `changes` (camelCase keys of DOCUMENT_UPDATABLE, values already typed)."""
        with self.db.transaction() as conn:
            doc = self._document(conn, doc_id)
            if doc is None:
                raise PortalError(keys.not_found)
            if not self.rights.may("edit", doc.doc_type):
                raise PortalError(keys.no_rights)
            values = {DOCUMENT_UPDATABLE[k]: v for k, v in changes.items() if k in DOCUMENT_UPDATABLE}
            values.setdefault("modified_by", self.user_id)
            values.setdefault("date_modify", iso(self.now))
            assignments = ", ".join(f"{column} = ?" for column in values)
            conn.execute(f"UPDATE documents SET {assignments} WHERE id = ?", (*values.values(), doc.id))
            updated = self._document(conn, doc.id)
            assert updated is not None
            return updated

    def delete_document(self, doc_id: int | None, keys: ActionKeys, *, shown_id: str = "") -> bool | None:
        """True when deleted; None for a conducted document (`catalog.document.delete` contract).

        `keys.refused` empty means "conducted is not an error"; else it is raised with #TITLE#/#ID#.
        """
        with self.db.transaction() as conn:
            doc = self._document(conn, doc_id)
            if doc is None:
                raise PortalError(keys.not_found, id=shown_id)
            items = self._elements_of(conn, doc.id)
            stores = set().union(*(i.stores for i in items))
            if not self.rights.may("delete", doc.doc_type) or not self.rights.may_stores(stores):
                raise PortalError(keys.no_rights, id=doc.id, title=doc.display_title)
            if doc.status == "Y":
                if keys.refused:
                    raise PortalError(keys.refused, id=doc.id, title=doc.display_title)
                return None
            conn.execute("DELETE FROM documents WHERE id = ?", (doc.id,))
            return True

    def conduct(self, doc_id: int | None, keys: ActionKeys, *, shown_id: str = "") -> None:
        """Apply every item's movements and set status `Y`, or change nothing (one transaction).

        The caller has checked plan and mode. Order: exists, conduct right, warehouse rights, then
        the document's own validity (`keys.refused` with #ERROR# = a `reason.*` message).
        """
        with self.db.transaction() as conn:
            doc = self._document(conn, doc_id)
            if doc is None:
                raise PortalError(keys.not_found, id=shown_id)
            params = {"id": doc.id, "title": doc.display_title}
            if not self.rights.may("conduct", doc.doc_type):
                raise PortalError(keys.no_rights, **params)
            items = self._elements_of(conn, doc.id)
            if not self.rights.may_stores(set().union(*(i.stores for i in items))):
                raise PortalError(keys.no_store_rights, **params)

            def refuse(reason: str, **reason_params: Any) -> PortalError:
                return PortalError(keys.refused, error=MessageRef(reason, reason_params), **params)

            if doc.status == "Y":
                raise refuse("reason.already-conducted")
            if not items:
                raise refuse("reason.no-items")
            if doc.doc_type == "A" and self.require_contractor:
                raise refuse("reason.no-contractor")  # no supplier binding method exists on this portal
            movements = self._apply(conn, doc.doc_type, items, refuse)
            conn.executemany(
                "INSERT INTO document_movements (doc_id, product_id, store_id, delta) VALUES (?, ?, ?, ?)",
                [(doc.id, m.product_id, m.store_id, str(m.delta)) for m in movements],
            )
            total = sum((i.amount * Decimal(repr(i.purchasing_price or 0.0)) for i in items), ZERO)
            cur = conn.execute(
                "UPDATE documents SET status = 'Y', status_by = ?, date_status = ?, date_modify = ?, total = ?"
                " WHERE id = ? AND status <> 'Y'",
                (self.user_id, iso(self.now), iso(self.now), float(total), doc.id),
            )
            if cur.rowcount != 1:  # cannot happen under BEGIN IMMEDIATE; kept as the guard of record
                raise refuse("reason.already-conducted")

    def _apply(
        self, conn: sqlite3.Connection, doc_type: str, items: list[DocumentElement], refuse: Any
    ) -> list[Movement]:
        """Change balances item by item (outflow before inflow); refuse if one would drop below zero."""
        applied: list[Movement] = []
        for item in items:
            moves = _moves(doc_type, item)
            if item.amount <= 0 or moves is None:
                raise refuse(
                    "reason.insufficient-amount",
                    product=item.element_id,
                    name=self._product_name(conn, item.element_id),
                )
            for move in moves:
                balance = self._balance(conn, move.product_id, move.store_id) + move.delta
                if balance < 0:
                    raise refuse(
                        "reason.insufficient-amount",
                        product=move.product_id,
                        name=self._product_name(conn, move.product_id),
                    )
                self._set_balance(conn, move.product_id, move.store_id, balance)
                applied.append(move)
        return applied

    def cancel(self, doc_id: int | None, keys: ActionKeys, *, shown_id: str = "") -> None:
        """Reverse exactly the movements conduct recorded and set status `C` (one transaction).

        The status check-and-set is one `UPDATE … WHERE status = 'Y'` inside the transaction, so of
        two simultaneous cancels exactly one reverts the balances.
        """
        if self.deviations.cancel_check_then_act:
            self._racy_cancel(doc_id, keys, shown_id)
            return
        with self.db.transaction() as conn:
            doc, movements = self._cancel_checks(conn, doc_id, keys, shown_id)
            dv = self.deviations
            allowed = ("Y", *(("N",) if dv.cancel_accepts_draft else ()), *(("C",) if dv.cancel_accepts_cancelled else ()))
            self._cancel_apply(conn, doc, movements, keys, allowed)

    def _cancel_checks(
        self, conn: sqlite3.Connection, doc_id: int | None, keys: ActionKeys, shown_id: str
    ) -> tuple[Document, list[Movement]]:
        """Exists, cancel right for the type, warehouse rights; the movements to reverse."""
        dv = self.deviations
        doc = self._document(conn, doc_id)
        if doc is None:
            wrong = dv.cancel_missing_says_delete and keys.not_found == "cancel.not-found"
            raise PortalError("delete.not-found" if wrong else keys.not_found, id=shown_id)
        if not self.rights.may("cancel", doc.doc_type) and not dv.cancel_ignores_cancel_right:
            raise PortalError(keys.no_rights, id=doc.id, title=doc.display_title)
        movements = self._movements_of(conn, doc.id)
        stores = {mv.store_id for mv in movements}.union(*(i.stores for i in self._elements_of(conn, doc.id)))
        if not self.rights.may_stores(stores) and not dv.cancel_ignores_store_right:
            raise PortalError(keys.no_store_rights, id=doc.id, title=doc.display_title)
        return doc, movements

    def _cancel_apply(
        self, conn: sqlite3.Connection, doc: Document, movements: list[Movement], keys: ActionKeys,
        allowed: tuple[str, ...],
    ) -> None:
        """Set the status (only from an `allowed` one) and reverse the movements."""
        dv = self.deviations
        cur = conn.execute(
            f"UPDATE documents SET status = ?, status_by = ?, date_status = ?, date_modify = ?"
            f" WHERE id = ? AND status IN ({','.join('?' * len(allowed))})",
            ("N" if dv.cancel_sets_draft else "C", self.user_id, iso(self.now), iso(self.now), doc.id, *allowed),
        )
        if cur.rowcount != 1:
            raise PortalError(keys.refused, id=doc.id, title=doc.display_title)
        if dv.cancel_keeps_balances:
            return
        for move in reversed(movements):
            if dv.transfer_cancel_one_sided and doc.doc_type == "M" and move.delta < 0:
                continue
            balance = self._balance(conn, move.product_id, move.store_id) - move.delta
            self._set_balance(conn, move.product_id, move.store_id, balance)
        conn.execute("DELETE FROM document_movements WHERE doc_id = ?", (doc.id,))

    def _racy_cancel(self, doc_id: int | None, keys: ActionKeys, shown_id: str) -> None:
        """`cancel_check_then_act` (the `racy-cancel` mutant): check, let go, then act; two callers can both pass the check."""
        with self.db.transaction() as conn:
            doc, movements = self._cancel_checks(conn, doc_id, keys, shown_id)
            if doc.status != "Y":
                raise PortalError(keys.refused, id=doc.id, title=doc.display_title)
        time.sleep(0.05)
        with self.db.transaction() as conn:
            self._cancel_apply(conn, doc, movements, keys, ("Y", "C"))

    # -- document items

    def elements(self) -> list[DocumentElement]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT e.* FROM document_elements e JOIN documents d ON d.id = e.doc_id"
                " WHERE d.portal_id = ? ORDER BY e.id",
                (self.portal.id,),
            ).fetchall()
            return [DocumentElement.from_row(r) for r in rows]

    def _check_editable(self, doc: Document | None) -> Document:
        if doc is None:
            raise PortalError("element.not-found")
        if not self.rights.may("edit", doc.doc_type):
            raise PortalError("element.denied")
        if doc.status != "N":
            raise PortalError("element.conducted")
        return doc

    def _check_item(self, conn: sqlite3.Connection, doc: Document, item: NewElement) -> None:
        """The product and warehouses must exist on this portal, and the caller may use the warehouses."""
        if not self._exists(conn, "products", item.element_id):
            raise PortalError("element.not-found")
        stores = {s for s in (item.store_from, item.store_to) if s is not None}
        if not all(self._exists(conn, "stores", s) for s in stores):
            raise PortalError("element.not-found")
        if not self.rights.may_stores(stores):
            raise PortalError("element.denied")
        if doc.doc_type in "MRD" and item.store_from is None:
            raise PortalError("param.missing", param="storeFrom")
        if doc.doc_type in "ASM" and item.store_to is None:
            raise PortalError("param.missing", param="storeTo")

    def add_element(self, item: NewElement) -> DocumentElement:
        with self.db.transaction() as conn:
            doc = self._check_editable(self._document(conn, item.doc_id))
            self._check_item(conn, doc, item)
            cur = conn.execute(
                "INSERT INTO document_elements (doc_id, element_id, store_from, store_to, amount, purchasing_price)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    doc.id,
                    item.element_id,
                    item.store_from,
                    item.store_to,
                    str(item.amount),
                    item.purchasing_price,
                ),
            )
            row = conn.execute("SELECT * FROM document_elements WHERE id = ?", (cur.lastrowid,)).fetchone()
            return DocumentElement.from_row(row)

    def update_element(self, element_id: int, changes: Mapping[str, Any]) -> DocumentElement:
        """`changes`: any of storeFrom, storeTo, amount, purchasingPrice (typed); others are kept."""
        with self.db.transaction() as conn:
            found = self._element(conn, element_id)
            if found is None:
                raise PortalError("element.not-found")
            old, doc = found
            self._check_editable(doc)
            if not self.rights.may_stores(old.stores):
                raise PortalError("element.denied")
            new = NewElement(
                doc_id=doc.id,
                element_id=old.element_id,
                store_from=changes.get("storeFrom", old.store_from),
                store_to=changes.get("storeTo", old.store_to),
                amount=changes.get("amount", old.amount),
                purchasing_price=changes.get("purchasingPrice", old.purchasing_price),
            )
            self._check_item(conn, doc, new)
            conn.execute(
                "UPDATE document_elements SET store_from = ?, store_to = ?, amount = ?, purchasing_price = ?"
                " WHERE id = ?",
                (new.store_from, new.store_to, str(new.amount), new.purchasing_price, old.id),
            )
            row = conn.execute("SELECT * FROM document_elements WHERE id = ?", (old.id,)).fetchone()
            return DocumentElement.from_row(row)

    def delete_element(self, element_id: int) -> None:
        with self.db.transaction() as conn:
            found = self._element(conn, element_id)
            if found is None:
                raise PortalError("element.not-found")
            element, doc = found
            self._check_editable(doc)
            if not self.rights.may_stores(element.stores):
                raise PortalError("element.denied")
            conn.execute("DELETE FROM document_elements WHERE id = ?", (element.id,))

    # -- balances

    def store_products(self) -> list[StoreProduct]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, product_id, store_id, amount, quantity_reserved FROM store_products"
                " WHERE portal_id = ? ORDER BY id",
                (self.portal.id,),
            ).fetchall()
        return [StoreProduct(r[0], r[1], r[2], Decimal(r[3]), Decimal(r[4])) for r in rows]

    def store_product(self, row_id: int) -> StoreProduct | None:
        if row_id not in INT64:
            return None
        return next((sp for sp in self.store_products() if sp.id == row_id), None)

    def balance(self, product_id: int, store_id: int) -> Decimal:
        with self.db.transaction() as conn:
            return self._balance(conn, product_id, store_id)

    # -- catalogs, products, stores

    def catalogs(self) -> list[Catalog]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, name, lid, iblock_type_id FROM catalogs WHERE portal_id = ? ORDER BY id",
                (self.portal.id,),
            ).fetchall()
        return [Catalog(r[0], r[1], r[2], r[3]) for r in rows]

    def products(self) -> list[Product]:
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT * FROM products WHERE portal_id = ? ORDER BY id", (self.portal.id,))
            return [Product.from_row(r) for r in rows.fetchall()]

    def add_product(self, iblock_id: int, name: str, extra: Mapping[str, Any]) -> Product | None:
        """None when `iblock_id` is not a catalog of this portal."""
        stamp = iso(self.now)
        with self.db.transaction() as conn:
            if not self._exists(conn, "catalogs", iblock_id):
                return None
            cur = conn.execute(
                "INSERT INTO products (portal_id, iblock_id, name, active, code, xml_id, created_by, modified_by,"
                " date_create, timestamp_x) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.portal.id,
                    iblock_id,
                    name,
                    extra.get("active", "Y"),
                    extra.get("code"),
                    extra.get("xmlId"),
                    self.user_id,
                    self.user_id,
                    stamp,
                    stamp,
                ),
            )
            row = conn.execute("SELECT * FROM products WHERE id = ?", (cur.lastrowid,)).fetchone()
            return Product.from_row(row)

    def delete_product(self, product_id: int) -> bool:
        with self.db.transaction() as conn:
            if not self._exists(conn, "products", product_id):
                return False
            conn.execute("DELETE FROM products WHERE id = ?", (product_id,))
            return True

    def stores(self) -> list[Store]:
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT * FROM stores WHERE portal_id = ? ORDER BY id", (self.portal.id,))
            return [Store.from_row(r) for r in rows.fetchall()]

    def add_store(self, values: Mapping[str, Any]) -> Store:
        """`values`: camelCase keys of STORE_COLUMNS, typed; `address` present."""
        stamp = iso(self.now)
        columns = {STORE_COLUMNS[k]: v for k, v in values.items() if k in STORE_COLUMNS}
        columns.update(
            portal_id=self.portal.id,
            user_id=self.user_id,
            modified_by=self.user_id,
            date_create=stamp,
            date_modify=stamp,
        )
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        with self.db.transaction() as conn:
            cur = conn.execute(f"INSERT INTO stores ({names}) VALUES ({marks})", tuple(columns.values()))
            row = conn.execute("SELECT * FROM stores WHERE id = ?", (cur.lastrowid,)).fetchone()
            return Store.from_row(row)

    def delete_store(self, store_id: int) -> bool:
        with self.db.transaction() as conn:
            if not self._exists(conn, "stores", store_id):
                return False
            conn.execute("DELETE FROM user_store_rights WHERE store_id = ?", (store_id,))
            conn.execute("DELETE FROM stores WHERE id = ?", (store_id,))
            return True
