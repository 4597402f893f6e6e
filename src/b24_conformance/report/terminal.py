"""Terminal output: one progress line per verdict while running, and a summary table at the end."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable
from typing import TextIO

from b24_conformance.report._common import (
    counts_line,
    gate_line,
    one_line,
    refuse_secrets,
    truncate,
    truncate_middle,
)
from b24_conformance.verdict import Outcome, RunInfo, RunResult, Verdict

COLOURS = {
    Outcome.PASS: "32",  # green
    Outcome.NON_STRICT: "33",  # yellow
    Outcome.FAIL: "1;31",  # bold red
    Outcome.XFAIL: "35",  # magenta: failing, but known
    Outcome.SKIP: "36",  # cyan
    Outcome.ERROR: "1;35",  # bold magenta
}
OUTCOME_WIDTH = max(len(o.value) for o in Outcome)
DEFAULT_WIDTH = 100
UNLIMITED = 100_000


def use_colour(stream: TextIO) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(outcome: Outcome, text: str, colour: bool) -> str:
    """`text` wrapped in the outcome's ANSI colour when `colour` is on."""
    return f"\x1b[{COLOURS[outcome]}m{text}\x1b[0m" if colour else text


class Progress:
    """A run handler printing one compact line per clause, e.g. `[ 3/41] PASS  cancel.x.y (0.01s)`."""

    def __init__(self, stream: TextIO | None = None, *, colour: bool | None = None,
                 secrets: Iterable[str] = ()) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.colour = use_colour(self.stream) if colour is None else colour
        self.secrets = tuple(secrets)

    def line(self, verdict: Verdict, index: int, total: int) -> str:
        """The progress line for the `index`-th (1-based) of `total` verdicts, without colour."""
        return self._format(verdict, index, total, colour=False)

    def start(self, info: RunInfo) -> None:
        pass

    def verdict(self, verdict: Verdict, index: int, total: int) -> None:
        """Print the line for one verdict; `index` is 1-based."""
        refuse_secrets(self.line(verdict, index, total), self.secrets, report="terminal")
        self.stream.write(self._format(verdict, index, total, colour=self.colour) + "\n")
        self.stream.flush()

    def finish(self, result: RunResult) -> None:
        pass

    def _format(self, verdict: Verdict, index: int, total: int, *, colour: bool) -> str:
        digits = len(str(total))
        label = paint(verdict.outcome, verdict.outcome.value.ljust(OUTCOME_WIDTH), colour)
        return (f"[{index:>{digits}}/{total}] {label}  {one_line(verdict.clause_id)} "
                f"({verdict.duration_s:.2f}s)")


def render_table(result: RunResult, width: int | None = None, *, secrets: Iterable[str] = (),
                 stream: TextIO | None = None) -> str:
    """A plain-text table (clause, level, verdict, reason) in clause order, then the summary line.

    Cells are cut to the terminal's width only when `stream` (stdout by default) is a terminal; a
    CI log or a file gets every reason whole.
    """
    if width is None:
        target = stream if stream is not None else sys.stdout
        isatty = getattr(target, "isatty", None)
        width = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns if isatty and isatty() else UNLIMITED
    rows = [_row(v) for v in result.verdicts]
    header = ("clause", "level", "verdict", "reason")
    widths = _column_widths([header, *rows], width)
    lines = [_format_row(header, widths), _rule(widths)]
    lines += [_format_row(row, widths) for row in rows]
    lines += [_rule(widths), *_wrap_summary(summary_line(result), width)]
    text = "\n".join(line.rstrip() for line in lines) + "\n"
    refuse_secrets(text, secrets, report="terminal")
    return text


def summary_line(result: RunResult) -> str:
    """Counts per outcome, requests, duration and the gate, on one line."""
    total = len(result.verdicts)
    return (f"{total} clause(s): {counts_line(result)} · {result.request_count} HTTP request(s) · "
            f"{result.duration_s:.2f}s · {gate_line(result)}")


def _wrap_summary(line: str, width: int) -> list[str]:
    """The summary on one line when it fits, else wrapped between its ` · ` parts."""
    lines: list[str] = []
    for part in line.split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return lines


def _row(verdict: Verdict) -> tuple[str, str, str, str]:
    return (one_line(verdict.clause_id), one_line(verdict.level), verdict.outcome.value,
            one_line(verdict.reason))


def _column_widths(rows: list[tuple[str, ...]], width: int) -> list[int]:
    """Level and verdict keep their width; the clause id first, the reason the rest (20 at least)."""
    natural = [max(len(row[i]) for row in rows) for i in range(4)]
    room = max(width - natural[1] - natural[2] - 2 * 3, 36)
    clause = min(natural[0], max(room - 20, 16))
    return [clause, natural[1], natural[2], min(natural[3], room - clause)]


def _format_row(row: tuple[str, ...], widths: list[int]) -> str:
    cells = [truncate_middle(row[0], widths[0]), *(truncate(c, w) for c, w in zip(row[1:], widths[1:]))]
    return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths))


def _rule(widths: list[int]) -> str:
    return "  ".join("-" * w for w in widths)
