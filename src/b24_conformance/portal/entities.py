"""The inventory domain's values: document types, the portal, rights, entities with their API forms, and inputs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple

DOC_TYPES: tuple[str, ...] = ("A", "S", "M", "R", "D")
# `catalog.enum.getStoreDocumentTypes` names (EN docs); used for a document's title when it has none.
TYPE_NAMES: Mapping[str, str] = {
    "A": "Goods Receipt",
    "S": "Goods Acquisition",
    "M": "Goods Transfer Between Warehouses",
    "R": "Goods Return",
    "D": "Goods Write-off",
}
ACTIONS: tuple[str, ...] = ("conduct", "cancel", "delete", "edit")
RECEIPT = "A"  # the one type a supplier (catalog.documentcontractor.*) is bound to
# CRM entity types a supplier may be (catalog-documentcontractor-add.md: 3 contact, 4 company).
CONTACT, COMPANY = 3, 4
# Document statuses: N draft, Y conducted, C cancelled.
DRAFT, CONDUCTED, CANCELLED = "N", "Y", "C"
INT64 = range(-(2**63), 2**63)
ZERO = Decimal(0)


def iso(ts: float) -> str:
    """`YYYY-MM-DDThh:mm:ss±hh:mm` (api-reference/data-types.md); the portal's clock runs in UTC."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def number(value: Decimal | float | None) -> int | float | None:
    """A JSON number as the docs' samples print it: integral values without a fraction."""
    if value is None:
        return None
    if value == int(value) and abs(value) < 2**53:
        return int(value)
    return float(value)


# --- the portal and its users' rights ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PortalRecord:
    """One portal: its plan may lack inventory accounting, and the accounting may be switched off."""

    id: int
    name: str
    plan_has_inventory: bool
    inventory_enabled: bool



@dataclass(frozen=True, slots=True)
class Rights:
    """What one user of one portal may do. An administrator may do everything.

    `catalog_read` is access to the product catalog ("View product catalog"); `inventory_access`
    is access to inventory management (the server's `catalog_inventory_management_access`); `doc`
    holds the per-document-type rights; `stores` the warehouses with "View and select"."""

    is_admin: bool = False
    catalog_read: bool = False
    inventory_access: bool = False
    doc: frozenset[tuple[str, str]] = frozenset()  # (action, docType)
    stores: frozenset[int] | None = frozenset()  # None: every warehouse

    def may(self, action: str, doc_type: str) -> bool:
        return self.is_admin or (action, doc_type) in self.doc

    def may_store(self, store_id: int) -> bool:
        return self.is_admin or self.stores is None or store_id in self.stores

    def may_stores(self, store_ids: Iterable[int]) -> bool:
        return all(self.may_store(s) for s in store_ids)

    @property
    def may_read(self) -> bool:
        return self.is_admin or self.catalog_read

    @property
    def may_use_inventory(self) -> bool:
        return self.is_admin or self.inventory_access


# --- entities -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Document:
    id: int
    doc_type: str
    doc_number: str | None
    title: str | None
    site_id: str
    responsible_id: int
    created_by: int | None
    modified_by: int | None
    status: str
    status_by: int | None
    date_status: str | None
    date_create: str
    date_modify: str
    date_document: str | None
    currency: str
    total: float | None
    commentary: str | None

    @property
    def display_title(self) -> str:
        """The title used in list-method messages: the stored one, else "<type name> <id>"."""
        return self.title or f"{TYPE_NAMES[self.doc_type]} {self.id}"

    def to_api(self) -> dict[str, Any]:
        return {
            "commentary": self.commentary,
            "createdBy": self.created_by,
            "currency": self.currency,
            "dateCreate": self.date_create,
            "dateDocument": self.date_document,
            "dateModify": self.date_modify,
            "dateStatus": self.date_status,
            "docNumber": self.doc_number,
            "docType": self.doc_type,
            "id": self.id,
            "modifiedBy": self.modified_by,
            "responsibleId": self.responsible_id,
            "siteId": self.site_id,
            "status": self.status,
            "statusBy": self.status_by,
            "title": self.title,
            "total": number(self.total),
        }


