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
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from ..contract.clause import Clause
from ..report.jsonreport import json_text
from ..verdict import Outcome, RunResult
from . import load_adapter
from .base import ClientAdapter, access_for

SHORT = {Outcome.PASS: "pass", Outcome.NON_STRICT: "non-strict", Outcome.FAIL: "FAIL", Outcome.SKIP: "skip",
         Outcome.ERROR: "ERROR"}


@dataclass
class Matrix:
    """Rows by client name, each a whole run's result."""

    clause_ids: tuple[str, ...]
    rows: dict[str, RunResult] = field(default_factory=dict)
    target: str = ""

    def gating(self, client: str) -> list[str]:
        return [v.clause_id for v in self.rows[client].verdicts if v.gating_failure]

    @property
    def exit_code(self) -> int:
        """1 when a client failed a MUST clause; 3 when some cell could not be judged; else 0."""
        if any(self.gating(c) for c in self.rows):
            return 1
        return 3 if any(r.exit_code == 3 for r in self.rows.values()) else 0

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "clauses": list(self.clause_ids), "clients": {
            name: {"counts": result.counts(), "exit_code": result.exit_code,
                   "cells": {v.clause_id: {"level": v.level, "outcome": v.outcome.value, "reason": v.reason}
                             for v in result.verdicts}}
            for name, result in self.rows.items()}}


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
                stream = ReportStream(reports / "clients" / _file_name(name), secrets=runner.redactor.secrets)
                handlers.append(stream)
            result = runner.run(clauses, handlers)
            if reports is not None:
                result = read_stream(stream.path)
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


def render_matrix(matrix: Matrix) -> str:
    """One line per clause with one column per client; then, per client, every deviating cell in words."""
    names = list(matrix.rows)
    cells = {n: {v.clause_id: v for v in r.verdicts} for n, r in matrix.rows.items()}
    width = max((len(c) for c in matrix.clause_ids), default=10)
    cols = [max(len(n), 10) for n in names]
    lines = ["  ".join([f"{'clause':{width}}", *(f"{n:{w}}" for n, w in zip(names, cols))])]
    for cid in matrix.clause_ids:
        row = [f"{cid:{width}}"]
        for n, w in zip(names, cols):
            verdict = cells[n].get(cid)
            row.append(f"{SHORT[verdict.outcome] if verdict else '-':{w}}")
        lines.append("  ".join(row).rstrip())
    for n in names:
        deviating = [v for v in matrix.rows[n].verdicts if v.outcome in (Outcome.FAIL, Outcome.NON_STRICT, Outcome.ERROR)]
        skipped = [v for v in matrix.rows[n].verdicts if v.outcome is Outcome.SKIP]
        counts = ", ".join(f"{c} {o}" for o, c in matrix.rows[n].counts().items() if c)
        lines += ["", f"{n}: {counts}"]
        lines += [f"  {v.outcome.value:10} {v.clause_id} [{v.level}]: {v.reason}" for v in deviating]
        if skipped:
            reasons = sorted({v.reason for v in skipped})
            lines.append(f"  {len(skipped)} skipped: " + "; ".join(reasons))
    gated = [n for n in names if matrix.gating(n)]
    lines += ["", f"gate: FAILED — {', '.join(f'{n} ({len(matrix.gating(n))} MUST)' for n in gated)}" if gated
              else "gate: passed" if matrix.exit_code == 0 else "gate: NOT JUDGED — some cells could not be judged"]
    return "\n".join(lines) + "\n"


def write_matrix(matrix: Matrix, directory: Path) -> list[Path]:
    """`clients.json` and `clients.html` beside the run reports."""
    directory.mkdir(parents=True, exist_ok=True)
    as_json = directory / "clients.json"
    as_json.write_text(json_text(matrix.to_dict(), indent=2) + "\n", encoding="utf-8")
    as_html = directory / "clients.html"
    as_html.write_text(_html(matrix), encoding="utf-8")
    return [as_json, as_html]


def _file_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in name)


def _html(matrix: Matrix) -> str:
    names = list(matrix.rows)
    cells = {n: {v.clause_id: v for v in r.verdicts} for n, r in matrix.rows.items()}
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    body = []
    for cid in matrix.clause_ids:
        tds = []
        for n in names:
            v = cells[n].get(cid)
            if v is None:
                tds.append("<td>-</td>")
                continue
            link = f"clients/{escape(_file_name(n))}/report.html#clause-{escape(cid)}"
            tds.append(f'<td class="{escape(v.outcome.value)}" title="{escape(v.reason)}"><a href="{link}">'
                       f"{escape(v.outcome.value)}</a><div>{escape(v.reason)}</div></td>")
        body.append(f"<tr><th>{escape(cid)}</th>{''.join(tds)}</tr>")
    css = ("body{font:14px system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left;max-width:22rem}"
           "td div{font-size:.8rem;color:#555}.PASS{background:#dafbe1}.FAIL{background:#ffebe9}"
           ".NON-STRICT{background:#fff8c5}.SKIP{background:#f6f8fa}.ERROR{background:#fbefff}")
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>b24-conformance clients</title>"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<style>{css}</style></head><body><h1>Client × clause matrix</h1><p>{escape(matrix.target)}</p>"
            f"<table><thead><tr><th>clause</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p>{escape(render_matrix(matrix).strip().splitlines()[-1])}</p></body></html>\n")
