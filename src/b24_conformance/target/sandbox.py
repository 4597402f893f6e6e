"""The sandbox: the only things a run ever writes on a portal, and how they are removed again.

A run creates two warehouses of its own (`main`, `second`); each clause creates its own products
and documents, titled with the run id so a person can tell them apart. Everything created is
written to a manifest file first (ids only, no secrets), so `b24-conformance cleanup` can remove
the leftovers of an interrupted run. Set-up and observation go through `batch`, one request each,
to stay inside the portal's burst allowance.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract.clause import INCOMING, Clause, DocumentSpec, Item, item_ends
from ..errors import TargetError
from .client import PortalClient
from .config import Credential, TargetConfig

MAX_BATCH = 50
STORE_LABELS = ("main", "second")
# Warehouses a clause may name that the run does not create: the target config's fixtures give
# them. `restricted` is one the store-restricted roles may not view and select; `visible` is one
# they may (a run's own warehouses are new, so no restricted role can see them either).
FIXTURE_STORES = {"restricted": "restricted_store_id", "visible": "visible_store_id"}


class SetupFailed(TargetError):
    """The portal refused to build a clause's precondition; the clause verdict is ERROR."""


@dataclass
class DocumentState:
    label: str
    type: str
    title: str
    id: int | None = None
    stock_id: int | None = None  # the stock-up receipt made for outflow documents
    pre_conduct: dict[tuple[str, str], float] = field(default_factory=dict)  # (product, store label)


@dataclass
class World:
    """What one clause's set-up built: ids by label, and balance snapshots."""

    clause_id: str
    documents: dict[str, DocumentState] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)
    ready: dict[tuple[str, str], float] = field(default_factory=dict)  # balances before the call
    cleaned: bool = False  # the clean-up already ran (inside the observation batch)

    def references(self) -> dict[str, Any]:
        """Every `$label.field` reference a clause may use, with the value the sandbox built."""
        refs: dict[str, Any] = {}
        for label, doc in self.documents.items():
            refs[f"${label}.id"] = doc.id
            refs[f"${label}.title"] = doc.title
        return refs

    def resolve(self, value: Any) -> Any:
        """Replace `$label.field` references with what the sandbox built."""
        if isinstance(value, str) and value.startswith("$") and "." in value:
            label, attr = value[1:].split(".", 1)
            doc = self.documents.get(label)
            if doc is None:
                raise TargetError(f"clause {self.clause_id}: unknown reference {value}")
            return {"id": doc.id, "title": doc.title}.get(attr, value)
        if isinstance(value, Mapping):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value


class Manifest:
    """A JSON file of everything the run created, kept up to date as it goes."""

    def __init__(self, directory: Path, run_id: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"sandbox-{run_id}.json"
        self.data: dict[str, Any] = {"run_id": run_id, "stores": [], "products": [], "documents": []}
        self._flush()

    def add(self, kind: str, ids: Iterable[int]) -> None:
        self.data[kind].extend(i for i in ids if i not in self.data[kind])
        self._flush()

    def remove(self, kind: str, ids: Iterable[int]) -> None:
        gone = set(ids)
        self.data[kind] = [i for i in self.data[kind] if i not in gone]
        self._flush()

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)

    def _flush(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)