@dataclass(frozen=True, slots=True)
class DocumentElement:
    id: int
    doc_id: int
    element_id: int
    store_from: int | None
    store_to: int | None
    amount: Decimal
    purchasing_price: float | None

    @property
    def stores(self) -> set[int]:
        return {s for s in (self.store_from, self.store_to) if s is not None}

    def to_api(self) -> dict[str, Any]:
        return {
            "amount": number(self.amount),
            "docId": self.doc_id,
            "elementId": self.element_id,
            "id": self.id,
            "purchasingPrice": number(self.purchasing_price),
            "storeFrom": self.store_from,
            "storeTo": self.store_to,
        }


@dataclass(frozen=True, slots=True)
class DocumentContractor:
    """A CRM vendor (contact 3 or company 4) bound to a receipt (catalog.documentcontractor.*)."""

    id: int
    doc_id: int
    entity_type_id: int
    entity_id: int

    def to_api(self) -> dict[str, Any]:
        return {"documentId": self.doc_id, "entityId": self.entity_id, "entityTypeId": self.entity_type_id,
                "id": self.id}


@dataclass(frozen=True, slots=True)
class StoreProduct:
    id: int
    product_id: int
    store_id: int
    amount: Decimal
    quantity_reserved: Decimal

    def to_api(self) -> dict[str, Any]:
        return {
            "amount": number(self.amount),
            "id": self.id,
            "productId": self.product_id,
            "quantityReserved": number(self.quantity_reserved),
            "storeId": self.store_id,
        }


@dataclass(frozen=True, slots=True)
class Store:
    id: int
    title: str | None
    address: str
    active: str
    code: str | None
    description: str | None
    email: str | None
    phone: str | None
    schedule: str | None
    xml_id: str | None
    sort: int
    gps_n: float | None
    gps_s: float | None
    issuing_center: str
    user_id: int | None
    modified_by: int | None
    date_create: str
    date_modify: str

    def to_api(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "address": self.address,
            "code": self.code,
            "dateCreate": self.date_create,
            "dateModify": self.date_modify,
            "description": self.description,
            "email": self.email,
            "gpsN": number(self.gps_n),
            "gpsS": number(self.gps_s),
            "id": self.id,
            "imageId": None,
            "issuingCenter": self.issuing_center,
            "modifiedBy": self.modified_by,
            "phone": self.phone,
            "schedule": self.schedule,
            "sort": self.sort,
            "title": self.title,
            "userId": self.user_id,
            "xmlId": self.xml_id,
        }


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    iblock_id: int
    name: str
    active: str
    code: str | None
    xml_id: str | None
    created_by: int | None
    modified_by: int | None
    date_create: str
    timestamp_x: str

    def to_api(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "available": "Y",
            "code": self.code,
            "createdBy": self.created_by,
            "dateCreate": self.date_create,
            "iblockId": self.iblock_id,
            "id": self.id,
            "modifiedBy": self.modified_by,
            "name": self.name,
            "timestampX": self.timestamp_x,
            "type": 1,
            "xmlId": self.xml_id,
        }


@dataclass(frozen=True, slots=True)
class Catalog:
    id: int
    name: str
    lid: str
    iblock_type_id: str

    def to_api(self) -> dict[str, Any]:
        return {
            "iblockId": self.id,
            "iblockTypeId": self.iblock_type_id,
            "id": self.id,
            "lid": self.lid,
            "name": self.name,
            "productIblockId": None,
            "skuPropertyId": None,
            "subscription": "N",
            "vatId": None,
        }


@dataclass(frozen=True, slots=True)
class Movement:
    """One balance change conduct applied: `delta` of `product_id` at `store_id`."""

    product_id: int
    store_id: int
    delta: Decimal


# --- inputs -------------------------------------------------------------------------------------


class DocumentRef(NamedTuple):
    """One entry of a list method's `documentIds`: the id it names (None: no integer) and how to show it."""

    id: int | None
    shown: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDocument:
    doc_type: str
    currency: str
    responsible_id: int
    site_id: str = "s1"
    date_document: str | None = None
    title: str | None = None
    commentary: str | None = None
    total: float | None = None
    doc_number: str | None = None
    created_by: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewElement:
    doc_id: int | None
    element_id: int
    store_from: int | None = None
    store_to: int | None = None
    amount: Decimal = ZERO
    purchasing_price: float | None = None


@dataclass(frozen=True, slots=True)
class ActionKeys:
    """The message keys one method uses for the outcomes of a per-document action."""

    not_found: str
    no_rights: str
    no_store_rights: str
    refused: str  # conduct: "…failed" (with #ERROR#); cancel: "…not-conducted"; delete: "…conducted"
