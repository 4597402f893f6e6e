"""The inventory repository over the portal's SQLite database: the SQL behind repository.py's port.

A unit of work is one `PortalDB.transaction()` (`BEGIN IMMEDIATE` under the connection's lock, a
SAVEPOINT when nested), so two units never interleave. `set_status_if` is one
`UPDATE … WHERE status IN (…)`: the status check and its change cannot be split.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from decimal import Decimal
from typing import Any

from .database import PortalDB, exists, record
from .entities import (
    INT64,
    ZERO,
    Document,
    DocumentContractor,
    DocumentElement,
    Movement,
    NewDocument,
    NewElement,
    Rights,
)

_DOCUMENT_COLUMNS = frozenset(f.name for f in fields(Document))  # the documents table's columns


class SqliteInventory:
    """The inventory repository of one portal in a `PortalDB`."""

    def __init__(self, db: PortalDB, portal_id: int) -> None:
        self.db = db
        self.portal_id = portal_id

    @contextmanager
    def transaction(self) -> Iterator[SqliteInventoryTransaction]:
        with self.db.transaction() as conn:
            yield SqliteInventoryTransaction(conn, self.portal_id)

    def rights(self, user_id: int) -> Rights:
        return self.db.rights(self.portal_id, user_id)


class SqliteInventoryTransaction:
    """One unit of work: every statement runs on the connection of one open transaction."""

    def __init__(self, conn: sqlite3.Connection, portal_id: int) -> None:
        self.conn = conn
        self.portal_id = portal_id

    # -- documents

    def document(self, doc_id: int) -> Document | None:
        if doc_id not in INT64:
            return None
        row = self.conn.execute(
            "SELECT * FROM documents WHERE id = ? AND portal_id = ?", (doc_id, self.portal_id)
        ).fetchone()
        return None if row is None else record(Document, row)

    def documents(self) -> list[Document]:
        rows = self.conn.execute("SELECT * FROM documents WHERE portal_id = ? ORDER BY id", (self.portal_id,))
        return [record(Document, r) for r in rows.fetchall()]

    def add_document(self, new: NewDocument, *, status: str, created_by: int, modified_by: int,
                     stamp: str) -> int:
        cur = self.conn.execute(
            "INSERT INTO documents (portal_id, doc_type, doc_number, title, site_id, responsible_id,"
            " created_by, modified_by, status, status_by, date_status, date_create, date_modify,"
            " date_document, currency, total, commentary)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.portal_id,
                new.doc_type,
                new.doc_number,
                new.title,
                new.site_id,
                new.responsible_id,
                created_by,
                modified_by,
                status,
                stamp,
                stamp,
                stamp,
                new.date_document,
                new.currency,
                new.total,
                new.commentary,
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def update_document(self, doc_id: int, changes: Mapping[str, Any]) -> None:
        self._update(doc_id, changes, ())

    def set_status_if(self, doc_id: int, allowed: Collection[str], changes: Mapping[str, Any]) -> bool:
        return self._update(doc_id, changes, tuple(allowed)) == 1

    def _update(self, doc_id: int, changes: Mapping[str, Any], allowed: tuple[str, ...]) -> int:
        """UPDATE one document (only while its status is in `allowed`, if given); the rows changed."""
        assert changes and set(changes) <= _DOCUMENT_COLUMNS, changes
        assignments = ", ".join(f"{column} = ?" for column in changes)
        where = f" AND status IN ({','.join('?' * len(allowed))})" if allowed else ""
        sql = f"UPDATE documents SET {assignments} WHERE id = ?{where}"
        return self.conn.execute(sql, (*changes.values(), doc_id, *allowed)).rowcount

    def delete_document(self, doc_id: int) -> None:
        # Its items and movements go with it: ON DELETE CASCADE.
        self.conn.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    # -- items

    def elements_of(self, doc_id: int) -> list[DocumentElement]:
        rows = self.conn.execute("SELECT * FROM document_elements WHERE doc_id = ? ORDER BY id", (doc_id,))
        return [_element(r) for r in rows.fetchall()]

    def elements(self) -> list[DocumentElement]:
        rows = self.conn.execute(
            "SELECT e.* FROM document_elements e JOIN documents d ON d.id = e.doc_id"
            " WHERE d.portal_id = ? ORDER BY e.id",
            (self.portal_id,),
        )
        return [_element(r) for r in rows.fetchall()]

    def element(self, element_id: int) -> DocumentElement | None:
        if element_id not in INT64:
            return None
        row = self.conn.execute(
            "SELECT e.* FROM document_elements e JOIN documents d ON d.id = e.doc_id"
            " WHERE e.id = ? AND d.portal_id = ?",
            (element_id, self.portal_id),
        ).fetchone()
        return None if row is None else _element(row)

    def add_element(self, item: NewElement) -> DocumentElement:
        cur = self.conn.execute(
            "INSERT INTO document_elements (doc_id, element_id, store_from, store_to, amount,"
            " purchasing_price) VALUES (?, ?, ?, ?, ?, ?)",
            (item.doc_id, item.element_id, item.store_from, item.store_to, str(item.amount),
             item.purchasing_price),
        )
        return self._element_row(cur.lastrowid)

    def update_element(self, element_id: int, item: NewElement) -> DocumentElement:
        self.conn.execute(
            "UPDATE document_elements SET store_from = ?, store_to = ?, amount = ?, purchasing_price = ?"
            " WHERE id = ?",
            (item.store_from, item.store_to, str(item.amount), item.purchasing_price, element_id),
        )
        return self._element_row(element_id)

    def _element_row(self, element_id: int | None) -> DocumentElement:
        row = self.conn.execute("SELECT * FROM document_elements WHERE id = ?", (element_id,)).fetchone()
        return _element(row)

    def delete_element(self, element_id: int) -> None:
        self.conn.execute("DELETE FROM document_elements WHERE id = ?", (element_id,))

    # -- products, warehouses and balances

    def has_product(self, product_id: int) -> bool:
        return exists(self.conn, "products", self.portal_id, product_id)

    def has_store(self, store_id: int) -> bool:
        return exists(self.conn, "stores", self.portal_id, store_id)

    def product_name(self, product_id: int) -> str:
        row = self.conn.execute("SELECT name FROM products WHERE id = ?", (product_id,)).fetchone()
        return "" if row is None else row[0]

    def balance(self, product_id: int, store_id: int) -> Decimal:
        row = self.conn.execute(
            "SELECT amount FROM store_products WHERE portal_id = ? AND product_id = ? AND store_id = ?",
            (self.portal_id, product_id, store_id),
        ).fetchone()
        return ZERO if row is None else Decimal(row[0])

    def set_balance(self, product_id: int, store_id: int, amount: Decimal) -> None:
        self.conn.execute(
            "INSERT INTO store_products (portal_id, product_id, store_id, amount) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (portal_id, product_id, store_id) DO UPDATE SET amount = excluded.amount",
            (self.portal_id, product_id, store_id, str(amount)),
        )

    # -- supplier bindings

    def is_vendor(self, entity_type_id: int, entity_id: int) -> bool:
        if entity_id not in INT64:
            return False
        sql = "SELECT 1 FROM crm_vendors WHERE portal_id = ? AND entity_type_id = ? AND entity_id = ?"
        return self.conn.execute(sql, (self.portal_id, entity_type_id, entity_id)).fetchone() is not None

    def contractors(self) -> list[DocumentContractor]:
        rows = self.conn.execute(
            "SELECT c.* FROM document_contractors c JOIN documents d ON d.id = c.doc_id"
            " WHERE d.portal_id = ? ORDER BY c.id", (self.portal_id,))
        return [_contractor(r) for r in rows.fetchall()]

    def contractors_of(self, doc_id: int) -> list[DocumentContractor]:
        rows = self.conn.execute("SELECT * FROM document_contractors WHERE doc_id = ? ORDER BY id", (doc_id,))
        return [_contractor(r) for r in rows.fetchall()]

    def contractor(self, binding_id: int) -> DocumentContractor | None:
        if binding_id not in INT64:
            return None
        row = self.conn.execute(
            "SELECT c.* FROM document_contractors c JOIN documents d ON d.id = c.doc_id"
            " WHERE c.id = ? AND d.portal_id = ?", (binding_id, self.portal_id)).fetchone()
        return None if row is None else _contractor(row)

    def add_contractor(self, doc_id: int, entity_type_id: int, entity_id: int) -> DocumentContractor:
        cur = self.conn.execute(
            "INSERT INTO document_contractors (doc_id, entity_type_id, entity_id) VALUES (?, ?, ?)",
            (doc_id, entity_type_id, entity_id))
        found = self.contractor(cur.lastrowid or 0)
        assert found is not None
        return found

    def delete_contractor(self, binding_id: int) -> None:
        self.conn.execute("DELETE FROM document_contractors WHERE id = ?", (binding_id,))

    # -- movements

    def movements_of(self, doc_id: int) -> list[Movement]:
        rows = self.conn.execute(
            "SELECT product_id, store_id, delta FROM document_movements WHERE doc_id = ? ORDER BY id",
            (doc_id,),
        ).fetchall()
        return [Movement(r[0], r[1], Decimal(r[2])) for r in rows]

    def record_movements(self, doc_id: int, movements: Iterable[Movement]) -> None:
        self.conn.executemany(
            "INSERT INTO document_movements (doc_id, product_id, store_id, delta) VALUES (?, ?, ?, ?)",
            [(doc_id, m.product_id, m.store_id, str(m.delta)) for m in movements],
        )

    def forget_movements(self, doc_id: int) -> None:
        self.conn.execute("DELETE FROM document_movements WHERE doc_id = ?", (doc_id,))


def _contractor(row: sqlite3.Row) -> DocumentContractor:
    return DocumentContractor(row["id"], row["doc_id"], row["entity_type_id"], row["entity_id"])


def _element(row: sqlite3.Row) -> DocumentElement:
    return DocumentElement(
        row["id"],
        row["doc_id"],
        row["element_id"],
        row["store_from"],
        row["store_to"],
        Decimal(row["amount"]),
        row["purchasing_price"],
    )