class Sandbox:
    def __init__(self, client: PortalClient, config: TargetConfig, run_id: str, manifest_dir: Path) -> None:
        self.client = client
        self.config = config
        self.run_id = run_id
        self.admin = _require(config.credential("admin"))
        self.manifest = Manifest(manifest_dir, run_id)
        self.stores: dict[str, int] = {}
        self.iblock_id: int | None = None
        self.responsible_id = self.admin.user_id or 1

    # -- run level ----------------------------------------------------------------------------
    def open(self) -> None:
        """Find the product catalog and create the run's two warehouses."""
        commands: dict[str, tuple[str, Mapping[str, Any]]] = {"catalogs": ("catalog.catalog.list", {})}
        for label in STORE_LABELS:
            commands[f"store_{label}"] = ("catalog.store.add", {"fields": {
                "title": f"b24c {self.run_id} {label}", "address": "b24-conformance sandbox",
                "active": "Y", "code": f"b24c_{self.run_id}_{label}"}})
        result = self._batch(commands, halt=True, what="sandbox warehouses", phase="run")
        catalogs = _dig(result, "catalogs", "catalogs") or []
        if not catalogs:
            raise SetupFailed("the portal has no product catalog (catalog.catalog.list is empty)")
        first = catalogs[0]
        self.iblock_id = int(first.get("iblockId") or first.get("id"))
        for label in STORE_LABELS:
            self.stores[label] = int(_dig(result, f"store_{label}", "store", "id"))
        self.manifest.add("stores", self.stores.values())
        for label, fixture in FIXTURE_STORES.items():
            store_id = self.config.fixtures.get(fixture)  # 0 means not provided
            if store_id:
                self.stores[label] = int(store_id)

    def close(self) -> None:
        """Delete the run's warehouses; the manifest goes when nothing is left over."""
        own = [self.stores[label] for label in STORE_LABELS if label in self.stores]
        if own:
            commands = {f"s{i}": ("catalog.store.delete", {"id": sid}) for i, sid in enumerate(own)}
            sent = self.client.batch(self.admin, commands, halt=False, phase="run")
            failed = _batch_errors(sent.reply.body)
            self.manifest.remove("stores", [sid for i, sid in enumerate(own) if f"s{i}" not in failed])
        if not any(self.manifest.data[k] for k in ("stores", "products", "documents")):
            self.manifest.discard()

    def missing_for(self, clause: Clause) -> str | None:
        """Why this sandbox cannot build the clause's precondition, or None."""
        for doc in clause.given:
            for item in doc.items:
                for label in (item.store, item.store_from, item.store_to):
                    if label in FIXTURE_STORES and label not in self.stores:
                        return f"the target config declares no fixtures.{FIXTURE_STORES[label]}"
        return None

    # -- clause level -------------------------------------------------------------------------
    def prepare(self, clause: Clause) -> World:
        world = World(clause_id=clause.id)
        if not clause.given:
            return world
        commands: dict[str, tuple[str, Mapping[str, Any]]] = {}
        products = sorted({item.product for doc in clause.given for item in doc.items})
        short = clause.id.replace(".", "-")[:40]
        for label in products:
            commands[f"p_{label}"] = ("catalog.product.add", {"fields": {
                "iblockId": self.iblock_id, "name": f"b24c {self.run_id} {short} {label}"}})
        for doc in clause.given:
            state = DocumentState(label=doc.label, type=doc.type, title=f"b24c {self.run_id} {short} {doc.label}")
            world.documents[doc.label] = state
            if doc.status in ("Y", "C") and doc.type not in INCOMING:
                self._stock_up(commands, doc)
            self._add_document(commands, f"d_{doc.label}", doc.type, state.title, doc.items)
            if doc.status in ("Y", "C"):
                for label in sorted({i.product for i in doc.items}):
                    commands[f"pre_{doc.label}_{label}"] = _balance_cmd(label)
                commands[f"conduct_{doc.label}"] = ("catalog.document.conduct", {"id": _ref(f"d_{doc.label}")})
            if doc.status == "C":
                commands[f"cancel_{doc.label}"] = ("catalog.document.cancel", {"id": _ref(f"d_{doc.label}")})
            if doc.status == "deleted":
                commands[f"delete_{doc.label}"] = ("catalog.document.delete", {"id": _ref(f"d_{doc.label}")})
        for label in products:
            commands[f"ready_{label}"] = _balance_cmd(label)
        if len(commands) > MAX_BATCH:
            raise SetupFailed(f"clause {clause.id} needs {len(commands)} set-up commands; one batch holds {MAX_BATCH}")
        body = self.client.batch(self.admin, commands, halt=True, phase="setup").reply.body
        errors = _batch_errors(body)
        results = _batch_results(body)
        # record what exists before judging the set-up, so clean-up can find it
        world.products = {label: int(_dig(results, f"p_{label}", "element", "id"))
                          for label in products if _dig(results, f"p_{label}", "element", "id")}
        self.manifest.add("products", world.products.values())
        for doc in clause.given:
            state = world.documents[doc.label]
            state.id = _as_int(_dig(results, f"d_{doc.label}", "document", "id"))
            state.stock_id = _as_int(_dig(results, f"stock_{doc.label}", "document", "id"))
            created = [i for i in (state.id, state.stock_id) if i]
            if doc.status == "deleted":
                created = [i for i in created if i != state.id]
            self.manifest.add("documents", created)
        if errors:
            key, err = next(iter(errors.items()))
            try:
                self.cleanup(world, clause)  # what was built before the refusal
            except TargetError:
                pass
            raise SetupFailed(f"set-up step {key} was refused: {err.get('error')} {err.get('error_description')}")
        for doc in clause.given:
            state = world.documents[doc.label]
            for label in sorted({i.product for i in doc.items}):
                rows = _dig(results, f"pre_{doc.label}_{label}", "storeProducts") or []
                state.pre_conduct.update(self._balances(label, rows))
        for label in products:
            world.ready.update(self._balances(label, _dig(results, f"ready_{label}", "storeProducts") or []))
        return world

    def observe(self, world: World, clause: Clause, *, then_clean_up: bool = False) -> dict[str, Any]:
        """Document statuses and balances (by product and warehouse label) after the call, in one
        batch; with `then_clean_up`, the clean-up rides in the same batch after the observations
        (halt=0), saving a request."""
        commands: dict[str, tuple[str, Mapping[str, Any]]] = {}
        for label, state in world.documents.items():
            if state.id:
                commands[f"doc_{label}"] = ("catalog.document.list", {
                    "filter": {"id": state.id}, "select": ["id", "status"]})
        for label, pid in world.products.items():
            commands[f"bal_{label}"] = ("catalog.storeproduct.list", {"filter": {"productId": pid}})
        undo = self._cleanup_commands(world) if then_clean_up else {}
        if len(commands) + len(undo) > MAX_BATCH:
            undo = {}
        if not commands and not undo:
            return {}
        body = self.client.batch(self.admin, {**commands, **undo}, halt=False, phase="observe").reply.body
        if undo:
            self._record_cleanup(world, _batch_errors(body))
        results = _batch_results(body)
        status = {}
        for label in world.documents:
            docs = _dig(results, f"doc_{label}", "documents") or []
            status[label] = docs[0].get("status") if docs else None
        now: dict[tuple[str, str], float] = {}
        for label in world.products:
            now.update(self._balances(label, _dig(results, f"bal_{label}", "storeProducts") or []))
        return {"status": status, "balances": now}

    def cleanup(self, world: World, clause: Clause) -> None:
        """Undo the clause's documents and products; errors here are reported, not fatal."""
        commands = {} if world.cleaned else self._cleanup_commands(world)
        if commands:
            sent = self.client.batch(self.admin, commands, halt=False, phase="cleanup")
            self._record_cleanup(world, _batch_errors(sent.reply.body))

    def _cleanup_commands(self, world: World) -> dict[str, tuple[str, Mapping[str, Any]]]:
        commands: dict[str, tuple[str, Mapping[str, Any]]] = {}
        docs = [s for s in world.documents.values() if s.id]
        for state in docs:  # cancel main documents before the stock-up receipts they drew on
            commands[f"c_{state.label}"] = ("catalog.document.cancel", {"id": state.id})
        for state in docs:
            if state.stock_id:
                commands[f"cs_{state.label}"] = ("catalog.document.cancel", {"id": state.stock_id})
        for state in docs:
            commands[f"x_{state.label}"] = ("catalog.document.delete", {"id": state.id})
            if state.stock_id:
                commands[f"xs_{state.label}"] = ("catalog.document.delete", {"id": state.stock_id})
        for label, pid in world.products.items():
            commands[f"xp_{label}"] = ("catalog.product.delete", {"id": pid})
        return commands

    def _record_cleanup(self, world: World, errors: Mapping[str, Any]) -> None:
        """Strike what was removed from the manifest; what failed stays there for `cleanup`."""
        docs = [s for s in world.documents.values() if s.id]
        self.manifest.remove("documents", [s.id for s in docs if f"x_{s.label}" not in errors and s.id]
                             + [s.stock_id for s in docs if f"xs_{s.label}" not in errors and s.stock_id])
        self.manifest.remove("products", [pid for label, pid in world.products.items()
                                          if f"xp_{label}" not in errors])
        world.cleaned = True

    # -- helpers --------------------------------------------------------------------------------
    def _stock_up(self, commands: dict, doc: DocumentSpec) -> None:
        items = [Item(product=i.product, amount=i.amount, store=i.store_from or i.store) for i in doc.items]
        self._add_document(commands, f"stock_{doc.label}", "S", f"b24c {self.run_id} stock for {doc.label}", items)
        commands[f"stockc_{doc.label}"] = ("catalog.document.conduct", {"id": _ref(f"stock_{doc.label}")})

    def _add_document(self, commands: dict, key: str, doc_type: str, title: str, items: Iterable[Item]) -> None:
        commands[key] = ("catalog.document.add", {"fields": {
            "docType": doc_type, "currency": "USD", "responsibleId": self.responsible_id, "title": title}})
        for n, item in enumerate(items):
            fields: dict[str, Any] = {"docId": _ref(key), "elementId": f"$result[p_{item.product}][element][id]",
                                      "amount": item.amount, "purchasingPrice": 10}
            source, dest = item_ends(doc_type, item)
            if source:
                fields["storeFrom"] = self.stores[source]
            if dest:
                fields["storeTo"] = self.stores[dest]
            commands[f"{key}_e{n}"] = ("catalog.document.element.add", {"fields": fields})

    def _balances(self, label: str, rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], float]:
        """(product label, warehouse label) -> amount, from `catalog.storeproduct.list` rows."""
        names = {sid: name for name, sid in self.stores.items()}
        return {(product, names.get(sid, f"store{sid}")): amount
                for (product, sid), amount in _balances(label, rows).items()}

    def _batch(self, commands: Mapping[str, tuple[str, Mapping[str, Any]]], *, halt: bool, what: str,
               phase: str) -> dict:
        body = self.client.batch(self.admin, commands, halt=halt, phase=phase).reply.body
        errors = _batch_errors(body)
        if errors or not isinstance(body, dict) or "result" not in body:
            detail = next(iter(errors.items()), None) if errors else str(body)[:200]
            raise SetupFailed(f"could not create the {what}: {detail}")
        return _batch_results(body)


