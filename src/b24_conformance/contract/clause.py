"""Clauses: one documented obligation each, loaded from suites/clauses/*.yaml.

A clause file is checked against schemas/meta/clause-file.schema.json before anything reads it,
so the dataclasses below can trust their input. A clause says what state it needs (`given`),
what request to send (`when`) and what must be observed (`then`); expected strings are message
keys resolved per profile at grading time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .. import _cache, _yaml, paths
from ..errors import ClauseFileInvalid
from ..verdict import Citation

LIMIT_CODES = {"system.query-limit": "QUERY_LIMIT_EXCEEDED", "system.operation-time-limit": "OPERATION_TIME_LIMIT"}
RATE_LIMIT_KEYS = frozenset(LIMIT_CODES)
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>"})()


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """An item row of a document: given (built by the sandbox), or expected after the call
    (`then.after.items`, where `price` is checked only when set)."""

    product: str
    amount: float
    store: str | None = None
    store_from: str | None = None
    store_to: str | None = None
    price: float | None = None
    label: str = ""  # a given row's name: `$label.id` is its id
    removed: bool = False  # a given row deleted again in set-up (its id names no item any more)


INCOMING = frozenset("AS")  # receipts and adjustments only put stock in
CLAUSE_STORES = ("main", "second", "restricted", "visible")  # the warehouses a clause may name
REFERENCE = re.compile(r'"(\$[A-Za-z_][\w]*\.[\w]+)"')  # a whole JSON string that is a `$label.field` reference
RECEIPT = "A"  # the type a supplier is bound to (catalog.documentcontractor.*)


def item_ends(doc_type: str, item: Item) -> tuple[str | None, str | None]:
    """(the warehouse an item takes stock from, the one it puts stock into), by document type:
    A and S only put in, R and D only take out, M does both."""
    if doc_type in INCOMING:
        return None, item.store_to or item.store
    return item.store_from or item.store, item.store_to if doc_type == "M" else None


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentSpec:
    label: str
    type: str  # A S M R D
    status: str  # N Y C deleted
    items: tuple[Item, ...] = ()
    supplier: bool = True  # a receipt (A): the sandbox binds the target's supplier; false: none

    @property
    def live_items(self) -> tuple[Item, ...]:
        """The rows the document still has when set up (without those removed again)."""
        return tuple(i for i in self.items if not i.removed)

    def movement(self) -> dict[tuple[str, str], float]:
        """What conducting this document adds to each (product label, warehouse label) balance."""
        delta: dict[tuple[str, str], float] = {}
        for item in self.live_items:
            for store, sign in zip(item_ends(self.type, item), (-1.0, 1.0)):
                if store:
                    key = (item.product, store)
                    delta[key] = delta.get(key, 0.0) + sign * item.amount
        return delta


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchCommand:
    key: str
    method: str
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class When:
    method: str
    role: str = "admin"
    transport: str = "json"
    params: Mapping[str, Any] = field(default_factory=dict)
    batch: tuple[BatchCommand, ...] = ()
    halt: bool = False
    concurrent: int = 1
    burst: int = 0
    drained: bool = False  # the request bucket is overflowed just before the request
    creates: str = ""  # the label of the document the call creates (recorded and cleaned up by the sandbox)
    walk: bool = False  # a list method: follow each reply's `next` into `start` until none is given


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRef:
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Expect:
    """What one response must be. Unset fields are not checked."""

    http: int | None = None
    result: Any = MISSING
    schema: str | None = None
    message: MessageRef | None = None

    def checked_keys(self) -> tuple[str, ...]:
        """The `then` keys this expectation sets (the status counts as set when a message implies it)."""
        return tuple(k for k, on in (("http", self.http is not None or self.message is not None),
                                     ("message", self.message is not None), ("result", self.result is not MISSING),
                                     ("schema", self.schema is not None)) if on)


@dataclass(frozen=True, slots=True, kw_only=True)
class Then:
    expect: Expect
    responses: tuple[Expect, ...] = ()  # concurrency clauses: one per response, any order
    batch_result: Mapping[str, Any] = field(default_factory=dict)
    batch_errors: Mapping[str, MessageRef] = field(default_factory=dict)
    batch_absent: tuple[str, ...] = ()
    after_status: Mapping[str, str] = field(default_factory=dict)
    after_balances: Mapping[str, str] = field(default_factory=dict)  # document label -> mode
    after_fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # label -> field -> value
    after_exists: Mapping[str, bool] = field(default_factory=dict)  # label -> still found
    after_items: Mapping[str, tuple[Item, ...]] = field(default_factory=dict)  # label -> its rows after
    result_at: Mapping[str, Any] = field(default_factory=dict)  # dot path inside `result` -> value

    @property
    def reads_after(self) -> bool:
        """The clause asks about the documents after the call (so they are read back)."""
        return bool(self.after_status or self.after_balances or self.after_fields or self.after_exists
                    or self.after_items)
    pages: Mapping[str, Any] = field(default_factory=dict)  # a list method's pages (meta-schema $defs/pages)

    def checked_keys(self) -> tuple[str, ...]:
        """The `then` keys of the clause file this clause sets, as grading's check table names them."""
        keys = () if self.responses else self.expect.checked_keys()
        return keys + tuple(k for k, on in (
            ("responses", bool(self.responses)),
            ("batch", bool(self.batch_result or self.batch_errors or self.batch_absent)),
            ("after.status", bool(self.after_status)), ("after.balances", bool(self.after_balances)),
            ("after.fields", bool(self.after_fields)), ("after.exists", bool(self.after_exists)),
            ("after.items", bool(self.after_items)),
            ("result_at", bool(self.result_at)), ("pages", bool(self.pages))) if on)


