"""Seed data: three portals (main, basic-plan, inventory-off), their users, rights, stores and credentials."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass
from decimal import Decimal

from .database import CredentialRecord, PortalDB
from .entities import ACTIONS, COMPANY, CONTACT, DOC_TYPES, NewDocument, NewElement, iso
from .inventory import Inventory
from .methods.documents import CONDUCT
from .settings import PortalSettings
from .sqlite_repository import SqliteInventory

TEN_YEARS_S = 10 * 365 * 24 * 3600
MAIN, BASIC, OFF = 1, 2, 3
ALL_DOC_RIGHTS = [(a, t) for a in ACTIONS for t in DOC_TYPES]


@dataclass(frozen=True, slots=True)
class SeedResult:
    credentials: list[CredentialRecord]
    fixtures: dict[str, int]  # e.g. {"restricted_store_id": 3, "main_store_id": 1, "iblock_id": 21}


@dataclass(frozen=True, slots=True)
class _User:
    portal_id: int
    id: int
    name: str
    active: bool = True
    is_admin: bool = False
    catalog_read: bool = False  # access to the product catalog
    inventory: bool = False  # access to inventory management
    all_stores: bool = False
    doc_rights: tuple[tuple[str, str], ...] = ()
    store_names: tuple[str, ...] = ()  # warehouses with "view and select" when not all_stores


@dataclass(frozen=True, slots=True)
class _Credential:
    label: str
    kind: str
    portal_id: int
    user_id: int
    description: str
    scopes: frozenset[str] = frozenset({"catalog"})
    expires_in: float | None = None  # seconds from the seed clock; OAuth only


PORTALS = (
    (MAIN, "main", True, True),
    (BASIC, "basic-plan", False, False),
    (OFF, "inventory-off", True, False),
)
CATALOGS = ((21, MAIN, "Product catalog"), (22, BASIC, "Product catalog"), (23, OFF, "Product catalog"))
STORES = (
    (MAIN, "Main warehouse", "1 Main St."),
    (MAIN, "Second warehouse", "2 Second St."),
    (MAIN, "Restricted warehouse", "3 Restricted St."),
    (BASIC, "Main warehouse", "1 Main St."),
    (OFF, "Main warehouse", "1 Main St."),
)
# CRM vendors a receipt may bind (catalog.documentcontractor.add): two contacts and two companies
# per portal (a document takes one company only); the first contact is the `supplier_contact_id`
# fixture the sandbox binds to its receipts.
SUPPLIER_CONTACT_ID = 101
VENDORS = tuple((p, t, e) for p in (MAIN, BASIC, OFF)
                for t, e in ((CONTACT, SUPPLIER_CONTACT_ID), (CONTACT, 102), (COMPANY, 201), (COMPANY, 202)))
PRODUCTS = ((MAIN, 21, "Monster Energy"), (MAIN, 21, "Widget"), (BASIC, 22, "Widget"), (OFF, 23, "Widget"))
NO_CANCEL = tuple((a, t) for a, t in ALL_DOC_RIGHTS if a != "cancel")
# The users a clause's `when.as` role runs as. Each non-administrator lacks exactly one thing the
# cancel page asks for, so that a refusal can only have the cause its clause names.
USERS = (
    _User(MAIN, 1, "Admin", is_admin=True, catalog_read=True, inventory=True, all_stores=True),
    _User(MAIN, 2, "Clerk without cancel right", catalog_read=True, inventory=True, all_stores=True,
          doc_rights=NO_CANCEL),
    _User(
        MAIN,
        3,
        "Clerk without restricted warehouse",
        catalog_read=True,
        inventory=True,
        doc_rights=tuple(ALL_DOC_RIGHTS),
        store_names=("Main warehouse", "Second warehouse"),
    ),
    _User(MAIN, 4, "Catalog reader", catalog_read=True),
    _User(MAIN, 5, "Deactivated admin", active=False, is_admin=True, catalog_read=True, inventory=True,
          all_stores=True),
    _User(
        MAIN,
        6,
        "Clerk with all document rights",
        catalog_read=True,
        inventory=True,
        all_stores=True,
        doc_rights=tuple(ALL_DOC_RIGHTS),
    ),
    _User(MAIN, 7, "Clerk who may cancel receipts only", catalog_read=True, inventory=True, all_stores=True,
          doc_rights=(("cancel", "A"),)),
    _User(MAIN, 8, "Clerk without product catalog access", inventory=True, all_stores=True,
          doc_rights=tuple(ALL_DOC_RIGHTS)),
    _User(MAIN, 9, "Clerk without inventory management access", catalog_read=True, all_stores=True,
          doc_rights=tuple(ALL_DOC_RIGHTS)),
    _User(MAIN, 10, "Clerk who may conduct receipts only", catalog_read=True, inventory=True, all_stores=True,
          doc_rights=(("conduct", "A"),)),
    _User(BASIC, 1, "Admin", is_admin=True, catalog_read=True, inventory=True, all_stores=True),
    _User(OFF, 1, "Admin", is_admin=True, catalog_read=True, inventory=True, all_stores=True),
)
CREDENTIALS = (
    _Credential("admin", "webhook", MAIN, 1, "administrator webhook (scope catalog): may do everything"),
    _Credential(
        "admin-oauth",
        "oauth",
        MAIN,
        1,
        "administrator OAuth token (scope catalog), valid for 10 years",
        expires_in=TEN_YEARS_S,
    ),
    _Credential(
        "expired-oauth",
        "oauth",
        MAIN,
        1,
        "administrator OAuth token that expired an hour ago: expired_token",
        expires_in=-3600,
    ),
    _Credential(
        "no-cancel-right",
        "webhook",
        MAIN,
        2,
        "catalog and inventory access, every document right except cancel, every warehouse: cancel.no-rights",
    ),
    _Credential(
        "no-store-right",
        "webhook",
        MAIN,
        3,
        "catalog and inventory access, every document right, view-and-select on Main and Second"
        " warehouse but not Restricted: *.no-store-rights",
    ),
    _Credential(
        "reader", "webhook", MAIN, 4, "catalog read only (list, getFields, mode.status); no document rights"
    ),
    _Credential("inactive-user", "webhook", MAIN, 5, "webhook of a deactivated user: INVALID_CREDENTIALS"),
    _Credential(
        "no-catalog-scope",
        "webhook",
        MAIN,
        1,
        "administrator webhook with scopes crm,user only: insufficient_scope",
        scopes=frozenset({"crm", "user"}),
    ),
    _Credential(
        "operating-exhausted",
        "webhook",
        MAIN,
        1,
        "operating budget for catalog.document.cancel already spent: OPERATION_TIME_LIMIT",
    ),
    _Credential(
        "burst", "webhook", MAIN, 1, "administrator webhook reserved for rate-limit (leaky bucket) probing"
    ),
    _Credential(
        "clerk-full", "webhook", MAIN, 6, "non-administrator with every document right and every warehouse"
    ),
    _Credential(
        "cancel-receipts-only",
        "webhook",
        MAIN,
        7,
        "catalog and inventory access, every warehouse, may cancel receipts (A) and nothing else:"
        " cancel.no-rights on any other type",
    ),
    _Credential(
        "no-catalog-access",
        "webhook",
        MAIN,
        8,
        "inventory access, every document right, every warehouse, no product catalog access: cancel.no-rights",
    ),
    _Credential(
        "no-inventory-access",
        "webhook",
        MAIN,
        9,
        "product catalog access, every document right, every warehouse, no inventory management access:"
        " cancel.no-rights",
    ),
    _Credential(
        "conduct-receipts-only",
        "webhook",
        MAIN,
        10,
        "catalog and inventory access, every warehouse, may conduct receipts (A) and nothing else:"
        " conduct.no-rights on any other type",
    ),
    _Credential(
        "basic-plan-admin",
        "webhook",
        BASIC,
        1,
        "administrator on a plan without inventory accounting: *.plan errors",
    ),
    _Credential(
        "inventory-off-admin",
        "webhook",
        OFF,
        1,
        "administrator on a portal with inventory accounting switched off: *.mode-disabled errors",
    ),
)


def secret_for(settings: PortalSettings, label: str) -> str:
    """A credential's code: derived from `secret_seed` in deterministic mode, else random."""
    if settings.deterministic:
        return hashlib.sha256(f"{settings.secret_seed}:{label}".encode()).hexdigest()[:16]
    return secrets.token_hex(8)