def cleanup_manifest(client: PortalClient, admin: Credential, path: Path) -> dict[str, int]:
    """Remove what an interrupted run left, as listed in its manifest. Returns counts removed."""
    data = json.loads(path.read_text(encoding="utf-8"))
    removed = {"documents": 0, "products": 0, "stores": 0}
    plan = [("documents", "catalog.document.cancel"), ("documents", "catalog.document.delete"),
            ("products", "catalog.product.delete"), ("stores", "catalog.store.delete")]
    for kind, method in plan:
        ids = list(data.get(kind, []))
        for start in range(0, len(ids), MAX_BATCH):
            chunk = ids[start:start + MAX_BATCH]
            commands = {f"k{i}": (method, {"id": i}) for i in chunk}
            errors = _batch_errors(client.batch(admin, commands, halt=False, phase="cleanup").reply.body)
            if not method.endswith("cancel"):
                done = [i for i in chunk if f"k{i}" not in errors]
                removed[kind] += len(done)
                data[kind] = [i for i in data[kind] if i not in done]
    if any(data.get(k) for k in removed):
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    else:
        path.unlink()
    return removed


def _balance_cmd(product_label: str) -> tuple[str, Mapping[str, Any]]:
    return ("catalog.storeproduct.list", {"filter": {"productId": f"$result[p_{product_label}][element][id]"}})


def _ref(key: str) -> str:
    return f"$result[{key}][document][id]"


def _balances(label: str, rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, int], float]:
    out = {}
    for row in rows:
        try:
            out[(label, int(row["storeId"]))] = float(row.get("amount") or 0)
        except (KeyError, TypeError, ValueError):
            continue
    return out


def _batch_results(body: Any) -> dict:
    result = body.get("result") if isinstance(body, dict) else None
    inner = result.get("result") if isinstance(result, dict) else None
    return inner if isinstance(inner, dict) else {}


def _batch_errors(body: Any) -> dict:
    result = body.get("result") if isinstance(body, dict) else None
    errors = result.get("result_error") if isinstance(result, dict) else None
    if isinstance(body, dict) and "error" in body:
        return {"batch": body}
    return errors if isinstance(errors, dict) else {}


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _require(cred: Credential | None) -> Credential:
    if cred is None:
        raise TargetError("the target has no `admin` credential")
    return cred
