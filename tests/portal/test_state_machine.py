"""The inventory state machine over an in-memory repository (pure Python, no SQLite): the seam is real."""

from __future__ import annotations

import ast
import copy
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from b24_conformance.portal import inventory as inventory_module
from b24_conformance.portal.deviations import Deviations
from b24_conformance.portal.entities import (
    ZERO,
    Document,
    DocumentElement,
    DocumentRef,
    Movement,
    NewDocument,
    NewElement,
    PortalRecord,
    Rights,
)
from b24_conformance.portal.errors import MessageRef, PortalError
from b24_conformance.portal.inventory import Inventory
from b24_conformance.portal.methods.documents import CANCEL, CANCEL_LIST, CONDUCT

NOW = 1762411074.0
PORTAL = PortalRecord(1, "fake", plan_has_inventory=True, inventory_enabled=True)
PRODUCT, MAIN, SECOND = 7, 1, 2


@dataclass
class _State:
    documents: dict[int, Document] = field(default_factory=dict)
    elements: dict[int, DocumentElement] = field(default_factory=dict)
    movements: dict[int, list[Movement]] = field(default_factory=dict)
    balances: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    next_id: int = 1


class FakeTransaction:
    """InventoryTransaction over plain dicts."""

    def __init__(self, state: _State) -> None:
        self.s = state
        self.products = {PRODUCT: "Widget"}
        self.stores = {MAIN, SECOND}

    def _new_id(self) -> int:
        self.s.next_id += 1
        return self.s.next_id - 1

    def document(self, doc_id: int) -> Document | None:
        return self.s.documents.get(doc_id)

    def documents(self) -> list[Document]:
        return sorted(self.s.documents.values(), key=lambda d: d.id)

    def add_document(self, new: NewDocument, *, status: str, created_by: int, modified_by: int,
                     stamp: str) -> int:
        doc_id = self._new_id()
        self.s.documents[doc_id] = Document(
            doc_id, new.doc_type, new.doc_number, new.title, new.site_id, new.responsible_id, created_by,
            modified_by, status, None, stamp, stamp, stamp, new.date_document, new.currency, new.total,
            new.commentary,
        )
        return doc_id

    def update_document(self, doc_id: int, changes: Mapping[str, Any]) -> None:
        self.s.documents[doc_id] = replace(self.s.documents[doc_id], **changes)

    def set_status_if(self, doc_id: int, allowed: Collection[str], changes: Mapping[str, Any]) -> bool:
        if self.s.documents[doc_id].status not in allowed:
            return False
        self.update_document(doc_id, changes)
        return True

    def delete_document(self, doc_id: int) -> None:
        del self.s.documents[doc_id]
        self.s.elements = {k: e for k, e in self.s.elements.items() if e.doc_id != doc_id}
        self.s.movements.pop(doc_id, None)

    def elements_of(self, doc_id: int) -> list[DocumentElement]:
        return [e for e in self.elements() if e.doc_id == doc_id]

    def elements(self) -> list[DocumentElement]:
        return sorted(self.s.elements.values(), key=lambda e: e.id)

    def element(self, element_id: int) -> DocumentElement | None:
        return self.s.elements.get(element_id)

    def add_element(self, item: NewElement) -> DocumentElement:
        assert item.doc_id is not None
        element = DocumentElement(self._new_id(), item.doc_id, item.element_id, item.store_from,
                                  item.store_to, item.amount, item.purchasing_price)
        self.s.elements[element.id] = element
        return element

    def update_element(self, element_id: int, item: NewElement) -> DocumentElement:
        self.s.elements[element_id] = replace(self.s.elements[element_id], store_from=item.store_from,
                                              store_to=item.store_to, amount=item.amount,
                                              purchasing_price=item.purchasing_price)
        return self.s.elements[element_id]

    def delete_element(self, element_id: int) -> None:
        del self.s.elements[element_id]

    def has_product(self, product_id: int) -> bool:
        return product_id in self.products

    def has_store(self, store_id: int) -> bool:
        return store_id in self.stores

    def product_name(self, product_id: int) -> str:
        return self.products.get(product_id, "")

    def balance(self, product_id: int, store_id: int) -> Decimal:
        return self.s.balances.get((product_id, store_id), ZERO)

    def set_balance(self, product_id: int, store_id: int, amount: Decimal) -> None:
        self.s.balances[(product_id, store_id)] = amount

    def movements_of(self, doc_id: int) -> list[Movement]:
        return list(self.s.movements.get(doc_id, []))

    def record_movements(self, doc_id: int, movements: Iterable[Movement]) -> None:
        self.s.movements.setdefault(doc_id, []).extend(movements)

    def forget_movements(self, doc_id: int) -> None:
        self.s.movements.pop(doc_id, None)


class FakeRepository:
    """InventoryRepository in memory: a unit of work keeps all its changes or, on an exception, none."""

    def __init__(self, rights: Mapping[int, Rights]) -> None:
        self.state = _State()
        self._rights = dict(rights)
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[FakeTransaction]:
        with self._lock:
            saved = copy.deepcopy(self.state)
            try:
                yield FakeTransaction(self.state)
            except BaseException:
                self.state.__dict__.update(saved.__dict__)
                raise

    def rights(self, user_id: int) -> Rights:
        return self._rights.get(user_id, Rights())


ADMIN, READER = 1, 2


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository({ADMIN: Rights(is_admin=True), READER: Rights(catalog_read=True)})


