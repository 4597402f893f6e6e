"""The sandbox: the only things a run ever writes on a portal, and how they are removed again.

A run creates two warehouses of its own (`main`, `second`); each clause creates its own products
and documents, titled `b24c <run id> …` so that they can be told apart from everything else on the
portal. Before any batch that creates rows is sent, their titles go into the manifest
(`target/manifest.py`); the ids follow when the portal answers. So `b24-conformance cleanup` can
find every row of an interrupted run, and touch nothing else (`target/cleanup.py`).

Set-up, observation and clean-up go through `batch`, and several clauses share one: `prepare`
builds the preconditions of a whole wave of clauses in as few batches as fit (50 commands each),
and `observe` reads back statuses and balances, then cleans up, for a wave at once. A clause's
own commands never straddle two batches, because `$result[...]` references only reach within one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract.clause import INCOMING, RECEIPT, Clause, DocumentSpec, Item, item_ends
from ..errors import TargetError
from ..observation import Exchange
from .cleanup import undo_unfinished
from .client import PortalClient, batch_parts
from .config import FIXTURE_STORES, SUPPLIER_FIXTURE, Credential, TargetConfig
from .manifest import Manifest, Origin, manifest_held, title_prefix

MAX_BATCH = 50
CRM_CONTACT = 3  # catalog.documentcontractor.add's entityTypeId of a contact
STORE_LABELS = ("main", "second")
Command = tuple[str, Mapping[str, Any]]
# The target's fixtures (config.py) give the warehouses a clause may name that the run does not
# create (a run's own warehouses are new, so no store-restricted role can see them), and the CRM
# contact bound as the supplier of every receipt (A) the sandbox builds: real portals conduct no
# receipt without one, so on a target that names none no clause conducts a receipt (each is
# skipped, saying what to set).
SUPPLIER_HINT = (f"set fixtures.{SUPPLIER_FIXTURE} in the target config (or --fixture {SUPPLIER_FIXTURE}=ID) to a "
                 "CRM contact of the Vendor category, as suites/targets/example-live.yaml tells")
# The methods whose call conducts the documents it names.
CONDUCTING = frozenset({"catalog.document.conduct", "catalog.document.conductList", "catalog.document.confirm"})
# A reference to the title prefix of one clause's own documents: unique to the run and the clause,
# so a list filtered on it (`%title`) sees the clause's documents and nothing else of the portal.
MARKER = "$given.marker"
_RESULT_REF = re.compile(r"\$result\[([^\]]+)\]")


class SetupFailed(TargetError):
    """The portal refused to build a clause's precondition; the clause verdict is ERROR."""


@dataclass
class DocumentState:
    label: str
    type: str
    title: str
    id: int | None = None
    stock_id: int | None = None  # the stock-up receipt made for outflow documents
    stock_title: str = ""
    pre_conduct: dict[tuple[str, str], float] = field(default_factory=dict)  # (product, store label)


@dataclass
class World:
    """What one clause's set-up built: ids by label, balance snapshots, and the batches it rode in."""

    clause_id: str
    documents: dict[str, DocumentState] = field(default_factory=dict)
    products: dict[str, int] = field(default_factory=dict)
    product_names: dict[str, str] = field(default_factory=dict)
    ready: dict[tuple[str, str], float] = field(default_factory=dict)  # balances before the call
    cleaned: bool = False  # the clean-up already ran (inside the observation batch)
    exchanges: list[Exchange] = field(default_factory=list)  # the shared batches this clause used
    user_id: int | None = None  # the run's responsible user: `$run.user`
    read_fields: tuple[str, ...] = ()  # document fields read back besides id and status
    read_items: tuple[str, ...] = ()  # documents whose item rows are read back after the call
    marker: str = ""  # the title prefix every document of this clause's given carries (`$given.marker`)
    items: dict[str, int | None] = field(default_factory=dict)  # every given item row's id, by label
    removed_items: set[str] = field(default_factory=set)  # the labels of rows deleted again in set-up
    stores: dict[str, int] = field(default_factory=dict)  # warehouse label -> id (`$store.<label>`)

    def resolve(self, value: Any) -> Any:
        """Replace `$label.field` references with what the sandbox built."""
        if isinstance(value, str) and value.startswith("$") and "." in value:
            refs = self.references()
            if value not in refs:
                raise TargetError(f"clause {self.clause_id}: unknown reference {value}")
            return refs[value]
        if isinstance(value, Mapping):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def references(self) -> dict[str, Any]:
        """Every `$label.field` reference a clause may use, with the value the sandbox built."""
        refs: dict[str, Any] = {}
        for label, doc in self.documents.items():
            refs[f"${label}.id"] = doc.id
            refs[f"${label}.title"] = doc.title
        for label, item_id in self.items.items():
            if not label.startswith("#"):  # an unlabelled row (`#<doc>.<n>`) has no reference of its own
                refs[f"${label}.id"] = item_id
        refs.update({f"$product.{label}": pid for label, pid in self.products.items()})
        refs.update({f"$store.{label}": sid for label, sid in self.stores.items()})
        refs["$given.ids"] = [d.id for d in self.documents.values() if d.id is not None]
        refs["$given.items"] = [i for label, i in self.items.items() if i is not None and label not in self.removed_items]
        if self.user_id is not None:
            refs["$run.user"] = self.user_id
        if self.marker:
            refs[MARKER] = self.marker
        return refs


