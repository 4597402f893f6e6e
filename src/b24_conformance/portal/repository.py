"""The inventory domain's storage port: what the state machine asks of storage, one unit of work at a time.

`InventoryRepository.transaction()` opens a unit of work over one portal's documents, items,
movements and balances. Every read and write of one domain operation goes through the
`InventoryTransaction` it yields, and all of it is kept or none of it is: an exception inside the
`with` undoes it. Units of work never interleave, which is what makes conduct and cancel atomic;
one opened inside another undoes only its own part when it fails. The SQLite implementation is in
sqlite_repository.py; the tests bring an in-memory one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any, Protocol

from .entities import Document, DocumentContractor, DocumentElement, Movement, NewDocument, NewElement, Rights


class InventoryTransaction(Protocol):
    """One unit of work on one portal. Ids that name nothing (or no row of this portal) find nothing."""

    # -- documents
    def document(self, doc_id: int) -> Document | None: ...
    def documents(self) -> list[Document]: ...  # in id order

    def add_document(self, new: NewDocument, *, status: str, created_by: int, modified_by: int,
                     stamp: str) -> int:
        """Store a new document (every date `stamp`, no status author); its new id."""
        ...

    def update_document(self, doc_id: int, changes: Mapping[str, Any]) -> None:
        """Set fields of a document; `changes` is keyed by `Document` field names."""
        ...

    def set_status_if(self, doc_id: int, allowed: Collection[str], changes: Mapping[str, Any]) -> bool:
        """Compare and set: apply `changes` (as update_document) only while the status is one of
        `allowed`; whether it was applied. Of two such calls racing on one document, one wins."""
        ...

    def delete_document(self, doc_id: int) -> None:
        """Remove a document with its items and recorded movements."""
        ...

    # -- items
    def elements_of(self, doc_id: int) -> list[DocumentElement]: ...  # in id order
    def elements(self) -> list[DocumentElement]: ...  # every item of the portal, in id order
    def element(self, element_id: int) -> DocumentElement | None: ...
    def add_element(self, item: NewElement) -> DocumentElement: ...  # item.doc_id names a document
    def update_element(self, element_id: int, item: NewElement) -> DocumentElement: ...
    def delete_element(self, element_id: int) -> None: ...

    # -- products, warehouses and balances
    def has_product(self, product_id: int) -> bool: ...
    def has_store(self, store_id: int) -> bool: ...
    def product_name(self, product_id: int) -> str: ...  # "" for none
    def balance(self, product_id: int, store_id: int) -> Decimal: ...  # 0 where nothing moved yet
    def set_balance(self, product_id: int, store_id: int, amount: Decimal) -> None: ...

    # -- supplier bindings of receipts (catalog.documentcontractor.*)
    def is_vendor(self, entity_type_id: int, entity_id: int) -> bool: ...  # a CRM vendor of this portal
    def contractors(self) -> list[DocumentContractor]: ...  # every binding of the portal, in id order
    def contractors_of(self, doc_id: int) -> list[DocumentContractor]: ...  # one document's, in id order
    def contractor(self, binding_id: int) -> DocumentContractor | None: ...
    def add_contractor(self, doc_id: int, entity_type_id: int, entity_id: int) -> DocumentContractor: ...
    def delete_contractor(self, binding_id: int) -> None: ...

    # -- what conduct applied, so that cancel reverses exactly that
    def movements_of(self, doc_id: int) -> list[Movement]: ...  # in the order recorded
    def record_movements(self, doc_id: int, movements: Iterable[Movement]) -> None: ...
    def forget_movements(self, doc_id: int) -> None: ...


class InventoryRepository(Protocol):
    """One portal's inventory storage: units of work, and the rights of its users."""

    def transaction(self) -> AbstractContextManager[InventoryTransaction]: ...

    def rights(self, user_id: int) -> Rights:
        """What the user may do; no rights at all for an unknown or deactivated user."""
        ...