def open_inventory(repo: FakeRepository, user_id: int = ADMIN, **deviations: bool) -> Inventory:
    return Inventory.open(repo, PORTAL, user_id, NOW, deviations=Deviations(**deviations))


def draft(inv: Inventory, doc_type: str, store_from: int | None, store_to: int | None, amount: str) -> int:
    doc = inv.add_document(NewDocument(doc_type=doc_type, currency="USD", responsible_id=1))
    inv.add_element(NewElement(doc_id=doc.id, element_id=PRODUCT, store_from=store_from, store_to=store_to,
                               amount=Decimal(amount), purchasing_price=2.0))
    return doc.id


def status(inv: Inventory, doc_id: int) -> str:
    doc = inv.document(doc_id)
    assert doc is not None
    return doc.status


def test_conduct_then_cancel_moves_and_restores_the_balances(repo: FakeRepository) -> None:
    inv = open_inventory(repo)
    receipt = draft(inv, "A", None, MAIN, "5")
    inv.conduct(receipt, CONDUCT)
    transfer = draft(inv, "M", MAIN, SECOND, "2")
    inv.conduct(transfer, CONDUCT)
    assert (inv.balance(PRODUCT, MAIN), inv.balance(PRODUCT, SECOND)) == (3, 2)
    assert status(inv, transfer) == "Y" and inv.document(transfer).total == 4.0  # type: ignore[union-attr]

    inv.cancel(transfer, CANCEL)
    assert status(inv, transfer) == "C"
    assert (inv.balance(PRODUCT, MAIN), inv.balance(PRODUCT, SECOND)) == (5, 0)
    assert repo.state.movements.get(transfer) is None  # reversed once, then forgotten


def test_cancel_of_a_draft_is_refused_and_changes_nothing(repo: FakeRepository) -> None:
    inv = open_inventory(repo)
    doc_id = draft(inv, "A", None, MAIN, "5")
    before = copy.deepcopy(repo.state)
    with pytest.raises(PortalError) as info:
        inv.cancel(doc_id, CANCEL)
    assert info.value.key == "cancel.not-conducted"
    assert info.value.params == {"id": doc_id, "title": f"Goods Receipt {doc_id}"}
    assert repo.state == before


def test_cancel_twice_is_refused_and_a_cancelled_document_conducts_again(repo: FakeRepository) -> None:
    inv = open_inventory(repo)
    doc_id = draft(inv, "A", None, MAIN, "5")
    inv.conduct(doc_id, CONDUCT)
    inv.cancel(doc_id, CANCEL)
    with pytest.raises(PortalError, match="^cancel.not-conducted$"):
        inv.cancel(doc_id, CANCEL)
    inv.conduct(doc_id, CONDUCT)
    assert status(inv, doc_id) == "Y" and inv.balance(PRODUCT, MAIN) == 5


def test_a_refused_conduct_is_undone_by_its_unit_of_work(repo: FakeRepository) -> None:
    inv = open_inventory(repo)
    inv.conduct(draft(inv, "A", None, MAIN, "1"), CONDUCT)
    write_off = draft(inv, "D", MAIN, None, "1")
    inv.add_element(NewElement(doc_id=write_off, element_id=PRODUCT, store_from=MAIN, amount=Decimal(3)))
    with pytest.raises(PortalError) as info:  # the first item fits, the second does not
        inv.conduct(write_off, CONDUCT)
    reason = MessageRef("reason.insufficient-amount", {"product": PRODUCT, "name": "Widget"})
    assert info.value.params["error"] == reason
    assert inv.balance(PRODUCT, MAIN) == 1 and status(inv, write_off) == "N"


def test_cancel_needs_the_cancel_right(repo: FakeRepository) -> None:
    doc_id = draft(open_inventory(repo), "A", None, MAIN, "5")
    open_inventory(repo).conduct(doc_id, CONDUCT)
    with pytest.raises(PortalError, match="^cancel.no-rights$"):
        open_inventory(repo, READER).cancel(doc_id, CANCEL)
    assert status(open_inventory(repo), doc_id) == "Y"


def test_cancel_list_keeps_its_successes_and_raises_the_first_failure(repo: FakeRepository) -> None:
    inv = open_inventory(repo)
    conducted = draft(inv, "A", None, MAIN, "5")
    inv.conduct(conducted, CONDUCT)
    drafted = draft(inv, "A", None, MAIN, "1")
    with pytest.raises(PortalError) as info:
        inv.cancel_list([DocumentRef(None, "abc"), DocumentRef(drafted, str(drafted)),
                         DocumentRef(conducted, str(conducted))], CANCEL_LIST)
    assert (info.value.key, info.value.params) == ("cancel-list.not-found", {"id": "abc"})
    assert status(inv, conducted) == "C" and inv.balance(PRODUCT, MAIN) == 0


def test_deviations_are_read_over_any_repository(repo: FakeRepository) -> None:
    inv = open_inventory(repo, cancel_keeps_balances=True, cancel_sets_draft=True)
    doc_id = draft(inv, "A", None, MAIN, "5")
    inv.conduct(doc_id, CONDUCT)
    inv.cancel(doc_id, CANCEL)
    assert status(inv, doc_id) == "N" and inv.balance(PRODUCT, MAIN) == 5


def test_the_domain_imports_no_storage() -> None:
    tree = ast.parse(Path(inventory_module.__file__).read_text())  # type: ignore[arg-type]
    imported = {n.name for node in ast.walk(tree) if isinstance(node, ast.Import) for n in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"sqlite3", "database", "sqlite_repository", "catalog"}, imported