def seed(db: PortalDB, settings: PortalSettings) -> SeedResult:
    """Fill an empty database; on an already-seeded one, change nothing and report what is there."""
    now = settings.fixed_clock if settings.deterministic else time.time()
    with db.transaction() as conn:
        if conn.execute("SELECT COUNT(*) FROM portals").fetchone()[0] == 0:
            _fill(conn, settings, now)
            if settings.page_examples:
                _page_examples(db, conn, now, settings.require_contractor)
        fixtures = _fixtures(conn)
    return SeedResult(credentials=db.credentials(), fixtures=fixtures)


def _fill(conn: sqlite3.Connection, settings: PortalSettings, now: float) -> None:
    stamp = iso(now)
    conn.executemany("INSERT INTO portals VALUES (?, ?, ?, ?)", PORTALS)
    conn.executemany("INSERT INTO catalogs (id, portal_id, name) VALUES (?, ?, ?)", CATALOGS)
    conn.executemany(
        "INSERT INTO stores (portal_id, title, address, user_id, modified_by, date_create, date_modify)"
        " VALUES (?, ?, ?, 1, 1, ?, ?)",
        [(p, title, address, stamp, stamp) for p, title, address in STORES],
    )
    conn.executemany(
        "INSERT INTO products (portal_id, iblock_id, name, created_by, modified_by, date_create, timestamp_x)"
        " VALUES (?, ?, ?, 1, 1, ?, ?)",
        [(p, iblock, name, stamp, stamp) for p, iblock, name in PRODUCTS],
    )
    conn.executemany("INSERT INTO crm_vendors (portal_id, entity_type_id, entity_id) VALUES (?, ?, ?)", VENDORS)
    for user in USERS:
        _add_user(conn, user)
    for cred in CREDENTIALS:
        conn.execute(
            "INSERT INTO credentials (secret, kind, label, portal_id, user_id, scopes, expires_at, description)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                secret_for(settings, cred.label),
                cred.kind,
                cred.label,
                cred.portal_id,
                cred.user_id,
                " ".join(sorted(cred.scopes)),
                None if cred.expires_in is None else now + cred.expires_in,
                cred.description,
            ),
        )


