"""The reference portal's SQLite database: the schema, the one shared lock-guarded connection (`PortalDB`)
with its transactions and its memoised look-ups (credentials, portals, users' rights), and the two
row helpers the SQL modules share (`record`, `exists`)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from .entities import INT64, PortalRecord, Rights

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS portals (
    id                 INTEGER PRIMARY KEY,
    name               TEXT    NOT NULL UNIQUE,
    plan_has_inventory INTEGER NOT NULL,
    inventory_enabled  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    portal_id    INTEGER NOT NULL REFERENCES portals(id),
    id           INTEGER NOT NULL,
    name         TEXT    NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1,
    is_admin     INTEGER NOT NULL DEFAULT 0,
    catalog_read INTEGER NOT NULL DEFAULT 0,
    inventory    INTEGER NOT NULL DEFAULT 0,  -- access to inventory management
    all_stores   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (portal_id, id)
);
CREATE TABLE IF NOT EXISTS user_doc_rights (
    portal_id INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    action    TEXT    NOT NULL CHECK (action IN ('conduct', 'cancel', 'delete', 'edit')),
    doc_type  TEXT    NOT NULL CHECK (doc_type IN ('A', 'S', 'M', 'R', 'D')),
    PRIMARY KEY (portal_id, user_id, action, doc_type),
    FOREIGN KEY (portal_id, user_id) REFERENCES users(portal_id, id)
);
CREATE TABLE IF NOT EXISTS user_store_rights (
    portal_id INTEGER NOT NULL,
    user_id   INTEGER NOT NULL,
    store_id  INTEGER NOT NULL,
    PRIMARY KEY (portal_id, user_id, store_id),
    FOREIGN KEY (portal_id, user_id) REFERENCES users(portal_id, id)
);
CREATE TABLE IF NOT EXISTS credentials (
    secret      TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('webhook', 'oauth')),
    label       TEXT    NOT NULL UNIQUE,
    portal_id   INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    scopes      TEXT    NOT NULL,
    expires_at  REAL,
    description TEXT    NOT NULL,
    FOREIGN KEY (portal_id, user_id) REFERENCES users(portal_id, id)
);
CREATE TABLE IF NOT EXISTS catalogs (
    id             INTEGER PRIMARY KEY,
    portal_id      INTEGER NOT NULL REFERENCES portals(id),
    name           TEXT    NOT NULL,
    lid            TEXT    NOT NULL DEFAULT 's1',
    iblock_type_id TEXT    NOT NULL DEFAULT 'CRM_PRODUCT_CATALOG'
);
CREATE TABLE IF NOT EXISTS products (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id   INTEGER NOT NULL REFERENCES portals(id),
    iblock_id   INTEGER NOT NULL REFERENCES catalogs(id),
    name        TEXT    NOT NULL,
    active      TEXT    NOT NULL DEFAULT 'Y',
    code        TEXT,
    xml_id      TEXT,
    created_by  INTEGER,
    modified_by INTEGER,
    date_create TEXT    NOT NULL,
    timestamp_x TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS stores (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id      INTEGER NOT NULL REFERENCES portals(id),
    title          TEXT,
    address        TEXT    NOT NULL,
    active         TEXT    NOT NULL DEFAULT 'Y',
    code           TEXT,
    description    TEXT,
    email          TEXT,
    phone          TEXT,
    schedule       TEXT,
    xml_id         TEXT,
    sort           INTEGER NOT NULL DEFAULT 100,
    gps_n          REAL,
    gps_s          REAL,
    issuing_center TEXT    NOT NULL DEFAULT 'N',
    user_id        INTEGER,
    modified_by    INTEGER,
    date_create    TEXT    NOT NULL,
    date_modify    TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id      INTEGER NOT NULL REFERENCES portals(id),
    doc_type       TEXT    NOT NULL CHECK (doc_type IN ('A', 'S', 'M', 'R', 'D')),
    doc_number     TEXT,
    title          TEXT,
    site_id        TEXT    NOT NULL,
    responsible_id INTEGER NOT NULL,
    created_by     INTEGER,
    modified_by    INTEGER,
    status         TEXT    NOT NULL DEFAULT 'N' CHECK (status IN ('N', 'Y', 'C')),
    status_by      INTEGER,
    date_status    TEXT,
    date_create    TEXT    NOT NULL,
    date_modify    TEXT    NOT NULL,
    date_document  TEXT,
    currency       TEXT    NOT NULL,
    total          REAL,
    commentary     TEXT
);
CREATE TABLE IF NOT EXISTS document_elements (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id           INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    element_id       INTEGER NOT NULL,
    store_from       INTEGER,
    store_to         INTEGER,
    amount           TEXT    NOT NULL DEFAULT '0',
    purchasing_price REAL
);
CREATE INDEX IF NOT EXISTS document_elements_doc ON document_elements(doc_id);
CREATE TABLE IF NOT EXISTS store_products (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    portal_id         INTEGER NOT NULL REFERENCES portals(id),
    product_id        INTEGER NOT NULL,
    store_id          INTEGER NOT NULL,
    amount            TEXT    NOT NULL DEFAULT '0',
    quantity_reserved TEXT    NOT NULL DEFAULT '0',
    UNIQUE (portal_id, product_id, store_id)
);
-- What conduct applied, per document, so that cancel reverses exactly these rows.
CREATE TABLE IF NOT EXISTS document_movements (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id     INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL,
    store_id   INTEGER NOT NULL,
    delta      TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS document_movements_doc ON document_movements(doc_id);
-- CRM vendors (contacts, entityTypeId 3, and companies, 4) and their bindings to receipts
-- (catalog.documentcontractor.*); a binding goes with its document.
CREATE TABLE IF NOT EXISTS crm_vendors (
    portal_id      INTEGER NOT NULL REFERENCES portals(id),
    entity_type_id INTEGER NOT NULL CHECK (entity_type_id IN (3, 4)),
    entity_id      INTEGER NOT NULL,
    PRIMARY KEY (portal_id, entity_type_id, entity_id)
);
CREATE TABLE IF NOT EXISTS document_contractors (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id         INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    entity_type_id INTEGER NOT NULL,
    entity_id      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS document_contractors_doc ON document_contractors(doc_id);
"""


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    secret: str  # webhook code or OAuth access token
    kind: str  # "webhook" | "oauth"
    label: str  # e.g. "admin", "no-cancel-right"
    portal_id: int
    user_id: int
    scopes: frozenset[str]  # e.g. {"catalog"} or {"crm", "user"}
    expires_at: float | None  # unix time; OAuth tokens only
    user_active: bool
    description: str  # one line: what this credential may do / which documented error it provokes