@dataclass(frozen=True, slots=True, kw_only=True)
class Clause:
    id: str
    level: str
    title: str
    citation: Citation
    method: str  # the method under test
    given: tuple[DocumentSpec, ...]
    when: When
    then: Then
    live: str = "safe"  # "opt-in": only with --allow-burst against a live portal
    covers: tuple[str, ...] = ()  # causes of its page's error table, verbatim (lint's coverage map)
    file: str = ""
    file_method: str = ""  # the method of its clause file (a batch or alias clause calls another one)
    products: tuple[str, ...] = ()  # products created besides those the items name (`$product.<label>`)

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods it belongs to, for selection: its file's, and the one it calls if another."""
        return tuple(dict.fromkeys(m for m in (self.file_method, self.method) if m))

    def reference_names(self) -> frozenset[str]:
        """Every `$…` reference the sandbox gives this clause (target/sandbox.py `World.references`)."""
        names = {f"$store.{label}" for label in CLAUSE_STORES}
        if self.given:
            names |= {"$given.ids", "$given.items", "$given.marker", "$run.user"}
            names |= {f"$product.{p}" for p in {i.product for d in self.given for i in d.items} | set(self.products)}
            for doc in self.given:
                names |= {f"${doc.label}.id", f"${doc.label}.title"}
                names |= {f"${item.label}.id" for item in doc.items if item.label}
        if self.when.creates:
            names |= {f"${self.when.creates}.id", f"${self.when.creates}.title", "$run.user"}
        return frozenset(names)

    def references_used(self) -> set[str]:
        """The `$…` references the clause's request and expectations name."""
        then = self.then
        values = (self.when.params, [c.params for c in self.when.batch], then.result_at, then.after_fields,
                  then.pages.get("ids"), [dict(m.params) for m in (then.expect.message, *(r.message for r in then.responses),
                                                             *then.batch_errors.values()) if m])
        return set(REFERENCE.findall(json.dumps(values, default=str)))

    def document(self, label: str) -> DocumentSpec:
        return next(d for d in self.given if d.label == label)

    @property
    def expects_rate_limit(self) -> bool:
        """The clause asks for a rate-limit refusal (its request must not be retried past it)."""
        return bool(self.message_keys() & RATE_LIMIT_KEYS)

    @property
    def about_rate_limits(self) -> bool:
        """A limit refusal is part of what the clause judges, not a fault around it."""
        return self.expects_rate_limit or self.when.drained

    @property
    def judged_limit_codes(self) -> frozenset[str]:
        """The limit refusals (error codes) this clause judges; any other refusal ran nothing and
        says nothing about the clause."""
        codes = {LIMIT_CODES[k] for k in self.message_keys() if k in LIMIT_CODES}
        if self.when.drained:
            codes.add("QUERY_LIMIT_EXCEEDED")
        return frozenset(codes)

    def message_keys(self) -> set[str]:
        keys = {m.key for m in self.then.batch_errors.values()}
        for exp in (self.then.expect, *self.then.responses):
            if exp.message:
                keys.add(exp.message.key)
        return keys


