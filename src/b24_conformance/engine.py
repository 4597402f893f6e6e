"""The engine: clause → request → raw observation. It records what it saw and never judges.

`Engine.observe` builds the clause's precondition in the sandbox, sends the request(s) under test,
reads back the documents' statuses and the balances of the products they move, and returns an
`Observation` of raw facts: the replies, the statuses, the amounts before conduct, before the call
and after, the movement the clause's documents imply, and the wire log. What the target cannot
provide becomes `Observation.unavailable`, an infrastructure fault `Observation.fault`; grading
(`grading.judge`) alone turns any of it into a verdict. The engine never looks at which kind of
target it talks to, except to refuse writes where they were not allowed.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .clients.base import ClientAdapter, ClientError, Envelope, Unsupported
from .contract.clause import Clause
from .errors import ConformanceError, TargetError
from .observation import BalanceReading, ClientReply, Exchange, Observation, Reply
from .redact import Redactor
from .target.cassette import Cassettes, block_network, is_cassette_miss, write_sidecar
from .target.cleanup import cleanup_manifest
from .target.client import PortalClient, Sent
from .target.config import Credential, TargetConfig
from .target.preflight import Preflight, preflight
from .target.sandbox import MAX_BATCH, Sandbox, World, pack


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    profile: str = "seed"
    allow_writes: bool = False  # needed for any target but the reference portal
    allow_burst: bool = False  # the rate-limit probe on a live portal
    manifest_dir: Path = Path(".b24-conformance")
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    cassettes: Path | None = None  # record into, or replay from, this folder
    record: bool = False
    option_prefix: str = "--"  # how the runner in use spells its options, for skip reasons
    share_batches: bool = True  # clauses of a wave share set-up and observation batches
    strict: bool = False  # SHOULD clauses count for the gate too
    baseline: Path | None = None  # known deviations of the target (baseline.py)


class Engine:
    """One run's connection to its target: the client, the sandbox and the cassettes."""

    def __init__(self, config: TargetConfig, options: RunOptions, redactor: Redactor | None = None,
                 adapter: ClientAdapter | None = None) -> None:
        self.config = config
        self.options = options
        self.redactor = redactor or Redactor()
        self.client = PortalClient(config, self.redactor)
        self.adapter = adapter  # a client library the clause's own request goes through (client runs)
        self.writes = config.kind in ("reference", "cassette") or options.allow_writes
        self.sandbox: Sandbox | None = None
        self._sandbox_error: str | None = None
        self.checked: Preflight | None = None
        self.cassettes = (Cassettes(options.cassettes, record=options.record, redactor=self.redactor)
                          if options.cassettes else None)

    def _use(self, name: str):
        """The cassette for `name` in offline mode; nothing otherwise."""
        return self.cassettes.use(name) if self.cassettes else nullcontext()

    def _offline(self):
        """While replaying, the network is blocked: what a cassette does not hold fails loudly."""
        return block_network() if self.cassettes and not self.options.record else nullcontext()

    # -- run level ------------------------------------------------------------------------------
    def preflight(self) -> Preflight | None:
        """On a live portal, one cheap call first: reach, credential, scope, inventory management.
        Raises UsageError (a refused credential) or TargetError (no answer); once per run."""
        if self.config.kind == "live" and self.checked is None:
            admin = self.config.credential("admin")
            if admin is not None:
                self.checked = preflight(self.client, admin)
        return self.checked

    def open(self, clauses: list[Clause]) -> None:
        """Run-level set-up; a recording or replay gives it a cassette of its own, so any subset of
        clauses replays."""
        if self.cassettes and self.writes and any(c.given for c in clauses):
            try:
                with self._use("_open"):
                    self._sandbox()
            except TargetError:
                pass  # each clause that needs the sandbox records the reason as a fault

    def close(self, clauses: list[Clause] | None = None) -> None:
        if self.sandbox is not None:
            try:
                with self._use("_close"):
                    self.sandbox.close()
            except ConformanceError:
                pass
            manifest = self.sandbox.manifest.path
            if manifest.exists() and not self.cassettes:
                # a fault left rows behind (a set-up batch that timed out, a refused delete): the
                # manifest leads to them by id or title; what this cannot remove stays listed there
                # for `b24-conformance cleanup`
                try:
                    cleanup_manifest(self.client, self.sandbox.admin, manifest)
                except ConformanceError:
                    pass
            self.sandbox = None
        self.client.close()
        if self.cassettes and self.options.record and clauses is not None:
            write_sidecar(self.options.cassettes, self.config, profile=self.options.profile,
                          clause_ids=[c.id for c in clauses], run_id=self.options.run_id)

    def _sandbox(self) -> Sandbox:
        if self._sandbox_error:
            raise TargetError(self._sandbox_error)
        if self.sandbox is None:
            sandbox = Sandbox(self.client, self.config, self.options.run_id, self.options.manifest_dir)
            try:
                sandbox.open()
            except TargetError as exc:
                self._sandbox_error = f"the sandbox could not be opened: {exc.message}"
                raise TargetError(self._sandbox_error) from None
            self.sandbox = sandbox
        return self.sandbox

    # -- one clause -----------------------------------------------------------------------------
    def unavailable(self, clause: Clause) -> str | None:
        """Which precondition of the clause this target cannot provide, or None."""
        when = clause.when
        cred = self.config.credential(when.role)  # derived roles (bogus-webhook, anonymous, burst) too
        option = self.options.option_prefix
        if cred is None:
            return f"the target provides no credential for role {when.role!r}"
        if when.transport == "plain-http" and not self.config.plain_http_base:
            return ("the target has no plain-HTTP listener to probe; on a live portal this probe would "
                    "send the webhook code in clear text")
        if when.transport in ("oauth-body", "oauth-query") and cred.kind == "webhook":
            return f"role {when.role!r} is a webhook; the clause needs an OAuth token"
        if self.adapter is not None:
            missing = self._client_cannot(clause)
            if missing:
                return missing
        if clause.live == "opt-in" and self.config.kind == "live" and not self.options.allow_burst:
            return f"the rate-limit probe floods the portal; pass {option}allow-burst to run it on a live portal"
        if (clause.given or clause.when.creates) and not self.writes:
            return f"needs documents of its own; pass {option}allow-writes to let the suite write to this portal"
        if (self.checked and self.checked.inventory is False
                and any(d.status in ("Y", "C") for d in clause.given)):
            return ("inventory management is off on this portal (catalog.document.mode.status answered N), "
                    "so no document can be conducted")
        if clause.given and self.sandbox is not None:
            return self.sandbox.missing_for(clause)
        return None

    def waves(self, clauses: list[Clause]) -> list[list[Clause]]:
        """The clauses in run order, cut into waves whose set-ups share batches.

        A wave's documents are built together, then each clause's request is sent, then the wave
        is observed and cleaned up together: a live run then costs about one request per clause.
        Offline (recording or replaying cassettes) every clause is a wave of its own, so that each
        cassette holds exactly one clause and any subset of them replays.
        """
        if self.cassettes or not self.options.share_batches or not self.writes or not any(c.given for c in clauses):
            return [[c] for c in clauses]
        try:
            sandbox = self._sandbox()
        except TargetError:
            return [[c] for c in clauses]  # each clause records the reason
        sizes = [len(sandbox.plan(c).commands) if c.given and not self.unavailable(c) else 0 for c in clauses]
        return [[clauses[i] for i in group] for group in pack([range(n) for n in sizes], MAX_BATCH)]

    def _client_cannot(self, clause: Clause) -> str | None:
        """Why the client cannot ask the clause's question, from what its adapter says it cannot do."""
        adapter, when = self.adapter, clause.when
        assert adapter is not None
        needs = [when.transport] if when.transport != "json" else []
        needs += ["batch"] if when.batch else []
        needs += ["concurrent"] if when.concurrent > 1 else []
        for need in needs:
            if need in adapter.cannot:
                return f"{adapter.name} cannot do this: {adapter.cannot[need]}"
        if when.walk and not getattr(adapter, "drives_like_the_suite", False):
            return (f"{adapter.name}: the clause walks a list's pages by `next` itself, to judge the portal's "
                    "paging; a client's own list helper is not this question")
        if when.burst and not getattr(adapter, "drives_like_the_suite", False):
            return ("the rate-limit probe measures the portal, not a client (which should ride the limit out: "
                    "cancel.after-rate-limit.succeeds checks that)")
        return None

    def observe(self, clause: Clause) -> Observation:
        """Everything seen for one clause, with secrets redacted."""
        return self.observe_wave([clause])[0]

    def observe_wave(self, clauses: list[Clause]) -> list[Observation]:
        """Everything seen for each clause of a wave, in order, with secrets redacted."""
        started = time.perf_counter()
        if len(clauses) > 1:
            return self._wave(clauses, started)
        try:
            with self._use(clauses[0].id), self._offline():  # offline, each clause has a cassette of its own
                return self._wave(clauses, started)
        except TargetError as exc:  # the cassette is missing or malformed
            return [self._seen(clauses[0], started, fault=exc.message)]

    def _wave(self, clauses: list[Clause], started: float) -> list[Observation]:
        done: dict[str, Observation] = {}
        ready: list[Clause] = []
        for clause in clauses:
            reason = self.unavailable(clause)
            if reason is None and clause.given:
                try:
                    reason = self._sandbox().missing_for(clause)
                except TargetError as exc:
                    done[clause.id] = self._seen(clause, started, fault=exc.message)
                    continue
            if reason:
                done[clause.id] = self._seen(clause, started, unavailable=reason)
            else:
                ready.append(clause)
        worlds: dict[str, World | TargetError] = {c.id: World(clause_id=c.id) for c in ready if not c.given}
        building = [c for c in ready if c.given]
        if building:
            worlds.update(self._prepare(building))
        calls: dict[str, tuple[Asked, list[Exchange]]] = {}
        for clause in ready:
            world = worlds[clause.id]
            if isinstance(world, TargetError):
                done[clause.id] = self._seen(clause, started, fault=world.message)
                continue
            world.read_fields = tuple(sorted({f for fs in clause.then.after_fields.values() for f in fs}))
            world.read_items = tuple(clause.then.after_items)
            if clause.when.creates:
                try:
                    self._sandbox().expect_created(world, clause)
                except TargetError as exc:
                    done[clause.id] = self._seen(clause, started, fault=exc.message, world=world)
                    continue
            mark = self.client.request_count
            try:
                asked = self._perform(clause, world)
            except Unsupported as exc:
                done[clause.id] = self._seen(clause, started, unavailable=f"{self.adapter.name}: {exc}", world=world)
                continue
            except TargetError as exc:
                done[clause.id] = self._seen(clause, started, fault=exc.message, world=world)
                continue
            if clause.when.creates:
                self._sandbox().record_created(world, clause, _bodies(asked.replies))
            bucket = self._bucket_after(clause, asked)
            calls[clause.id] = (replace(asked, bucket_after=bucket), self.client.exchanges[mark:])
        built = [(clause, w) for clause in ready if isinstance(w := worlds[clause.id], World) and w.documents]
        seen: dict[str, dict[str, Any]] = {}
        if built:
            wanted = [(w, c.id in calls and c.then.reads_after) for c, w in built]
            try:
                seen = self._sandbox().observe(wanted)
            except TargetError as exc:  # the answers stand; only the after-state is unknown
                for clause, w in built:
                    if clause.id in calls and clause.then.reads_after:
                        asked, own_exchanges = calls[clause.id]
                        done[clause.id] = self._seen(clause, started, fault=exc.message, world=w,
                                                     own=own_exchanges, replies=asked.replies,
                                                     references=w.references(), reproduction=asked.reproduction)
        for clause in ready:
            if clause.id in done or clause.id not in calls:
                continue
            world = worlds[clause.id]
            assert isinstance(world, World)
            asked, own = calls[clause.id]
            after = seen.get(clause.id, {})
            done[clause.id] = self._seen(
                clause, started, world=world, own=own, replies=asked.replies,
                statuses=after.get("status", {}), documents=after.get("documents", {}), items=after.get("items", {}),
                balances=_readings(clause, world, after.get("balances")),
                references=world.references(), reproduction=asked.reproduction, bucket_after=asked.bucket_after)
        return [done[c.id] for c in clauses]

    def _prepare(self, building: list[Clause]) -> dict[str, World | TargetError]:
        """The wave's set-up; one that got no answer is undone (its rows found by title) and sent
        once more, since resending blindly could build everything twice."""
        sandbox = self._sandbox()
        try:
            return dict(sandbox.prepare(building))
        except TargetError as first:
            if self.cassettes:
                return {c.id: first for c in building}
            try:
                sandbox.undo_unfinished()
                return dict(sandbox.prepare(building))
            except TargetError as exc:
                return {c.id: exc for c in building}

    def _seen(self, clause: Clause, started: float, *, world: World | None = None, own: list[Exchange] = (),
              **facts: Any) -> Observation:
        """An Observation of `clause`: its shared set-up and observation batches and its own requests."""
        for key in ("fault", "unavailable"):
            if key in facts:
                facts[key] = self.redactor.text(facts[key])
        shared = world.exchanges if world else []
        setup = [e for e in shared if e.phase == "setup"]
        after = [e for e in shared if e.phase != "setup"]
        return Observation(clause_id=clause.id, exchanges=tuple(setup + list(own) + after),
                           duration_s=time.perf_counter() - started, **facts)

    def _perform(self, clause: Clause, world: World) -> Asked:
        """Send the clause's own request(s): with the suite's own client, or through the adapter."""
        when = clause.when
        cred = self.config.credential(when.role)
        assert cred is not None
        params = world.resolve(dict(when.params))
        # the drained bucket is the caller's: a client always calls from the default address, the
        # suite's own client from the target's spare loopback address when it has one (so that a
        # portal whose bucket never drains again refuses only the rate-limit clauses). That is the
        # probe's address too: right after the probe its bucket is full already, and the drain
        # only tops it up (a few requests instead of another X)
        own = None if self.adapter is not None else self.config.source_address
        if when.drained:
            self._drain(cred, own)
        if self.adapter is not None:
            return self._through_client(clause, world, params)
        retry = not clause.expects_rate_limit
        if when.batch:
            commands = {c.key: (c.method, world.resolve(dict(c.params))) for c in when.batch}
            sent = [self.client.batch(cred, commands, halt=when.halt)]
        elif when.concurrent > 1:
            sent = self._concurrently(cred, when.method, params, when.transport, when.concurrent)
        elif when.burst:
            sent = [self._burst(cred, when.method, params, when.transport, when.burst)]
        elif when.walk:
            sent = self._walk(cred, when.method, params, when.transport, retry)
        else:
            sent = [self.client.call(cred, when.method, params, transport=when.transport, retry=retry,
                                     local_address=own if when.drained else None)]
        return Asked(replies=tuple(s.reply for s in sent), reproduction=sent[0].curl)

    def _through_client(self, clause: Clause, world: World, params: dict) -> Asked:
        adapter, when = self.adapter, clause.when
        assert adapter is not None
        suite_like = getattr(adapter, "drives_like_the_suite", False)  # the reference row: our own client
        if when.batch:
            commands = {c.key: (c.method, world.resolve(dict(c.params))) for c in when.batch}
            asks = [lambda: adapter.batch(when.role, commands, when.halt)]
        elif when.burst and suite_like:
            cred = self.config.credential(when.role)
            asks = [lambda: adapter.wrap(self._burst(cred, when.method, params, when.transport, when.burst))]
        else:
            options: dict[str, Any] = {"transport": when.transport} if when.transport != "json" else {}
            if suite_like:
                options["retry"] = not clause.expects_rate_limit
            asks = [lambda: adapter.call(when.role, when.method, params, **options)] * max(1, when.concurrent)
        # each ask gives what the client handed its caller; the suite's own client paces itself, a
        # library's requests are paced here, except where the limit itself is the question (the
        # drained bucket a client must ride out)
        paced = not suite_like and not clause.about_rate_limits
        replies_of = [self._paced(ask) if paced else (lambda a=ask: self._client_reply(a)) for ask in asks]
        if when.walk and suite_like:
            replies = self._walk_through(adapter, when, params, options)
        elif len(replies_of) == 1:
            replies = (replies_of[0](),)
        else:
            replies = tuple(self._side_by_side(replies_of))
        last = getattr(adapter, "last", None)  # the reference row keeps the suite's own curl line
        shown = f"{adapter.name}: {when.method}({_json(params)})" if not when.batch else f"{adapter.name}: batch"
        return Asked(replies=replies, reproduction=last.curl if isinstance(last, Sent) else shown)

    def _walk_through(self, adapter: ClientAdapter, when: Any, params: dict, options: dict) -> tuple[ClientReply, ...]:
        """`_walk` through the reference row's adapter: each page's `start` is the last reply's `next`."""
        def next_of(reply: ClientReply) -> Any:
            body = reply.returned if reply.whole else None
            return body.get("next") if isinstance(body, dict) else None

        return tuple(_follow_next(params, lambda page: self._client_reply(
            lambda: adapter.call(when.role, when.method, page, **options)), next_of))

    def _client_reply(self, ask: Callable[[], Any]) -> ClientReply:
        """What the client handed its caller: a value, its documented error, or a crash."""
        name = self.adapter.name if self.adapter else "client"
        try:
            value = ask()
        except ClientError as exc:
            return ClientReply(client=name, raised=exc.type_name, code=exc.code, description=exc.description,
                               status=exc.status, error_body=_plain(exc.body), notes=tuple(exc.notes),
                               unreadable=tuple(getattr(exc, "unreadable", ())))
        except (Unsupported, ConformanceError):
            raise
        except Exception as exc:  # noqa: BLE001 - an undocumented exception is the finding itself
            if is_cassette_miss(exc):
                raise TargetError(f"the cassette has no recorded response for {name}'s request",
                                  hint="the clause or the client changed since recording; re-record") from None
            tail = "".join(traceback.format_exception(exc)[-4:]).strip()
            return ClientReply(client=name, crash=self.redactor.text(f"{type(exc).__name__}: {exc}\n{tail}"))
        if isinstance(value, Envelope):
            return ClientReply(client=name, returned=_plain(value.body), whole=True, status=value.status)
        return ClientReply(client=name, returned=_plain(value))

    def _paced(self, ask: Callable[[], Any]) -> Callable[[], ClientReply]:
        """`ask` through a client library as the suite's own client would send it: each request
        takes its slot in the run's bucket (the portal counts the library's requests with the
        suite's), and a rate-limit refusal the clause does not judge ran nothing, so it is waited
        out and asked again (as README promises for every request of a run)."""
        offline = self.config.kind == "cassette"  # a replay sends nothing to pace

        def paced() -> ClientReply:
            bucket, reply = self.client.bucket, ClientReply(client="")
            for _ in range(1 + self.client.retry.rate_attempts):
                if not offline:
                    bucket.acquire()
                reply = self._client_reply(ask)
                limited = reply.error_code == "QUERY_LIMIT_EXCEEDED" or (reply.raised and reply.status == 503)
                if offline or not limited:  # (a clause about the limit is never paced: see the caller)
                    return reply
                bucket.saturate()  # the portal's bucket is full, whoever filled it: wait for it to drain
            return reply
        return paced

    def _side_by_side(self, replies_of: list[Callable[[], ClientReply]]) -> list[ClientReply]:
        results = self._together(len(replies_of), lambda i: replies_of[i]())
        for r in results:
            if isinstance(r, BaseException):
                raise r
        return results

    def _together(self, count: int, job: Callable[[int], Any]) -> list[Any]:
        """`job(0)` … `job(count - 1)` in threads released at once; each result, or what it raised.
        Recording, the cassette stores their interactions in a canonical order (side_by_side)."""
        barrier = threading.Barrier(count)
        results: list[Any] = [None] * count

        def worker(i: int) -> None:
            try:
                barrier.wait(timeout=10)
                results[i] = job(i)
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                results[i] = exc

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
        with self.cassettes.side_by_side() if self.cassettes else nullcontext():
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        return results

    def _bucket_after(self, clause: Clause, asked: Asked) -> str:
        """After a QUERY_LIMIT_EXCEEDED the clause does not judge: was the request bucket really full?"""
        limited = any(r.error_code == "QUERY_LIMIT_EXCEEDED" for r in asked.replies)
        if not limited or "QUERY_LIMIT_EXCEEDED" in clause.judged_limit_codes:
            return ""
        admin = self.config.credential("admin")
        if admin is None:
            return ""
        probe = self.client.call(admin, "catalog.document.mode.status", {}, retry=False, pace=False)
        return "refused" if probe.reply.error_code == "QUERY_LIMIT_EXCEEDED" or probe.reply.status == 503 else "admitted"

    def _drain(self, cred: Credential, local_address: str | None) -> None:
        """Overflow the portal's request bucket from the address the clause's request comes from."""
        for _ in range(self.config.rate.threshold + 50):
            sent = self.client.call(cred, "catalog.document.mode.status", {}, retry=False, pace=False,
                                    local_address=local_address)
            if sent.reply.error_code == "QUERY_LIMIT_EXCEEDED" or sent.reply.status == 503:
                if local_address is None:  # the pacer's own address: its bucket is full now
                    self.client.bucket.saturate()
                return
        raise TargetError(f"the request bucket did not overflow after {self.config.rate.threshold + 50} requests",
                          hint="the target's `rate` may not be the portal's")

    def _concurrently(self, cred, method: str, params: dict, transport: str, count: int) -> list[Sent]:
        results = self._together(count, lambda i: self.client.call(
            cred, method, params, transport=transport, retry=True, pace=False,
            local_address=f"127.0.0.{10 + i}" if self.config.source_address else None))
        for r in results:
            if isinstance(r, BaseException):
                raise TargetError(f"concurrent call failed: {r}")
        return results

    def _walk(self, cred, method: str, params: dict, transport: str, retry: bool) -> list[Sent]:
        """A list method page by page: each next request's `start` is the previous reply's `next`,
        until a reply gives none (or is no success), at most MAX_PAGES requests."""
        def next_of(sent: Sent) -> Any:
            body = sent.reply.body
            return body.get("next") if isinstance(body, dict) and sent.reply.status == 200 else None

        return _follow_next(params, lambda page: self.client.call(cred, method, page, transport=transport,
                                                                  retry=retry), next_of)

    def _burst(self, cred, method: str, params: dict, transport: str, extra: int) -> Sent:
        """Send until the portal refuses (or threshold + extra requests); return the refusal."""
        last: Sent | None = None
        for _ in range(self.config.rate.threshold + extra):
            last = self.client.call(cred, method, params, transport=transport, retry=False,
                                    local_address=self.config.source_address, pace=False)
            if last.reply.status == 503 or last.reply.error_code == "QUERY_LIMIT_EXCEEDED":
                return last
        assert last is not None
        return last