@dataclass
class Plan:
    """One clause's set-up, as batch commands whose keys all start with `key`."""

    clause: Clause
    world: World
    key: str
    commands: dict[str, Command] = field(default_factory=dict)

    def k(self, name: str) -> str:
        return f"{self.key}{name}"


class Sandbox:
    def __init__(self, client: PortalClient, config: TargetConfig, run_id: str, manifest_dir: Path) -> None:
        self.client = client
        self.config = config
        self.run_id = run_id
        self.prefix = title_prefix(run_id)
        self.admin = _require(config.credential("admin"))
        # a replay's rows exist nowhere: its manifest stays in memory
        self.manifest = Manifest(manifest_dir, run_id, Origin.of(self.admin), durable=config.kind != "cassette")
        self.stores: dict[str, int] = {}
        self.iblock_id: int | None = None
        self.responsible_id = self.admin.user_id or 1
        self.supplier_id = int(config.fixtures.get(SUPPLIER_FIXTURE) or 0) or None  # 0 means not provided

    # -- run level ----------------------------------------------------------------------------
    def open(self) -> None:
        """Find the product catalog and create the run's two warehouses."""
        commands: dict[str, Command] = {"catalogs": ("catalog.catalog.list", {})}
        titles = {label: f"{self.prefix}{label}" for label in STORE_LABELS}
        for label in STORE_LABELS:
            commands[f"store_{label}"] = ("catalog.store.add", {"fields": {
                "title": titles[label], "address": "b24-conformance sandbox",
                "active": "Y", "code": f"b24c_{self.run_id}_{label}"}})
        self.manifest.intend("stores", titles.values())
        body = self.client.batch(self.admin, commands, halt=True, phase="run").reply.body
        results, errors = batch_parts(body)
        made = {label: _as_int(_dig(results, f"store_{label}", "store", "id")) for label in STORE_LABELS}
        self.stores.update({label: sid for label, sid in made.items() if sid})
        self.manifest.add("stores", self.stores.values(), titles=[titles[label] for label in self.stores])
        if errors:
            key, err = next(iter(errors.items()))
            raise SetupFailed(f"could not create the sandbox warehouses: {key}: {err.get('error')} "
                              f"{err.get('error_description')}")
        if len(self.stores) < len(STORE_LABELS):
            raise SetupFailed(f"could not create the sandbox warehouses: the portal answered {str(body)[:200]}")
        catalogs = _dig(results, "catalogs", "catalogs") or []
        if not catalogs:
            raise SetupFailed("the portal has no product catalog (catalog.catalog.list is empty)")
        first = catalogs[0]
        self.iblock_id = int(first.get("iblockId") or first.get("id"))
        self.manifest.set_catalog(self.iblock_id)
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
            results, _ = batch_parts(sent.reply.body)
            self.manifest.remove("stores", [sid for i, sid in enumerate(own) if results.get(f"s{i}") is True])
        if self.manifest.empty:
            self.manifest.discard()

    def missing_for(self, clause: Clause) -> str | None:
        """Why this sandbox cannot build the clause's precondition, or None."""
        named = {label for doc in clause.given for item in doc.items
                 for label in (item.store, item.store_from, item.store_to)}
        named |= set(re.findall(r"\$store\.([a-z]+)", repr((clause.when.params, clause.when.batch))))
        for label in sorted(named & set(FIXTURE_STORES)):
            if label not in self.stores:
                return f"the target config declares no fixtures.{FIXTURE_STORES[label]}"
        if self.supplier_id is None and any(d.type == RECEIPT and not d.supplier for d in clause.given):
            return (f"the target config declares no fixtures.{SUPPLIER_FIXTURE}, so the run cannot tell that "
                    "the portal requires a supplier on receipts")
        if self.supplier_id is None and _conducts_receipt(clause):
            return (f"a receipt (A) is conducted here, which real portals refuse without a supplier (\"Supplier not "
                    f"specified\"), and the target names none: {SUPPLIER_HINT}")
        return None

    # -- set-up -------------------------------------------------------------------------------
    def plan(self, clause: Clause, key: str = "") -> Plan:
        """The batch commands that build the clause's documents (no request is sent)."""
        plan = Plan(clause=clause, world=World(clause_id=clause.id, user_id=self.responsible_id,
                                               stores=dict(self.stores)), key=key)
        world, commands = plan.world, plan.commands
        products = sorted({item.product for doc in clause.given for item in doc.items} | set(clause.products))
        short = clause.id.replace(".", "-")[:40]
        world.marker = f"{self.prefix}{short} "
        for label in products:
            world.product_names[label] = f"{self.prefix}{short} {label}"
            commands[plan.k(f"p_{label}")] = ("catalog.product.add", {"fields": {
                "iblockId": self.iblock_id, "name": world.product_names[label]}})
        for doc in clause.given:
            state = DocumentState(label=doc.label, type=doc.type, title=f"{self.prefix}{short} {doc.label}")
            world.documents[doc.label] = state
            if doc.status in ("Y", "C") and doc.type not in INCOMING:
                state.stock_title = f"{self.prefix}{short} stock for {doc.label}"
                self._stock_up(plan, doc, state.stock_title)
            self._add_document(plan, f"d_{doc.label}", doc.type, state.title, doc.items, supplier=doc.supplier)
            if doc.status in ("Y", "C"):
                for label in sorted({i.product for i in doc.items}):
                    commands[plan.k(f"pre_{doc.label}_{label}")] = self._balance_cmd(plan, label)
                commands[plan.k(f"conduct_{doc.label}")] = ("catalog.document.conduct",
                                                            {"id": _ref(plan.k(f"d_{doc.label}"))})
            if doc.status == "C":
                commands[plan.k(f"cancel_{doc.label}")] = ("catalog.document.cancel",
                                                           {"id": _ref(plan.k(f"d_{doc.label}"))})
            if doc.status == "deleted":
                commands[plan.k(f"delete_{doc.label}")] = ("catalog.document.delete",
                                                           {"id": _ref(plan.k(f"d_{doc.label}"))})
        for label in products:
            commands[plan.k(f"ready_{label}")] = self._balance_cmd(plan, label)
        return plan

    def prepare(self, clauses: Sequence[Clause]) -> dict[str, World | SetupFailed]:
        """Build the clauses' documents, several clauses to a batch; a World per clause, or why not.

        A fault of the portal while a batch is in flight (a timeout, a 5xx) raises TargetError for
        the whole wave: the manifest already holds the titles of what that batch may have made.
        """
        keyed = len(clauses) > 1
        plans = [self.plan(c, f"c{n}_" if keyed else "") for n, c in enumerate(clauses)]
        out: dict[str, World | SetupFailed] = {}
        for group in pack([p.commands for p in plans], MAX_BATCH):
            chosen = [plans[i] for i in group]
            for plan in chosen:
                if len(plan.commands) > MAX_BATCH and chunks(plan.commands, MAX_BATCH) is None:
                    out[plan.clause.id] = SetupFailed(f"clause {plan.clause.id} needs {len(plan.commands)} "
                                                      f"set-up commands; one batch holds {MAX_BATCH}")
            chosen = [p for p in chosen if p.clause.id not in out]
            if chosen:
                out.update(self._prepare_batch(chosen))
        return out

    @manifest_held
    def _prepare_batch(self, plans: list[Plan]) -> dict[str, World | SetupFailed]:
        for plan in plans:
            self.manifest.intend("products", plan.world.product_names.values())
            self.manifest.intend("documents", [t for s in plan.world.documents.values()
                                               for t in (s.title, s.stock_title) if t])
        commands = {k: v for plan in plans for k, v in plan.commands.items()}
        exchanges, results, errors = self._send_chunks(commands, "setup")
        out: dict[str, World | SetupFailed] = {}
        for plan in plans:
            plan.world.exchanges.extend(exchanges)
            self._record(plan, results)
            failed = next(((key, err) for key, err in errors.items()
                           if key in plan.commands or key == "batch"), None)
            if failed:
                key, err = failed
                try:
                    self.cleanup(plan.world)  # what was built before the refusal
                except TargetError:
                    pass
                short = key.removeprefix(plan.key)
                out[plan.clause.id] = SetupFailed(
                    f"set-up step {short} was refused: {err.get('error')} {err.get('error_description')}"
                    + self._supplier_hint(short))
                continue
            self._snapshots(plan, results)
            out[plan.clause.id] = plan.world
        return out

    def _record(self, plan: Plan, results: Mapping[str, Any]) -> None:
        """Write what exists to the manifest before anything judges the set-up, so clean-up finds it."""
        world, k = plan.world, plan.k
        world.products = {label: pid for label in world.product_names
                          if (pid := _as_int(_dig(results, k(f"p_{label}"), "element", "id")))}
        self.manifest.add("products", world.products.values(), titles=world.product_names.values())
        for doc in plan.clause.given:
            state = world.documents[doc.label]
            state.id = _as_int(_dig(results, k(f"d_{doc.label}"), "document", "id"))
            state.stock_id = _as_int(_dig(results, k(f"stock_{doc.label}"), "document", "id"))
            for n, item in enumerate(doc.items):
                label = item.label or f"#{doc.label}.{n}"
                world.items[label] = _as_int(_dig(results, k(f"d_{doc.label}_e{n}"), "documentElement", "id"))
                if item.removed:
                    world.removed_items.add(label)
            created = [i for i in (state.id, state.stock_id) if i]
            if doc.status == "deleted" and _dig(results, k(f"delete_{doc.label}")) is True:
                created = [i for i in created if i != state.id]
            self.manifest.add("documents", created, titles=[t for t in (state.title, state.stock_title) if t])

    def _snapshots(self, plan: Plan, results: Mapping[str, Any]) -> None:
        world, k = plan.world, plan.k
        for doc in plan.clause.given:
            state = world.documents[doc.label]
            for label in sorted({i.product for i in doc.items}):
                rows = _dig(results, k(f"pre_{doc.label}_{label}"), "storeProducts") or []
                state.pre_conduct.update(self._balances(label, rows))
        for label in world.product_names:
            world.ready.update(self._balances(label, _dig(results, k(f"ready_{label}"), "storeProducts") or []))

    def undo_unfinished(self) -> None:
        """After a set-up batch got no answer: remove whatever this run's documents and products
        exist (found by title; no clause's world is alive between waves), so that it can be resent."""
        report = undo_unfinished(self.client, self.admin, self.run_id, self.iblock_id)
        for kind in ("documents", "products"):
            self.manifest.remove(kind, report.removed[kind])
            self.manifest.settle(kind, list(self.manifest.data["pending"][kind]))
        if report.left:
            kind, what, why = report.left[0]
            raise SetupFailed(f"could not undo an unanswered set-up: {kind[:-1]} {what}: {why}")

    # -- observation and clean-up -------------------------------------------------------------
    def observe(self, worlds: Sequence[tuple[World, bool]]) -> dict[str, dict[str, Any]]:
        """For each (world, wanted): with `wanted`, the documents' statuses and the balances (by
        product and warehouse label) after the call; then every world's clean-up. Observations
        ride before clean-ups in shared batches (halt=0), so a wave costs as few requests as fit."""
        parts = []
        for n, (world, wanted) in enumerate(worlds):
            key = f"c{n}_" if len(worlds) > 1 else ""
            looks = self._observe_commands(world, key) if wanted else {}
            undo = {} if world.cleaned else self._cleanup_commands(world, key)
            parts.append((world, wanted, key, looks, undo))
        seen: dict[str, dict[str, Any]] = {}
        for group in pack([{**looks, **undo} for _, _, _, looks, undo in parts], MAX_BATCH):
            chosen = [parts[i] for i in group]
            oversized = [p for p in chosen if len(p[3]) + len(p[4]) > MAX_BATCH]
            for world, wanted, key, looks, undo in oversized:  # alone: observe first, clean up after
                seen[world.clause_id] = self._observe_batch([(world, wanted, key, looks, {})])[world.clause_id]
                self.cleanup(world)
            rest = [p for p in chosen if p not in oversized]
            if rest:
                seen.update(self._observe_batch(rest))
        return seen

    @manifest_held
    def _observe_batch(self, parts: list) -> dict[str, dict[str, Any]]:
        commands = {k: v for _, _, _, looks, undo in parts for k, v in {**looks, **undo}.items()}
        if not commands:
            return {world.clause_id: {} for world, *_ in parts}
        exchanges, results, errors = self._send_chunks(commands, "observe")
        seen = {}
        for world, wanted, key, looks, undo in parts:
            world.exchanges.extend(exchanges)
            if undo:
                self._record_cleanup(world, key, results, errors)
            seen[world.clause_id] = self._read(world, key, results) if wanted else {}
            self._forget_vanished(world, seen[world.clause_id].get("documents", {}))
        return seen

    def _observe_commands(self, world: World, key: str) -> dict[str, Command]:
        commands: dict[str, Command] = {}
        for label, state in world.documents.items():
            if state.id:
                commands[f"{key}doc_{label}"] = ("catalog.document.list", {
                    "filter": {"id": state.id}, "select": ["id", "status", *world.read_fields]})
        for label in world.read_items:
            state = world.documents.get(label)
            if state is not None and state.id:
                commands[f"{key}items_{label}"] = ("catalog.document.element.list", {
                    "filter": {"docId": state.id}, "order": {"id": "asc"}})
        for label, pid in world.products.items():
            commands[f"{key}bal_{label}"] = ("catalog.storeproduct.list", {"filter": {"productId": pid}})
        return commands

    def _read(self, world: World, key: str, results: Mapping[str, Any]) -> dict[str, Any]:
        status = {}
        for label in world.documents:
            docs = _dig(results, f"{key}doc_{label}", "documents") or []
            status[label] = docs[0].get("status") if docs else None
        now: dict[tuple[str, str], float] = {}
        for label in world.products:
            now.update(self._balances(label, _dig(results, f"{key}bal_{label}", "storeProducts") or []))
        return {"status": status, "balances": now, "documents": _rows(world, key, results),
                "items": _item_rows(world, key, results)}

    def cleanup(self, world: World) -> None:
        """Undo the clause's documents and products; errors here are reported, not fatal."""
        commands = {} if world.cleaned else self._cleanup_commands(world, "")
        if commands:
            exchanges, results, errors = self._send_chunks(commands, "cleanup")
            world.exchanges.extend(exchanges)
            self._record_cleanup(world, "", results, errors)

    def _send_chunks(self, commands: Mapping[str, Command], phase: str) -> tuple[list[Exchange], dict, dict]:
        """`commands` as one batch, or, when more than one batch holds, as consecutive batches cut
        where no `$result[...]` reference crosses (a series of documents, or its clean-up); the
        exchanges, and the results and errors of all of them. A refused batch is an error `batch`."""
        exchanges: list[Exchange] = []
        results: dict = {}
        errors: dict = {}
        self.manifest.flush()  # a held manifest is written before any request goes out
        for part in chunks(commands, MAX_BATCH) or [commands]:
            part = {key: (method, _answered(params, results)) for key, (method, params) in part.items()}
            sent = self.client.batch(self.admin, part, halt=False, phase=phase)
            exchanges.append(sent.exchange)
            got, failed = batch_parts(sent.reply.body)
            results.update(got)
            errors.update(failed)
            if isinstance(sent.reply.body, dict) and "error" in sent.reply.body:
                errors["batch"] = sent.reply.body
        return exchanges, results, errors

    def _cleanup_commands(self, world: World, key: str) -> dict[str, Command]:
        commands: dict[str, Command] = {}
        docs = [s for s in world.documents.values() if s.id]
        for state in docs:  # cancel main documents before the stock-up receipts they drew on
            commands[f"{key}c_{state.label}"] = ("catalog.document.cancel", {"id": state.id})
        for state in docs:
            if state.stock_id:
                commands[f"{key}cs_{state.label}"] = ("catalog.document.cancel", {"id": state.stock_id})
        for state in docs:
            commands[f"{key}x_{state.label}"] = ("catalog.document.delete", {"id": state.id})
            if state.stock_id:
                commands[f"{key}xs_{state.label}"] = ("catalog.document.delete", {"id": state.stock_id})
        for label, pid in world.products.items():
            commands[f"{key}xp_{label}"] = ("catalog.product.delete", {"id": pid})
        return commands

    def _record_cleanup(self, world: World, key: str, results: Mapping[str, Any], errors: Mapping[str, Any]) -> None:
        """Strike what was removed from the manifest; what failed stays there for `cleanup`."""
        def gone(name: str) -> bool:
            return f"{key}{name}" not in errors and f"{key}{name}" in results

        docs = [s for s in world.documents.values() if s.id]
        self.manifest.remove("documents", [s.id for s in docs if s.id and gone(f"x_{s.label}")]
                             + [s.stock_id for s in docs if s.stock_id and gone(f"xs_{s.label}")])
        self.manifest.remove("products", [pid for label, pid in world.products.items() if gone(f"xp_{label}")])
        world.cleaned = True

    # -- documents the clause's own call creates -----------------------------------------------
    def expect_created(self, world: World, clause: Clause) -> None:
        """Before a call that creates a document: its title (`$label.title`) goes into the manifest,
        so that an unanswered call still leaves a way to find and remove what it made."""
        label = clause.when.creates
        short = clause.id.replace(".", "-")[:40]
        state = DocumentState(label=label, type="", title=f"{self.prefix}{short} {label}")
        world.documents[label] = state
        world.user_id = self.responsible_id
        world.read_fields = tuple(sorted({f for fields in clause.then.after_fields.values() for f in fields}))
        self.manifest.intend("documents", [state.title])

    def record_created(self, world: World, clause: Clause, bodies: Iterable[Any]) -> None:
        """After the call: the created document's id (result.document.id) into the manifest, or the
        title settled when the portal answered and created nothing."""
        state = world.documents[clause.when.creates]
        for body in bodies:
            state.id = state.id or _as_int(_dig(body, "result", "document", "id"))
        if state.id:
            self.manifest.add("documents", [state.id], titles=[state.title])
        else:
            self.manifest.settle("documents", [state.title])

    def _forget_vanished(self, world: World, rows: Mapping[str, Any]) -> None:
        """A document read back as not found (the clause's call deleted it) is no longer the run's to remove."""
        gone = [s.id for label, s in world.documents.items() if s.id and label in rows and rows[label] is None]
        if gone:
            self.manifest.remove("documents", gone)

    # -- helpers --------------------------------------------------------------------------------
    def _stock_up(self, plan: Plan, doc: DocumentSpec, title: str) -> None:
        items = [Item(product=i.product, amount=i.amount, store=i.store_from or i.store) for i in doc.live_items]
        self._add_document(plan, f"stock_{doc.label}", "S", title, items)
        plan.commands[plan.k(f"stockc_{doc.label}")] = ("catalog.document.conduct",
                                                        {"id": _ref(plan.k(f"stock_{doc.label}"))})

    def _add_document(self, plan: Plan, name: str, doc_type: str, title: str, items: Iterable[Item],
                      *, supplier: bool = True) -> None:
        key = plan.k(name)
        plan.commands[key] = ("catalog.document.add", {"fields": {
            "docType": doc_type, "currency": "USD", "responsibleId": self.responsible_id, "title": title}})
        if doc_type == RECEIPT and supplier and self.supplier_id:
            plan.commands[f"{key}_supplier"] = ("catalog.documentcontractor.add", {"fields": {
                "documentId": _ref(key), "entityTypeId": CRM_CONTACT, "entityId": self.supplier_id}})
        for n, item in enumerate(items):
            fields: dict[str, Any] = {"docId": _ref(key), "elementId": f"$result[{plan.k('p_' + item.product)}][element][id]",
                                      "amount": item.amount,
                                      "purchasingPrice": 10 if item.price is None else item.price}
            source, dest = item_ends(doc_type, item)
            if source:
                fields["storeFrom"] = self.stores[source]
            if dest:
                fields["storeTo"] = self.stores[dest]
            plan.commands[f"{key}_e{n}"] = ("catalog.document.element.add", {"fields": fields})
            if item.removed:  # gone again before anything else happens to the document
                plan.commands[f"{key}_x{n}"] = ("catalog.document.element.delete",
                                                {"id": f"$result[{key}_e{n}][documentElement][id]"})

    def _supplier_hint(self, step: str) -> str:
        """What to do when the portal refused to bind the target's supplier to a receipt."""
        if step.endswith("_supplier"):
            return f" (the supplier fixtures.{SUPPLIER_FIXTURE}={self.supplier_id} was refused: {SUPPLIER_HINT})"
        return ""

    def _balance_cmd(self, plan: Plan, product_label: str) -> Command:
        return ("catalog.storeproduct.list",
                {"filter": {"productId": f"$result[{plan.k('p_' + product_label)}][element][id]"}})

    def _balances(self, label: str, rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], float]:
        """(product label, warehouse label) -> amount, from `catalog.storeproduct.list` rows."""
        names = {sid: name for name, sid in self.stores.items()}
        out = {}
        for row in rows:
            try:
                out[(label, names.get(int(row["storeId"]), f"store{row['storeId']}"))] = float(row.get("amount") or 0)
            except (KeyError, TypeError, ValueError):
                continue
        return out


