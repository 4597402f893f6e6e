"""The client × clause matrix: every client row run through every clause, and its views.

`run_matrix` drives each client adapter through the clauses against a target of its own: a fresh
embedded reference portal over TLS (in the chosen profile, with the chosen mutants), or, offline,
that client's own recording. The sandbox and the after-state are the suite's own; only the
clause's request goes through the client (`engine.Engine` with `adapter=`). Each row is a normal
run, streamed to `<reports>/clients/<row>/report.jsonl` with its views; the matrix gathers the
rows' verdicts into `clients.json` and `clients.html`, and a terminal table in which every cell
that deviates says how, in words a client author can act on (grading's `client_reason`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ..contract.clause import Clause
from ..report.matrix import Matrix, file_name, render_matrix, write_matrix
from ..verdict import RunResult
from . import load_adapter
from .base import ClientAdapter, access_for

__all__ = ["Matrix", "attach", "render_matrix", "run_matrix", "write_matrix"]


def run_matrix(specs: Sequence[str], clauses: Sequence[Clause], *, profile: str = "seed",
               portal_profile: str | None = None, mutants: tuple[str, ...] = (), on_prem: bool = False,
               cassettes: Path | None = None, record: bool = False, reports: Path | None = None,
               on_row: Callable[[str, RunResult], None] | None = None,
               adapter_options: dict[str, dict[str, Any]] | None = None) -> Matrix:
    """Run each client row through `clauses`; see the module docstring for where each row runs."""
    from ..report import write_reports
    from ..report.stream import ReportStream, read_stream
    from ..runner import Runner, RunOptions
    from ..target.cassette import cassette_target, read_sidecar
    from ..target.reference import reference_settings, reference_target

    matrix = Matrix(clause_ids=tuple(c.id for c in clauses))
    if cassettes is not None and any(s.strip().startswith("harness:") for s in specs):
        from ..errors import UsageError

        raise UsageError("a client harness runs its client in a process of its own, whose traffic the suite "
                         "cannot record or replay", hint="run the harness rows against the embedded portal "
                         "(no --cassettes)")
    for spec in specs:
        name = load_adapter(spec, **(adapter_options or {}).get(spec, {})).name
        with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="b24c-clients-") as tmp:
            options = RunOptions(profile=profile, manifest_dir=Path(tmp))
            if cassettes is not None and not record:
                folder = cassettes / name
                config = cassette_target(folder)
                options = RunOptions(profile=profile, manifest_dir=Path(tmp), cassettes=folder,
                                     run_id=read_sidecar(folder)["run_id"])
            else:
                settings = reference_settings(portal_profile or profile, mutants=mutants,
                                              deterministic=record, on_prem=on_prem)
                config = stack.enter_context(reference_target(settings))
                if record:
                    assert cassettes is not None
                    options = RunOptions(profile=profile, manifest_dir=Path(tmp), cassettes=cassettes / name,
                                         record=True, run_id="rec")
            runner = Runner(config, options)
            adapter = attach(runner, spec, adapter_options.get(spec, {}) if adapter_options else {})
            stack.callback(adapter.stop)
            handlers = []
            if reports is not None:
                stream = ReportStream(reports / matrix.kind / file_name(name), secrets=runner.redactor.secrets)
                handlers.append(stream)
            result = runner.run(clauses, handlers)
            if reports is not None:
                result = read_stream(stream.path, check=False)
                write_reports(result, stream.path.parent, secrets=runner.redactor.secrets)
            matrix.target = config.describe() if not matrix.target else matrix.target
            matrix.rows[name] = result
            if on_row:
                on_row(name, result)
    return matrix


def attach(runner: Any, spec: str, options: dict[str, Any] | None = None) -> ClientAdapter:
    """Load the adapter `spec`, start it against the runner's target, and send the runner's clause
    requests through it. The reference row shares the runner's own client (one wire log, one bucket)."""
    adapter = load_adapter(spec, **(options or {}))
    if getattr(adapter, "drives_like_the_suite", False):
        adapter = load_adapter(spec, **{**(options or {}), "client": runner.engine.client})
    adapter.start(access_for(runner.config))
    runner.engine.adapter = adapter
    return adapter
