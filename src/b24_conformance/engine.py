"""The one flow: clause → request → target → observation → verdict.

`Runner` owns a run: the client, the sandbox and the profiles. `run_clause` builds the clause's
precondition in the sandbox, sends the request(s) under test, observes the follow-up state, and
grades. Infrastructure faults become ERROR verdicts; missing preconditions become SKIP. The runner
never looks at which kind of target it talks to, except to refuse writes where they were not allowed.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .contract.clause import Clause
from .contract.profile import Profile, load_all_profiles
from .errors import ConformanceError, TargetError
from .grading import grade
from .observation import Observation
from .redact import Redactor
from .target.cassette import Cassettes, write_sidecar
from .target.client import PortalClient, Sent
from .target.config import TargetConfig
from .target.sandbox import Sandbox, World
from .verdict import Outcome, RunInfo, RunResult, Verdict

EPS = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    profile: str = "seed"
    allow_writes: bool = False  # needed for any target but the reference portal
    allow_burst: bool = False  # the rate-limit probe on a live portal
    manifest_dir: Path = Path(".b24-conformance")
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    cassettes: Path | None = None  # record into, or replay from, this folder
    record: bool = False


class Runner:
    def __init__(self, config: TargetConfig, options: RunOptions,
                 profiles: Mapping[str, Profile] | None = None) -> None:
        self.config = config
        self.options = options
        self.profiles = dict(profiles or load_all_profiles())
        if options.profile not in self.profiles:
            from .errors import UsageError
            raise UsageError(f"unknown profile {options.profile!r}; known: {', '.join(sorted(self.profiles))}")
        self.redactor = Redactor()
        self.client = PortalClient(config, self.redactor)
        self.writes = config.kind in ("reference", "cassette") or options.allow_writes
        self.sandbox: Sandbox | None = None
        self._sandbox_error: str | None = None
        self.cassettes = (Cassettes(options.cassettes, record=options.record, redactor=self.redactor)
                          if options.cassettes else None)

    def _use(self, name: str):
        """The cassette for `name` in offline mode; nothing otherwise."""
        return self.cassettes.use(name) if self.cassettes else nullcontext()

    # -- run ------------------------------------------------------------------------------------
    def run(self, clauses: Iterable[Clause],
            on_verdict: Callable[[Verdict, int, int], None] | None = None) -> RunResult:
        clauses = list(clauses)
        started = time.perf_counter()
        info = self.run_info(clauses)
        verdicts = []
        try:
            if self.cassettes and self.writes and any(c.given for c in clauses):
                try:  # run-level set-up gets a cassette of its own, so any subset of clauses replays
                    with self._use("_open"):
                        self._sandbox()
                except TargetError:
                    pass  # each clause that needs the sandbox reports the reason as ERROR
            for n, clause in enumerate(clauses, 1):
                verdict = self.run_clause(clause)
                verdicts.append(verdict)
                if on_verdict:
                    on_verdict(verdict, n, len(clauses))
        finally:
            self.close()
        if self.cassettes and self.options.record:
            write_sidecar(self.options.cassettes, self.config, profile=self.options.profile,
                          clause_ids=[c.id for c in clauses], run_id=self.options.run_id)
        return RunResult(info=info, verdicts=tuple(verdicts), duration_s=time.perf_counter() - started,
                         request_count=self.client.request_count)

    def run_info(self, clauses: Iterable[Clause]) -> RunInfo:
        """The header every report starts with; the target is described with secrets redacted."""
        return RunInfo(run_id=self.options.run_id, started_at=datetime.now(UTC).isoformat(),
                       target=self.redactor.text(self.config.describe()), target_kind=self.config.kind,
                       profile=self.options.profile, tool_version=__version__,
                       clause_files=tuple(sorted({Path(c.file).name for c in clauses if c.file})))

    def close(self) -> None:
        if self.sandbox is not None:
            try:
                with self._use("_close"):
                    self.sandbox.close()
            except ConformanceError:
                pass  # the manifest keeps what is left; `b24-conformance cleanup` removes it
            self.sandbox = None
        self.client.close()

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
    def skip_reason(self, clause: Clause) -> str | None:
        when = clause.when
        cred = self.config.credential(when.role)  # derived roles (bogus-webhook, anonymous, burst) too
        if cred is None:
            return f"the target provides no credential for role {when.role!r}"
        if when.transport == "plain-http" and not self.config.plain_http_base:
            return ("the target has no plain-HTTP listener to probe; on a live portal this probe would "
                    "send the webhook code in clear text")
        if when.transport in ("oauth-body", "oauth-query") and cred.kind == "webhook":
            return f"role {when.role!r} is a webhook; the clause needs an OAuth token"
        if clause.live == "opt-in" and self.config.kind == "live" and not self.options.allow_burst:
            return "the rate-limit probe floods the portal; pass --allow-burst to run it on a live portal"
        if clause.given and not self.writes:
            return "needs documents of its own; pass --allow-writes to let the suite write to this portal"
        if clause.given and self.sandbox is not None:
            return self.sandbox.missing_for(clause)
        return None

    def run_clause(self, clause: Clause) -> Verdict:
        started = time.perf_counter()
        mark = self.client.request_count
        reason = self.skip_reason(clause)
        if reason is None and clause.given:
            try:
                reason = self._sandbox().missing_for(clause)
            except TargetError as exc:
                return self._verdict(clause, Outcome.ERROR, exc.message, mark, started)
        if reason:
            return self._verdict(clause, Outcome.SKIP, reason, mark, started)
        world: World | None = None
        try:
            with self._use(clause.id):
                try:
                    world = self._sandbox().prepare(clause) if clause.given else World(clause_id=clause.id)
                    sent = self._perform(clause, world)
                    after = (self._after(clause, world)
                             if (clause.then.after_status or clause.then.after_balances) else {})
                finally:
                    self._cleanup(world, clause)
        except TargetError as exc:
            return self._verdict(clause, Outcome.ERROR, exc.message, mark, started)
        observation = Observation(
            clause_id=clause.id, responses=tuple(s.response for s in sent), after=after,
            exchanges=tuple(self.client.exchanges[mark:]), reproduction=sent[0].curl,
        )
        verdict = grade(clause, observation, self.profiles, self.options.profile, world.resolve)
        return _with_duration(verdict, time.perf_counter() - started)

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
        retry = not (clause.message_keys() & {"system.query-limit", "system.operation-time-limit"})
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
                results[i] = self.client.call(cred, method, params, transport=transport, retry=False,
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
            body = last.response.body
            if last.response.status == 503 or (isinstance(body, dict) and body.get("error") == "QUERY_LIMIT_EXCEEDED"):
                return last
        assert last is not None
        return last

    def _after(self, clause: Clause, world: World) -> dict[str, Any]:
        sandbox = self._sandbox()
        seen = sandbox.observe(world, clause, then_clean_up=True)
        now = seen.get("balances", {})
        balances = {}
        for label in clause.then.after_balances:
            state = world.documents[label]
            delta = sandbox.movement(clause, label)
            amounts, reverted, unchanged, applied = {}, True, True, True
            for pair in delta:
                pre, ready, cur = state.pre_conduct.get(pair, 0.0), world.ready.get(pair, 0.0), now.get(pair, 0.0)
                amounts[f"{pair[0]}@store{pair[1]}"] = {"before_conduct": pre, "before_call": ready, "now": cur}
                reverted &= abs(cur - pre) < EPS
                unchanged &= abs(cur - ready) < EPS
                applied &= abs(cur - (pre + delta.get(pair, 0.0))) < EPS
            balances[label] = {"reverted": reverted, "unchanged": unchanged, "applied": applied, "amounts": amounts}
        return {"status": seen.get("status", {}), "balances": balances}

    def _verdict(self, clause: Clause, outcome: Outcome, reason: str, mark: int, started: float) -> Verdict:
        return Verdict(
            clause_id=clause.id, level=clause.level, title=clause.title, outcome=outcome,
            profile=self.options.profile, citation=clause.citation, reason=self.redactor.text(reason),
            exchanges=tuple(e.to_dict() for e in self.client.exchanges[mark:]),
            duration_s=time.perf_counter() - started,
        )


def _with_duration(verdict: Verdict, seconds: float) -> Verdict:
    return replace(verdict, duration_s=seconds)