EXAMPLE_CONDUCTED_ID = 142  # the id in the cancel page's own examples: `-d '{"id":142}'`
EXAMPLE_DRAFT_ID = 143


def _page_examples(db: PortalDB, conn: sqlite3.Connection, now: float, require_contractor: bool) -> None:
    """Documents 142 (a conducted receipt) and 143 (a draft), so the page's curl examples work as
    written: 200 `{"result":true,...}` for 142, the not-conducted error for 143. Built through the
    domain, so 142's balances really are applied and its cancel really reverts them; each has the
    supplier a real portal's receipt needs (the fixture's contact)."""
    conn.execute("DELETE FROM sqlite_sequence WHERE name = 'documents'")
    conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('documents', ?)", (EXAMPLE_CONDUCTED_ID - 1,))
    fx = _fixtures(conn)
    inv = Inventory.open(SqliteInventory(db, MAIN), db.portal(MAIN), 1, now, require_contractor=require_contractor)
    for doc_id, title, conduct in ((EXAMPLE_CONDUCTED_ID, "Receipt 142", True), (EXAMPLE_DRAFT_ID, "Receipt 143", False)):
        doc = inv.add_document(NewDocument(doc_type="A", currency="USD", responsible_id=1, title=title))
        assert doc.id == doc_id
        for product, store, amount in ((fx["product_id"], fx["main_store_id"], 5),
                                       (fx["second_product_id"], fx["second_store_id"], 3)):
            inv.add_element(NewElement(doc_id=doc.id, element_id=product, store_to=store,
                                       amount=Decimal(amount), purchasing_price=10.0))
        inv.bind_contractor(doc.id, CONTACT, fx["supplier_contact_id"])
        if conduct:
            inv.conduct(doc.id, CONDUCT)


def _add_user(conn: sqlite3.Connection, user: _User) -> None:
    conn.execute(
        "INSERT INTO users (portal_id, id, name, active, is_admin, catalog_read, inventory, all_stores)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (user.portal_id, user.id, user.name, user.active, user.is_admin, user.catalog_read, user.inventory,
         user.all_stores),
    )
    conn.executemany(
        "INSERT INTO user_doc_rights (portal_id, user_id, action, doc_type) VALUES (?, ?, ?, ?)",
        [(user.portal_id, user.id, a, t) for a, t in user.doc_rights],
    )
    for name in user.store_names:
        conn.execute(
            "INSERT INTO user_store_rights (portal_id, user_id, store_id)"
            " SELECT portal_id, ?, id FROM stores WHERE portal_id = ? AND title = ?",
            (user.id, user.portal_id, name),
        )


def _fixtures(conn: sqlite3.Connection) -> dict[str, int]:
    def store(portal_id: int, title: str) -> int:
        sql = "SELECT MIN(id) FROM stores WHERE portal_id = ? AND title = ?"
        return conn.execute(sql, (portal_id, title)).fetchone()[0]

    def product(portal_id: int, name: str) -> int:
        sql = "SELECT MIN(id) FROM products WHERE portal_id = ? AND name = ?"
        return conn.execute(sql, (portal_id, name)).fetchone()[0]

    return {
        "iblock_id": 21,
        "main_store_id": store(MAIN, "Main warehouse"),
        "second_store_id": store(MAIN, "Second warehouse"),
        "restricted_store_id": store(MAIN, "Restricted warehouse"),
        # a warehouse the no-store-right user may view and select (the run's own ones it may not)
        "visible_store_id": store(MAIN, "Main warehouse"),
        "product_id": product(MAIN, "Monster Energy"),
        # a CRM vendor contact (entityTypeId 3) the sandbox binds to its receipts as their supplier
        "supplier_contact_id": SUPPLIER_CONTACT_ID,
        "second_product_id": product(MAIN, "Widget"),
        "basic_plan_store_id": store(BASIC, "Main warehouse"),
        "basic_plan_product_id": product(BASIC, "Widget"),
        "inventory_off_store_id": store(OFF, "Main warehouse"),
        "inventory_off_product_id": product(OFF, "Widget"),
    }