def _conducts_receipt(clause: Clause) -> bool:
    """A receipt of the clause's that carries a supplier is conducted: by its set-up (status Y or C),
    or by the clause's own call."""
    calls_conduct = clause.method in CONDUCTING or any(c.method in CONDUCTING for c in clause.when.batch)
    return any(d.type == RECEIPT and d.supplier and (d.status in ("Y", "C") or (d.status == "N" and calls_conduct))
               for d in clause.given)


def pack(groups: Sequence[Sized], limit: int) -> list[list[int]]:
    """Consecutive groups of commands, packed into batches of at most `limit` commands, in order;
    a group larger than `limit` gets a batch of its own."""
    batches: list[list[int]] = []
    size = 0
    for n, group in enumerate(groups):
        if not batches or size + len(group) > limit:
            batches.append([])
            size = 0
        batches[-1].append(n)
        size += len(group)
    return [b for b in batches if b]


def _item_rows(world: World, key: str, results: Mapping[str, Any]) -> dict[str, Any]:
    """Each read document's item rows as listed after the call; a document whose list command got
    no answer is left out (not read)."""
    rows: dict[str, Any] = {}
    for label in world.read_items:
        answer = results.get(f"{key}items_{label}")
        if isinstance(answer, dict) and isinstance(answer.get("documentElements"), list):
            rows[label] = tuple(r for r in answer["documentElements"] if isinstance(r, dict))
    return rows