MAX_PAGES = 10  # a walk stops here even if the portal keeps giving `next`


def _follow_next(params: dict, send: Callable[[dict], Any], next_of: Callable[[Any], Any]) -> list[Any]:
    """Send `params`, then again with `start` set to each answer's `next`, until an answer has none
    (at most MAX_PAGES sends); every answer, in order."""
    answers: list[Any] = []
    page = dict(params)
    for _ in range(MAX_PAGES):
        answers.append(send(page))
        nxt = next_of(answers[-1])
        if nxt is None:
            break
        page = {**params, "start": nxt}
    return answers


@dataclass(frozen=True, slots=True)
class Asked:
    """The answers to a clause's own request(s), and how to reproduce it."""

    replies: tuple[Reply | ClientReply, ...]
    reproduction: str
    bucket_after: str = ""


def _bodies(replies: tuple[Reply | ClientReply, ...]) -> list[Any]:
    """The bodies a created document's id can be read from: the response, or what a client returned."""
    out = []
    for reply in replies:
        if isinstance(reply, ClientReply):
            out.append(reply.returned if reply.whole else {"result": reply.returned})
        else:
            out.append(reply.body)
    return out


def _plain(value: Any) -> Any:
    """A value as JSON would carry it (whatever a client library returned)."""
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return repr(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _readings(clause: Clause, world: World, now: dict[tuple[str, str], float] | None) -> tuple[BalanceReading, ...]:
    """The amounts around each document of the clause, beside the movement its items imply."""
    if now is None:
        return ()
    readings = []
    for doc in clause.given:
        state = world.documents.get(doc.label)
        if state is None or doc.status == "deleted":
            continue
        for (product, store), moved in doc.movement().items():
            pair = (product, store)
            readings.append(BalanceReading(document=doc.label, product=product, store=store, moved=moved,
                                           # a draft is conducted by the call itself: its "before conduct" is just before the call
                                           before_conduct=(world.ready.get(pair, 0.0) if doc.status == "N"
                                                           else state.pre_conduct.get(pair, 0.0)),
                                           before_call=world.ready.get(pair, 0.0), after=now.get(pair, 0.0)))
    return tuple(readings)
