"""The portal's domain and storage, in process: balances, state machine, atomicity, concurrency, seed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from b24_conformance.portal.catalog import CatalogRecords
from b24_conformance.portal.database import PortalDB
from b24_conformance.portal.entities import NewDocument, NewElement
from b24_conformance.portal.errors import MessageRef, PortalError
from b24_conformance.portal.inventory import Inventory
from b24_conformance.portal.methods.documents import CANCEL, CANCEL_LIST, CONDUCT
from b24_conformance.portal.seed import SeedResult, secret_for, seed
from b24_conformance.portal.settings import PortalSettings
from b24_conformance.portal.sqlite_repository import SqliteInventory

NOW = 1762411074.0
SETTINGS = PortalSettings(deterministic=True, page_examples=False)  # an empty document table


@pytest.fixture(params=["memory", "file"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PortalDB]:
    database = PortalDB(":memory:" if request.param == "memory" else str(tmp_path / "portal.sqlite"))
    yield database
    database.close()


@pytest.fixture
def seeded(db: PortalDB) -> SeedResult:
    return seed(db, SETTINGS)


def inventory(db: PortalDB, user_id: int = 1, portal_id: int = 1, *, contractor: bool = False) -> Inventory:
    return Inventory.open(SqliteInventory(db, portal_id), db.portal(portal_id), user_id, NOW,
                          require_contractor=contractor)


def new_doc(inv: Inventory, doc_type: str, *items: tuple[int, int | None, int | None, str]) -> int:
    """A draft with items (product, storeFrom, storeTo, amount)."""
    doc = inv.add_document(NewDocument(doc_type=doc_type, currency="USD", responsible_id=1))
    for product, store_from, store_to, amount in items:
        inv.add_element(
            NewElement(
                doc_id=doc.id,
                element_id=product,
                store_from=store_from,
                store_to=store_to,
                amount=Decimal(amount),
                purchasing_price=2.5,
            )
        )
    return doc.id


def stock(inv: Inventory, fx: dict[str, int], amount: str = "10") -> None:
    """Conduct a stock adjustment (S) of `amount` of each seeded product into the main warehouse."""
    main = fx["main_store_id"]
    inv.conduct(
        new_doc(
            inv, "S", (fx["product_id"], None, main, amount), (fx["second_product_id"], None, main, amount)
        ),
        CONDUCT,
    )


def balances(db: PortalDB) -> dict[tuple[int, int], Decimal]:
    """Every balance row of the main portal (as catalog.storeproduct.list reads them)."""
    return {(sp.product_id, sp.store_id): sp.amount for sp in CatalogRecords(db, 1, 1, NOW).store_products()}


def raises(key: str) -> pytest.RaisesContext[PortalError]:
    return pytest.raises(PortalError, match=f"^{key}$")


# --- balance arithmetic --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc_type", "from_", "to", "expected"),
    [
        ("A", None, "second", {"second": Decimal("3.3")}),
        ("S", None, "second", {"second": Decimal("3.3")}),
        ("M", "main", "second", {"main": Decimal("-3.3"), "second": Decimal("3.3")}),
        ("R", "main", None, {"main": Decimal("-3.3")}),
        ("D", "main", None, {"main": Decimal("-3.3")}),
    ],
)
def test_conduct_moves_stock_and_cancel_restores_it_exactly(
    db: PortalDB,
    seeded: SeedResult,
    doc_type: str,
    from_: str | None,
    to: str | None,
    expected: dict[str, Decimal],
) -> None:
    fx, inv = seeded.fixtures, inventory(db)
    stock(inv, fx, "10.1")
    store = {"main": fx["main_store_id"], "second": fx["second_store_id"], None: None}
    product = fx["product_id"]
    before = balances(db)
    doc_id = new_doc(
        inv, doc_type, (product, store[from_], store[to], "1.1"), (product, store[from_], store[to], "2.2")
    )

    inv.conduct(doc_id, CONDUCT)
    after = balances(db)
    for name, delta in expected.items():
        assert after[(product, store[name])] == before.get((product, store[name]), Decimal(0)) + delta
    assert inv.document(doc_id).status == "Y"  # type: ignore[union-attr]
    assert inv.document(doc_id).total == pytest.approx(3.3 * 2.5)  # type: ignore[union-attr]

    inv.cancel(doc_id, CANCEL)
    restored = balances(db)
    assert {k: v for k, v in restored.items() if v or k in before} == before
    assert inv.document(doc_id).status == "C"  # type: ignore[union-attr]


def test_outflow_beyond_stock_refuses_the_whole_conduct(db: PortalDB, seeded: SeedResult) -> None:
    fx, inv = seeded.fixtures, inventory(db)
    stock(inv, fx, "5")
    before = balances(db)
    main = fx["main_store_id"]
    doc_id = new_doc(
        inv, "D", (fx["second_product_id"], main, None, "2"), (fx["product_id"], main, None, "6")
    )
    with raises("conduct.failed") as info:
        inv.conduct(doc_id, CONDUCT)
    assert info.value.params["error"] == MessageRef(
        "reason.insufficient-amount", {"product": fx["product_id"], "name": "Monster Energy"}
    )
    assert balances(db) == before  # the first item's write-off was rolled back too
    assert inv.document(doc_id).status == "N"  # type: ignore[union-attr]


def test_transfer_needs_stock_at_the_source(db: PortalDB, seeded: SeedResult) -> None:
    fx, inv = seeded.fixtures, inventory(db)
    doc_id = new_doc(inv, "M", (fx["product_id"], fx["second_store_id"], fx["main_store_id"], "1"))
    with raises("conduct.failed"):
        inv.conduct(doc_id, CONDUCT)
    assert balances(db) == {}


def test_zero_amount_is_an_incorrect_quantity(db: PortalDB, seeded: SeedResult) -> None:
    fx, inv = seeded.fixtures, inventory(db)
    doc_id = new_doc(inv, "S", (fx["product_id"], None, fx["main_store_id"], "0"))
    with raises("conduct.failed") as info:
        inv.conduct(doc_id, CONDUCT)
    assert info.value.params["error"].key == "reason.insufficient-amount"


def test_cancel_reverses_the_recorded_movements_not_the_current_items(
    db: PortalDB, seeded: SeedResult
) -> None:
    fx, inv = seeded.fixtures, inventory(db)
    doc_id = new_doc(inv, "A", (fx["product_id"], None, fx["main_store_id"], "4"))
    inv.conduct(doc_id, CONDUCT)
    with db.transaction() as conn:  # tamper with the item behind the API's back
        conn.execute("UPDATE document_elements SET amount = '100' WHERE doc_id = ?", (doc_id,))
    inv.cancel(doc_id, CANCEL)
    assert inv.balance(fx["product_id"], fx["main_store_id"]) == 0


# --- state machine -------------------------------------------------------------------------------


def test_state_machine(db: PortalDB, seeded: SeedResult) -> None:
    fx, inv = seeded.fixtures, inventory(db)
    empty = new_doc(inv, "S")
    with raises("conduct.failed") as info:
        inv.conduct(empty, CONDUCT)
    assert info.value.params["error"] == MessageRef("reason.no-items")

    doc_id = new_doc(inv, "S", (fx["product_id"], None, fx["main_store_id"], "1"))
    with raises("cancel.not-conducted"):  # N
        inv.cancel(doc_id, CANCEL)
    inv.conduct(doc_id, CONDUCT)
    with raises("conduct.failed") as info:  # Y
        inv.conduct(doc_id, CONDUCT)
    assert info.value.params["error"] == MessageRef("reason.already-conducted")
    inv.cancel(doc_id, CANCEL)
    with raises("cancel.not-conducted"):  # C
        inv.cancel(doc_id, CANCEL)
    inv.conduct(doc_id, CONDUCT)  # re-conduct of C is allowed
    assert inv.balance(fx["product_id"], fx["main_store_id"]) == 1
    with raises("cancel.not-found"):
        inv.cancel(10**6, CANCEL)


def test_list_keys_carry_title_and_id(db: PortalDB, seeded: SeedResult) -> None:
    inv = inventory(db)
    doc_id = new_doc(inv, "A")
    with raises("cancel-list.not-conducted") as info:
        inv.cancel(doc_id, CANCEL_LIST)
    assert info.value.params == {"id": doc_id, "title": f"Goods Receipt {doc_id}"}
    with raises("cancel-list.not-found") as info:
        inv.cancel(None, CANCEL_LIST, shown_id="abc")
    assert info.value.params == {"id": "abc"}


def test_receipt_needs_a_supplier_when_required(db: PortalDB, seeded: SeedResult) -> None:
    fx = seeded.fixtures
    inv = inventory(db, contractor=True)
    receipt = new_doc(inv, "A", (fx["product_id"], None, fx["main_store_id"], "1"))
    with raises("conduct.failed") as info:
        inv.conduct(receipt, CONDUCT)
    assert info.value.params["error"] == MessageRef("reason.no-contractor")
    inv.conduct(new_doc(inv, "S", (fx["product_id"], None, fx["main_store_id"], "1")), CONDUCT)


def test_items_change_only_in_drafts(db: PortalDB, seeded: SeedResult) -> None:
    fx, inv = seeded.fixtures, inventory(db)
    doc_id = new_doc(inv, "S", (fx["product_id"], None, fx["main_store_id"], "1"))
    item = NewElement(
        doc_id=doc_id, element_id=fx["product_id"], store_to=fx["main_store_id"], amount=Decimal(1)
    )
    inv.conduct(doc_id, CONDUCT)
    with raises("element.conducted"):
        inv.add_element(item)
    inv.cancel(doc_id, CANCEL)
    with raises("element.conducted"):
        inv.add_element(item)
    with raises("element.not-found"):
        inv.add_element(NewElement(doc_id=10**9, element_id=fx["product_id"], store_to=fx["main_store_id"]))


# --- rights --------------------------------------------------------------------------------------


def test_rights(db: PortalDB, seeded: SeedResult) -> None:
    fx = seeded.fixtures
    admin = inventory(db)
    restricted = new_doc(admin, "S", (fx["product_id"], None, fx["restricted_store_id"], "1"))
    with raises("conduct.no-store-rights"):
        inventory(db, user_id=3).conduct(restricted, CONDUCT)
    admin.conduct(restricted, CONDUCT)
    with raises("cancel.no-rights"):
        inventory(db, user_id=2).cancel(restricted, CANCEL)
    with raises("cancel.no-store-rights"):
        inventory(db, user_id=3).cancel(restricted, CANCEL)
    with raises("conduct.no-rights"):
        inventory(db, user_id=4).conduct(restricted, CONDUCT)
    with raises("conduct.no-rights"):  # deactivated user: no rights at all
        inventory(db, user_id=5).conduct(restricted, CONDUCT)
    inventory(db, user_id=6).cancel(restricted, CANCEL)
    assert inventory(db, user_id=4).rights.may_read
    assert not inventory(db, user_id=99).rights.may_read


def test_each_rights_role_lacks_exactly_its_one_thing(db: PortalDB, seeded: SeedResult) -> None:
    """Users 7, 8, 9 (cancel-receipts-only, no-catalog-access, no-inventory-access): each is refused
    for its own cause only; the catalog and inventory checks hold for conduct too."""
    fx = seeded.fixtures
    admin = inventory(db)
    receipt = new_doc(admin, "A", (fx["product_id"], None, fx["main_store_id"], "4"))
    write_off = new_doc(admin, "D", (fx["product_id"], fx["main_store_id"], None, "1"))
    admin.conduct(receipt, CONDUCT)
    admin.conduct(write_off, CONDUCT)
    with raises("cancel.no-rights"):
        inventory(db, user_id=7).cancel(write_off, CANCEL)
    for user in (8, 9):
        with raises("cancel.no-rights"):
            inventory(db, user_id=user).cancel(receipt, CANCEL)
        with raises("conduct.no-rights"):
            inventory(db, user_id=user).conduct(new_doc(admin, "A", (fx["product_id"], None, fx["main_store_id"], "1")),
                                               CONDUCT)
    inventory(db, user_id=7).cancel(receipt, CANCEL)
    assert admin.document(receipt).status == "C" and admin.document(write_off).status == "Y"


@pytest.mark.parametrize("hidden_end", ["from", "to"])
def test_a_transfer_with_one_hidden_end_is_refused(db: PortalDB, seeded: SeedResult, hidden_end: str) -> None:
    fx = seeded.fixtures
    admin = inventory(db)
    hidden, visible = fx["restricted_store_id"], fx["visible_store_id"]
    source, dest = (hidden, visible) if hidden_end == "from" else (visible, hidden)
    admin.conduct(new_doc(admin, "S", (fx["product_id"], None, source, "3")), CONDUCT)
    transfer = new_doc(admin, "M", (fx["product_id"], source, dest, "3"))
    admin.conduct(transfer, CONDUCT)
    assert inventory(db, user_id=3).rights.may_store(visible)
    with raises("cancel.no-store-rights"):
        inventory(db, user_id=3).cancel(transfer, CANCEL)
    assert admin.balance(fx["product_id"], dest) == 3


def test_every_role_a_clause_runs_as_is_seeded_with_what_it_may_do(seeded: SeedResult) -> None:
    from b24_conformance.contract.clause import load_clauses

    derived = {"bogus-webhook", "anonymous"}  # made from the admin's credential (target/config.py)
    roles = {c.when.role for c in load_clauses()} - derived
    described = {c.label: c.description for c in seeded.credentials}
    assert roles <= set(described)
    assert all(len(described[r]) > 20 for r in roles)


# --- concurrency ---------------------------------------------------------------------------------


def _race(n: int, action: object) -> list[str]:
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            action()  # type: ignore[operator]
            outcome = "ok"
        except PortalError as exc:
            outcome = exc.key
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return sorted(outcomes)


def test_concurrent_cancels_revert_balances_once(db: PortalDB, seeded: SeedResult) -> None:
    fx, inv = seeded.fixtures, inventory(db)
    stock(inv, fx, "50")
    doc_id = new_doc(inv, "D", (fx["product_id"], fx["main_store_id"], None, "7"))
    inv.conduct(doc_id, CONDUCT)
    assert inv.balance(fx["product_id"], fx["main_store_id"]) == 43

    outcomes = _race(8, lambda: inventory(db).cancel(doc_id, CANCEL))
    assert outcomes == ["cancel.not-conducted"] * 7 + ["ok"]
    assert inv.balance(fx["product_id"], fx["main_store_id"]) == 50


def test_concurrent_conducts_apply_once(db: PortalDB, seeded: SeedResult) -> None:
    fx, inv = seeded.fixtures, inventory(db)
    doc_id = new_doc(inv, "A", (fx["product_id"], None, fx["main_store_id"], "3"))
    outcomes = _race(8, lambda: inventory(db).conduct(doc_id, CONDUCT))
    assert outcomes == ["conduct.failed"] * 7 + ["ok"]
    assert inv.balance(fx["product_id"], fx["main_store_id"]) == 3


# --- storage and seed ----------------------------------------------------------------------------


def test_nested_transactions_roll_back_only_the_inner_part(db: PortalDB, seeded: SeedResult) -> None:
    with db.transaction() as conn:
        conn.execute("UPDATE portals SET name = 'outer' WHERE id = 2")
        with pytest.raises(RuntimeError), db.transaction() as inner:
            inner.execute("UPDATE portals SET name = 'inner' WHERE id = 3")
            raise RuntimeError
    assert db.portal(2).name == "outer"
    assert db.portal(3).name == "inventory-off"


def test_seed(db: PortalDB, seeded: SeedResult) -> None:
    labels = {c.label: c for c in seeded.credentials}
    assert {
        "admin",
        "admin-oauth",
        "expired-oauth",
        "no-cancel-right",
        "no-store-right",
        "reader",
        "inactive-user",
        "no-catalog-scope",
        "operating-exhausted",
        "burst",
        "basic-plan-admin",
        "inventory-off-admin",
    } <= set(labels)
    assert labels["admin"].secret == secret_for(SETTINGS, "admin") != secret_for(SETTINGS, "reader")
    assert labels["admin"].scopes == {"catalog"} and labels["no-catalog-scope"].scopes == {"crm", "user"}
    assert (
        labels["expired-oauth"].expires_at is not None
        and labels["expired-oauth"].expires_at < SETTINGS.fixed_clock
    )
    assert (
        labels["admin-oauth"].kind == "oauth"
        and labels["admin-oauth"].expires_at > SETTINGS.fixed_clock + 9 * 365 * 86400
    )
    assert not labels["inactive-user"].user_active and labels["admin"].user_active
    assert all(c.description for c in seeded.credentials)
    assert db.credential(labels["reader"].secret) == labels["reader"]
    assert db.credential("nope") is None and db.credential("\ud800") is None
    assert (
        db.portal(2).plan_has_inventory,
        db.portal(3).plan_has_inventory,
        db.portal(3).inventory_enabled,
    ) == (False, True, False)
    assert (
        seeded.fixtures["iblock_id"] == 21
        and len({seeded.fixtures[k] for k in ("main_store_id", "second_store_id", "restricted_store_id")})
        == 3
    )
    assert seed(db, SETTINGS) == seeded  # seeding twice changes nothing
    random = seed(PortalDB(), PortalSettings(page_examples=False))
    assert {c.secret for c in random.credentials}.isdisjoint({c.secret for c in seeded.credentials})
