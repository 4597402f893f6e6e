"""A matrix of runs × clauses: the client × clause matrix of `b24-conformance clients`, and the
portal × clause matrix of `run` against several targets. Each row is a whole run (a RunResult,
read back from its own report stream); this module only renders: the terminal table with every
deviating cell in words, and `<kind>.json` / `<kind>.html` beside the rows' own reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from ..verdict import Outcome, RunResult
from .jsonreport import json_text

SHORT = {Outcome.PASS: "pass", Outcome.NON_STRICT: "non-strict", Outcome.FAIL: "FAIL", Outcome.XFAIL: "xfail",
         Outcome.SKIP: "skip", Outcome.ERROR: "ERROR"}


@dataclass
class Matrix:
    """Rows by client name, each a whole run's result."""

    clause_ids: tuple[str, ...]
    rows: dict[str, RunResult] = field(default_factory=dict)
    target: str = ""
    kind: str = "clients"  # clients | portals: names the files and the row folders

    def gating(self, client: str) -> list[str]:
        return [v.clause_id for v in self.rows[client].gating]

    @property
    def exit_code(self) -> int:
        """1 when a client failed a MUST clause; 3 when some cell could not be judged; else 0."""
        if any(self.gating(c) for c in self.rows):
            return 1
        return 3 if any(r.exit_code == 3 for r in self.rows.values()) else 0

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "clauses": list(self.clause_ids), self.kind: {
            name: {"counts": result.counts(), "exit_code": result.exit_code,
                   "cells": {v.clause_id: {"level": v.level, "outcome": v.outcome.value, "reason": v.reason}
                             for v in result.verdicts}}
            for name, result in self.rows.items()}}


def render_matrix(matrix: Matrix) -> str:
    """One line per clause with one column per row; then, per row, every deviating cell in words."""
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
    """`<kind>.json` and `<kind>.html` beside the run reports."""
    directory.mkdir(parents=True, exist_ok=True)
    as_json = directory / f"{matrix.kind}.json"
    as_json.write_text(json_text(matrix.to_dict(), indent=2) + "\n", encoding="utf-8")
    as_html = directory / f"{matrix.kind}.html"
    as_html.write_text(_html(matrix), encoding="utf-8")
    return [as_json, as_html]


def file_name(name: str) -> str:
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
            link = f"{matrix.kind}/{escape(file_name(n))}/report.html#clause-{escape(cid)}"
            tds.append(f'<td class="{escape(v.outcome.value)}" title="{escape(v.reason)}"><a href="{link}">'
                       f"{escape(v.outcome.value)}</a><div>{escape(v.reason)}</div></td>")
        body.append(f"<tr><th>{escape(cid)}</th>{''.join(tds)}</tr>")
    css = ("body{font:14px system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left;max-width:22rem}"
           "td div{font-size:.8rem;color:#555}.PASS{background:#dafbe1}.FAIL{background:#ffebe9}"
           ".NON-STRICT{background:#fff8c5}.SKIP{background:#f6f8fa}.ERROR{background:#fbefff}")
    title = "Client" if matrix.kind == "clients" else "Portal"
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>b24-conformance {escape(matrix.kind)}</title>"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<style>{css}</style></head><body><h1>{title} × clause matrix</h1><p>{escape(matrix.target)}</p>"
            f"<table><thead><tr><th>clause</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p>{escape(render_matrix(matrix).strip().splitlines()[-1])}</p></body></html>\n")