def _rows(world: World, key: str, results: Mapping[str, Any]) -> dict[str, Any]:
    """Each document's row as read back: None when the list answered without it; a document whose
    list command got no answer is left out (not read)."""
    rows: dict[str, Any] = {}
    for label in world.documents:
        answer = results.get(f"{key}doc_{label}")
        if isinstance(answer, dict) and isinstance(answer.get("documents"), list):
            docs = answer["documents"]
            rows[label] = docs[0] if docs and isinstance(docs[0], dict) else None
    return rows
def chunks(commands: Mapping[str, Command], limit: int) -> list[dict[str, Command]] | None:
    """`commands` cut in order into batches of at most `limit`, or None when a command refers
    (`$result[key]`) to one that comes after it. A reference into an earlier batch is filled in with
    that batch's answer before it is sent (`_answered`): a batch only resolves its own keys."""
    parts: list[dict[str, Command]] = []
    seen: set[str] = set()
    for key, command in commands.items():
        if not parts or len(parts[-1]) >= limit:
            parts.append({})
        if any(name in commands and name not in seen for name in _RESULT_REF.findall(repr(command[1]))):
            return None
        parts[-1][key] = command
        seen.add(key)
    return parts


_WHOLE_REF = re.compile(r"\$result\[([^\]]+)\]((?:\[[^\]]+\])*)")


def _answered(params: Any, results: Mapping[str, Any]) -> Any:
    """`params` with each `$result[key][a][b]` whose key an earlier batch answered replaced by that
    answer's value; a reference to a command that failed stays as it is (the portal refuses it)."""
    if isinstance(params, str):
        found = _WHOLE_REF.fullmatch(params)
        if found and found.group(1) in results:
            value = _dig(results, found.group(1), *re.findall(r"\[([^\]]+)\]", found.group(2)))
            return params if value is None else value
        return params
    if isinstance(params, Mapping):
        return {k: _answered(v, results) for k, v in params.items()}
    if isinstance(params, list):
        return [_answered(v, results) for v in params]
    return params


def _ref(key: str) -> str:
    return f"$result[{key}][document][id]"


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