_CREDENTIAL_SELECT = """
SELECT c.secret, c.kind, c.label, c.portal_id, c.user_id, c.scopes, c.expires_at, u.active, c.description
FROM credentials c JOIN users u ON u.portal_id = c.portal_id AND u.id = c.user_id
"""


def _credential(row: sqlite3.Row) -> CredentialRecord:
    return CredentialRecord(
        secret=row[0],
        kind=row[1],
        label=row[2],
        portal_id=row[3],
        user_id=row[4],
        scopes=frozenset(row[5].split()),
        expires_at=row[6],
        user_active=bool(row[7]),
        description=row[8],
    )


class PortalDB:
    """One SQLite connection shared by all threads; an `RLock` serialises every use of it."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0  # transaction nesting on the lock-holding thread (guarded by the lock)
        self._memo: dict[Hashable, Any] = {}  # immutable after seeding: see memo()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            self._conn.execute("PRAGMA foreign_keys=ON")
            if _file_backed(path):
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.executescript(SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE` … `COMMIT` under the lock; `ROLLBACK` on any exception.

        Re-entrant: a nested call on the same thread opens a SAVEPOINT instead, so an inner failure
        undoes only the inner work.
        """
        with self._lock:
            depth = self._depth
            begin, commit, rollback = (
                ("BEGIN IMMEDIATE", ("COMMIT",), ("ROLLBACK",))
                if depth == 0
                else (
                    f"SAVEPOINT sp{depth}",
                    (f"RELEASE sp{depth}",),
                    (f"ROLLBACK TO sp{depth}", f"RELEASE sp{depth}"),
                )
            )
            self._conn.execute(begin)
            self._depth = depth + 1
            try:
                yield self._conn
            except BaseException:
                self._depth = depth
                for statement in rollback:
                    self._conn.execute(statement)
                raise
            else:
                self._depth = depth
                for statement in commit:
                    self._conn.execute(statement)

    def memo(self, key: Hashable, load: Callable[[], T | None]) -> T | None:
        """`load()` once per key. Only for what no REST method can change after seeding (portals,
        credentials, users' rights); a None result is not kept, so later seeding still shows."""
        found = self._memo.get(key)
        if found is None:
            found = load()
            if found is not None:
                self._memo[key] = found
        return found

    def credential(self, secret: str) -> CredentialRecord | None:
        if not isinstance(secret, str) or not _encodable(secret):
            return None
        return self.memo(("credential", secret), lambda: self._credential_row(secret))

    def _credential_row(self, secret: str) -> CredentialRecord | None:
        with self.transaction() as conn:
            row = conn.execute(_CREDENTIAL_SELECT + " WHERE c.secret = ?", (secret,)).fetchone()
        return None if row is None else _credential(row)

    def credentials(self) -> list[CredentialRecord]:
        with self.transaction() as conn:
            rows = conn.execute(_CREDENTIAL_SELECT + " ORDER BY c.portal_id, c.rowid").fetchall()
        return [_credential(r) for r in rows]

    def portal(self, portal_id: int) -> PortalRecord:
        """The portal with this id; `KeyError` if there is none (ids come from credentials)."""
        record = self.memo(("portal", portal_id), lambda: self._portal_row(portal_id))
        if record is None:
            raise KeyError(portal_id)
        return record

    def _portal_row(self, portal_id: int) -> PortalRecord | None:
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT id, name, plan_has_inventory, inventory_enabled FROM portals WHERE id = ?",
                (portal_id,),
            ).fetchone()
        return None if row is None else PortalRecord(row[0], row[1], bool(row[2]), bool(row[3]))

    def rights(self, portal_id: int, user_id: int) -> Rights:
        """What a user may do; no rights at all for an unknown or deactivated user."""

        def load() -> Rights:
            with self.transaction() as conn:
                return _rights(conn, portal_id, user_id)

        return self.memo(("rights", portal_id, user_id), load) or Rights()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _rights(conn: sqlite3.Connection, portal_id: int, user_id: int) -> Rights:
    if user_id not in INT64:
        return Rights()
    user = conn.execute(
        "SELECT active, is_admin, catalog_read, inventory, all_stores FROM users WHERE portal_id = ? AND id = ?",
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
        inventory_access=bool(user["inventory"]),
        doc=frozenset((r[0], r[1]) for r in doc),
        stores=None if user["all_stores"] else frozenset(r[0] for r in stores),
    )


def record(cls: type[T], row: sqlite3.Row) -> T:
    """A row as the value whose fields are named as its columns (Document, Store, Product)."""
    return cls(*(row[name] for name in cls.__slots__))  # type: ignore[attr-defined,call-arg]


def exists(conn: sqlite3.Connection, table: str, portal_id: int, row_id: int | None) -> bool:
    """Whether `table` (a fixed name, never user input) has the row `row_id` on this portal."""
    if row_id is None or row_id not in INT64:
        return False
    sql = f"SELECT 1 FROM {table} WHERE id = ? AND portal_id = ?"
    return conn.execute(sql, (row_id, portal_id)).fetchone() is not None


def _file_backed(path: str) -> bool:
    return path != ":memory:" and not path.startswith("file::memory:") and "mode=memory" not in path


def _encodable(text: str) -> bool:
    """SQLite needs UTF-8; a lone surrogate (valid in JSON `\\ud800`) would raise on bind."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
