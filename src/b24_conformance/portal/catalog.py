"""Catalogs, products, warehouses and balance rows: the plain CRUD around the inventory, over SQLite.

No state machine lives here, only rows to list, add and delete (the handlers check the rights);
documents and the balances they move belong to inventory.py. Each call is one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .database import PortalDB, exists, record
from .entities import INT64, Catalog, Product, Store, StoreProduct, iso
from .errors import PortalError

# Columns a new warehouse may set (camelCase field → column).
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


@dataclass(frozen=True, slots=True)
class CatalogRecords:
    """One caller's CRUD on one portal's catalogs, products, warehouses and balance rows."""

    db: PortalDB
    portal_id: int
    user_id: int
    now: float

    # -- balance rows

    def store_products(self) -> list[StoreProduct]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, product_id, store_id, amount, quantity_reserved FROM store_products"
                " WHERE portal_id = ? ORDER BY id",
                (self.portal_id,),
            ).fetchall()
        return [StoreProduct(r[0], r[1], r[2], Decimal(r[3]), Decimal(r[4])) for r in rows]

    def store_product(self, row_id: int) -> StoreProduct | None:
        if row_id not in INT64:
            return None
        return next((sp for sp in self.store_products() if sp.id == row_id), None)

    # -- catalogs and products

    def catalogs(self) -> list[Catalog]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id, name, lid, iblock_type_id FROM catalogs WHERE portal_id = ? ORDER BY id",
                (self.portal_id,),
            ).fetchall()
        return [Catalog(r[0], r[1], r[2], r[3]) for r in rows]

    def products(self) -> list[Product]:
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT * FROM products WHERE portal_id = ? ORDER BY id", (self.portal_id,))
            return [record(Product, r) for r in rows.fetchall()]

    def add_product(self, iblock_id: int, name: str, extra: Mapping[str, Any]) -> Product | None:
        """None when `iblock_id` is not a catalog of this portal."""
        stamp = iso(self.now)
        with self.db.transaction() as conn:
            if not exists(conn, "catalogs", self.portal_id, iblock_id):
                return None
            cur = conn.execute(
                "INSERT INTO products (portal_id, iblock_id, name, active, code, xml_id, created_by, modified_by,"
                " date_create, timestamp_x) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.portal_id,
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
            return record(Product, row)

    def delete_product(self, product_id: int) -> bool:
        with self.db.transaction() as conn:
            if not exists(conn, "products", self.portal_id, product_id):
                return False
            conn.execute("DELETE FROM products WHERE id = ?", (product_id,))
            return True

    # -- warehouses

    def stores(self) -> list[Store]:
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT * FROM stores WHERE portal_id = ? ORDER BY id", (self.portal_id,))
            return [record(Store, r) for r in rows.fetchall()]

    def add_store(self, values: Mapping[str, Any]) -> Store:
        """`values`: camelCase keys of STORE_COLUMNS, typed; `address` present."""
        stamp = iso(self.now)
        columns = {STORE_COLUMNS[k]: v for k, v in values.items() if k in STORE_COLUMNS}
        columns.update(
            portal_id=self.portal_id,
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
            return record(Store, row)

    def delete_store(self, store_id: int) -> bool:
        """False when there is no such warehouse; `store-delete.has-documents` while any document
        item, of a document in any status, names it as storeFrom or storeTo (catalog-store-delete.md:
        `0` "Documents are issued for this warehouse"). Products have no such rule:
        catalog-product-delete.md documents no refusal for a product that documents use, so
        `delete_product` deletes it (its document items keep the id)."""
        with self.db.transaction() as conn:
            if not exists(conn, "stores", self.portal_id, store_id):
                return False
            used = conn.execute("SELECT 1 FROM document_elements WHERE store_from = ? OR store_to = ? LIMIT 1",
                                (store_id, store_id)).fetchone()
            if used is not None:
                raise PortalError("store-delete.has-documents")
            conn.execute("DELETE FROM user_store_rights WHERE store_id = ?", (store_id,))
            conn.execute("DELETE FROM stores WHERE id = ?", (store_id,))
            return True