@dataclass(frozen=True, slots=True, kw_only=True)
class ClauseFile:
    path: Path
    method: str
    source: Mapping[str, str]
    clauses: tuple[Clause, ...]


@lru_cache(maxsize=1)
def _meta_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((paths.schemas_dir() / "meta" / "clause-file.schema.json").read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def load_clause_file(path: Path) -> ClauseFile:
    """Parse and validate one clause file; a bad file raises ClauseFileInvalid naming the spot.
    A file whose text passed before, under the same meta-schema and libraries, is not parsed
    and validated again (`_yaml.load_file`)."""
    def check(raw: Any) -> None:
        errors = sorted(_meta_validator().iter_errors(raw), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            pointer = "/" + "/".join(str(p) for p in first.absolute_path)
            raise ClauseFileInvalid(str(path), pointer, first.message[:300],
                                    hint=f"{len(errors)} schema error(s); see schemas/meta/clause-file.schema.json")

    # the check depends on the meta-schema and the validator's code besides the file's text
    salt = _cache.salt(files=[paths.schemas_dir() / "meta" / "clause-file.schema.json"],
                       packages=("jsonschema", "referencing", "rpds"))
    try:
        raw = _yaml.load_file(path, check=check, check_salt=salt)
    except (OSError, UnicodeDecodeError) as exc:
        raise ClauseFileInvalid(str(path), "", f"cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise ClauseFileInvalid(str(path), "", f"not valid YAML: {exc}") from None
    source = raw["source"]
    clauses = tuple(_clause(c, raw["method"], source, path) for c in raw["clauses"])
    return ClauseFile(path=path, method=raw["method"], source=source, clauses=clauses)


def load_clauses(directory: Path | None = None) -> list[Clause]:
    """Every clause of every file under suites/clauses, in file order."""
    directory = directory or paths.clauses_dir()
    clauses: list[Clause] = []
    for path in sorted(directory.glob("*.yaml")):
        clauses.extend(load_clause_file(path).clauses)
    return clauses


def _clause(raw: Mapping[str, Any], method: str, source: Mapping[str, str], path: Path) -> Clause:
    cite = raw["cite"]
    cite = {"quote": cite} if isinstance(cite, str) else dict(cite)
    citation = Citation(
        repo=cite.get("repo", source["repo"]),
        page=cite.get("page", source["page"]),
        revision=cite.get("revision", source["revision"]),
        quote=cite["quote"],
    )
    when_raw = raw["when"]
    when_method = when_raw.get("method", method)
    batch_raw = when_raw.get("batch") or {}
    commands = tuple(
        BatchCommand(key=key, method=cmd["method"], params=cmd.get("params", {}))
        for key, cmd in (batch_raw.get("cmd") or {}).items()
    )
    if batch_raw.get("repeat") and commands:
        first = commands[0]
        commands = tuple(BatchCommand(key=f"{first.key}{i}", method=first.method, params=first.params)
                         for i in range(batch_raw["repeat"]))
    when = When(
        method=when_method,
        role=when_raw.get("as", "admin"),
        transport=when_raw.get("transport", "json"),
        params=when_raw.get("params", {}),
        batch=commands,
        halt=bool(batch_raw.get("halt", False)),
        concurrent=when_raw.get("concurrent", 1),
        burst=when_raw.get("burst", 0),
        drained=bool(when_raw.get("drained", False)),
        creates=when_raw.get("creates", ""),
        walk=bool(when_raw.get("walk", False)),
    )
    then_raw = raw["then"]
    batch_then = then_raw.get("batch") or {}
    after = then_raw.get("after") or {}
    documents = tuple(doc for label, spec in ((raw.get("given") or {}).get("documents") or {}).items()
                      for doc in _series(label, spec))
    balances = after.get("balances")
    if isinstance(balances, str):
        balances = {d.label: balances for d in documents if d.status != "deleted"}
    then = Then(
        expect=_expect(then_raw),
        responses=tuple(_expect(r) for r in then_raw.get("responses", ())),
        batch_result=batch_then.get("result", {}),
        batch_errors={k: _message(v) for k, v in (batch_then.get("result_error") or {}).items()},
        batch_absent=tuple(batch_then.get("absent", ())),
        after_status=after.get("status", {}),
        after_balances=balances or {},
        after_fields=after.get("fields", {}),
        after_exists=after.get("exists", {}),
        after_items={label: tuple(_row(_item(i), documents, label) for i in rows)
                     for label, rows in (after.get("items") or {}).items()},
        result_at=then_raw.get("result_at", {}),
        pages=then_raw.get("pages", {}),
    )
    return Clause(
        id=raw["id"], level=raw["level"], title=raw["title"], citation=citation,
        method=when_method, given=documents, when=when, then=then,
        live=raw.get("live", "safe"), covers=tuple(raw.get("covers", ())), file=str(path),
        file_method=method,
        products=tuple((raw.get("given") or {}).get("products", ())),
    )


def _series(label: str, spec: Mapping[str, Any]) -> tuple[DocumentSpec, ...]:
    """One document, or with `count` that many alike, labelled label0 .. label{count-1}."""
    count = spec.get("count")
    if not count:
        return (_document(label, spec),)
    return tuple(_document(f"{label}{n}", spec, series=True) for n in range(count))


def _document(label: str, spec: Mapping[str, Any], *, series: bool = False) -> DocumentSpec:
    items = tuple(_item(i, f"{label}_{i['label']}" if series and "label" in i else i.get("label", ""))
                  for i in spec.get("items", ()))
    return DocumentSpec(label=label, type=spec["type"], status=spec["status"], items=items,
                        supplier=spec.get("supplier", True))


def _row(item: Item, documents: tuple[DocumentSpec, ...], label: str) -> Item:
    """An expected item row with both warehouse ends explicit, by its document's type (`store`
    is the end that type uses; the other end must read back empty)."""
    doc_type = next((d.type for d in documents if d.label == label), None)
    if doc_type is None:
        return item
    source, dest = item_ends(doc_type, item)
    return replace(item, store=None, store_from=source, store_to=dest)


def _item(raw: Mapping[str, Any], label: str = "") -> Item:
    price = raw.get("price")
    return Item(product=raw["product"], amount=float(raw["amount"]), store=raw.get("store"),
                store_from=raw.get("from"), store_to=raw.get("to"),
                price=None if price is None else float(price), label=label, removed=bool(raw.get("removed")))


def _expect(raw: Mapping[str, Any]) -> Expect:
    return Expect(
        http=raw.get("http"),
        result=raw.get("result", MISSING),
        schema=raw.get("schema"),
        message=_message(raw["message"]) if "message" in raw else None,
    )


def _message(raw: str | Mapping[str, Any]) -> MessageRef:
    if isinstance(raw, str):
        return MessageRef(key=raw)
    return MessageRef(key=raw["key"], params=raw.get("params", {}))
