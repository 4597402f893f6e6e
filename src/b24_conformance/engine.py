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

import threading
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .contract.clause import Clause
from .errors import ConformanceError, TargetError
from .observation import BalanceReading, Observation
from .redact import Redactor
from .target.cassette import Cassettes, write_sidecar
from .target.client import PortalClient, Sent
from .target.config import TargetConfig
from .target.sandbox import Sandbox, World


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


class Engine:
    """One run's connection to its target: the client, the sandbox and the cassettes."""

    def __init__(self, config: TargetConfig, options: RunOptions, redactor: Redactor | None = None) -> None:
        self.config = config
        self.options = options
        self.redactor = redactor or Redactor()
        self.client = PortalClient(config, self.redactor)
        self.writes = config.kind in ("reference", "cassette") or options.allow_writes
        self.sandbox: Sandbox | None = None
        self._sandbox_error: str | None = None
        self.cassettes = (Cassettes(options.cassettes, record=options.record, redactor=self.redactor)
                          if options.cassettes else None)

    def _use(self, name: str):
        """The cassette for `name` in offline mode; nothing otherwise."""
        return self.cassettes.use(name) if self.cassettes else nullcontext()

    # -- run level ------------------------------------------------------------------------------
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
                pass  # the manifest keeps what is left; `b24-conformance cleanup` removes it
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
        if clause.live == "opt-in" and self.config.kind == "live" and not self.options.allow_burst:
            return f"the rate-limit probe floods the portal; pass {option}allow-burst to run it on a live portal"
        if clause.given and not self.writes:
            return f"needs documents of its own; pass {option}allow-writes to let the suite write to this portal"
        if clause.given and self.sandbox is not None:
            return self.sandbox.missing_for(clause)
        return None

    def observe(self, clause: Clause) -> Observation:
        """Everything seen for one clause, with secrets redacted."""
        started = time.perf_counter()
        mark = self.client.request_count

        def seen(**facts: Any) -> Observation:
            return Observation(clause_id=clause.id, exchanges=tuple(self.client.exchanges[mark:]),
                               duration_s=time.perf_counter() - started, **facts)

        reason = self.unavailable(clause)
        if reason is None and clause.given:
            try:
                reason = self._sandbox().missing_for(clause)
            except TargetError as exc:
                return seen(fault=self.redactor.text(exc.message))
        if reason:
            return seen(unavailable=self.redactor.text(reason))
        world: World | None = None
        after: dict[str, Any] = {}
        try:
            with self._use(clause.id):
                try:
                    world = self._sandbox().prepare(clause) if clause.given else World(clause_id=clause.id)
                    sent = self._perform(clause, world)
                    if clause.then.after_status or clause.then.after_balances:
                        after = self._sandbox().observe(world, clause, then_clean_up=True)
                finally:
                    self._cleanup(world, clause)
        except TargetError as exc:
            return seen(fault=self.redactor.text(exc.message))
        return seen(replies=tuple(s.reply for s in sent), statuses=after.get("status", {}),
                    balances=_readings(clause, world, after.get("balances")), references=world.references(),
                    reproduction=sent[0].curl)

    def _cleanup(self, world: World | None, clause: Clause) -> None:
        if world is not None and world.documents and self.sandbox is not None:
            try:
                self.sandbox.cleanup(world, clause)
            except TargetError:
                pass  # the manifest keeps what is left

    def _perform(self, clause: Clause, world: World) -> list[Sent]:
        when = clause.when
        cred = self.config.credential(when.role)
        assert cred is not None
        params = world.resolve(dict(when.params))
        retry = not clause.expects_rate_limit
        if when.batch:
            commands = {c.key: (c.method, world.resolve(dict(c.params))) for c in when.batch}
            return [self.client.batch(cred, commands, halt=when.halt)]
        if when.concurrent > 1:
            return self._concurrently(cred, when.method, params, when.transport, when.concurrent)
        if when.burst:
            return [self._burst(cred, when.method, params, when.transport, when.burst)]
        return [self.client.call(cred, when.method, params, transport=when.transport, retry=retry)]

    def _concurrently(self, cred, method: str, params: dict, transport: str, count: int) -> list[Sent]:
        barrier = threading.Barrier(count)
        results: list[Sent | BaseException] = [None] * count  # type: ignore[list-item]

        def worker(i: int) -> None:
            try:
                barrier.wait(timeout=10)
                results[i] = self.client.call(cred, method, params, transport=transport, retry=True,
                                              local_address=f"127.0.0.{10 + i}" if self.config.source_address
                                              else None, pace=False)
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                results[i] = exc

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            if isinstance(r, BaseException):
                raise TargetError(f"concurrent call failed: {r}")
        return results  # type: ignore[return-value]

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
                                           before_conduct=state.pre_conduct.get(pair, 0.0),
                                           before_call=world.ready.get(pair, 0.0), after=now.get(pair, 0.0)))
    return tuple(readings)
