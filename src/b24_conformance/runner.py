"""A run, end to end: for each clause the engine observes, grading judges, and handlers hear of it.

`Runner.run` is the whole flow of one run, clause → request → observation → verdict → report:
`Engine.observe` records, `grading.judge` decides, and every `RunHandler` (the terminal progress
lines, the report stream) is told `start`, then `verdict` per clause as it arrives, then `finish`.
The runner itself neither records nor judges nor renders.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from . import __version__
from .baseline import load_baseline
from .clients.base import ClientAdapter
from .contract.clause import Clause
from .contract.profile import Profile, load_all_profiles
from .engine import Engine, RunOptions
from .errors import UsageError
from .grading import apply_baseline, judge
from .target.config import TargetConfig
from .target.resolve import TargetChoice, resolve_target
from .verdict import RunInfo, RunResult, Verdict

__all__ = ["RunHandler", "RunOptions", "Runner", "prepare_run"]


class RunHandler(Protocol):
    """Something that follows a run as it happens (schemathesis' event handlers, bowtie's reporter)."""

    def start(self, info: RunInfo) -> None: ...

    def verdict(self, verdict: Verdict, index: int, total: int) -> None: ...

    def finish(self, result: RunResult) -> None: ...


def prepare_run(choice: TargetChoice, options: RunOptions, stack: ExitStack) -> tuple[TargetConfig, RunOptions]:
    """The target a choice leads to, and the run options that go with it (a replay keeps the
    recording's run id, so its titles match; a recording uses the fixed id `rec`). The CLI's `run`
    and the pytest plugin both start here."""
    config = resolve_target(choice, stack)
    if choice.cassettes and choice.record:
        options = replace(options, cassettes=Path(choice.cassettes), record=True, run_id="rec")
    elif choice.cassettes:
        from .target.cassette import read_sidecar
        options = replace(options, cassettes=Path(choice.cassettes),
                          run_id=read_sidecar(Path(choice.cassettes))["run_id"])
    return config, options


class Runner:
    def __init__(self, config: TargetConfig, options: RunOptions,
                 profiles: Mapping[str, Profile] | None = None, adapter: ClientAdapter | None = None) -> None:
        self.profiles = dict(profiles or load_all_profiles())
        if options.profile not in self.profiles:
            raise UsageError(f"unknown profile {options.profile!r}; known: {', '.join(sorted(self.profiles))}")
        self.config = config
        self.options = options
        self.engine = Engine(config, options, adapter=adapter)
        self.baseline = None
        if options.baseline is not None:
            from .contract.clause import load_clauses
            self.baseline = load_baseline(options.baseline, [c.id for c in load_clauses()])

    @property
    def redactor(self):
        return self.engine.redactor

    @property
    def request_count(self) -> int:
        return self.engine.client.request_count

    def run_info(self, clauses: Iterable[Clause]) -> RunInfo:
        """The header every report starts with; the target is described with secrets redacted."""
        return RunInfo(run_id=self.options.run_id, started_at=datetime.now(UTC).isoformat(),
                       target=self.redactor.text(self.config.describe()), target_kind=self.config.kind,
                       portal=self.config.name,
                       profile=self.options.profile, tool_version=__version__,
                       clause_files=tuple(sorted({Path(c.file).name for c in clauses if c.file})),
                       strict=self.options.strict, baseline=str(self.options.baseline or ""))

    def run_clause(self, clause: Clause) -> Verdict:
        """One clause: observed by the engine, judged by grading."""
        return self.judge(clause, self.engine.observe(clause))

    def judge(self, clause: Clause, observation) -> Verdict:
        """Grading's verdict, in the light of the run's baseline."""
        return apply_baseline(judge(clause, observation, self.profiles, self.options.profile), self.baseline)

    def preflight(self):
        """The live portal's preflight (engine.Engine.preflight); raises before any clause runs."""
        return self.engine.preflight()

    def run(self, clauses: Iterable[Clause], handlers: Sequence[RunHandler] = ()) -> RunResult:
        clauses = list(clauses)
        self.preflight()
        started = time.perf_counter()
        info = self.run_info(clauses)
        for handler in handlers:
            handler.start(info)
        verdicts = []
        try:
            self.engine.open(clauses)
            for wave in self.engine.waves(clauses):
                for clause, observation in zip(wave, self.engine.observe_wave(wave)):
                    verdict = self.judge(clause, observation)
                    verdicts.append(verdict)
                    for handler in handlers:
                        handler.verdict(verdict, len(verdicts), len(clauses))
        finally:
            self.engine.close(clauses)
        result = RunResult(info=info, verdicts=tuple(verdicts), duration_s=time.perf_counter() - started,
                           request_count=self.request_count)
        for handler in handlers:
            handler.finish(result)
        return result

    def close(self) -> None:
        self.engine.close()
