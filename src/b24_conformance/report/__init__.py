"""Views of a run, rendered from its report stream (`stream.py`) and never by re-running: terminal,
JUnit, JSON, HTML, drift. `write_reports` writes the file views beside the stream."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from b24_conformance.report.diff import (
    Drift,
    FieldChange,
    OutcomeChange,
    diff_files,
    diff_reports,
    render_drift,
)
from b24_conformance.report.html import to_html
from b24_conformance.report.jsonreport import dumps as json_dumps
from b24_conformance.report.jsonreport import load_json, to_json, write_json
from b24_conformance.report.junit import to_junit_xml
from b24_conformance.report.terminal import Progress, render_table
from b24_conformance.verdict import RunResult

__all__ = [
    "Drift", "FieldChange", "OutcomeChange", "Progress", "diff_files", "diff_reports", "load_json",
    "render_drift", "render_table", "to_html", "to_json", "to_junit_xml", "write_json", "write_reports",
]

FILE_NAMES = {"junit": "junit.xml", "json": "report.json", "html": "report.html"}


def write_reports(result: RunResult, directory: Path, *, secrets: Iterable[str] = ()) -> dict[str, Path]:
    """Write junit.xml, report.json and report.html into `directory`; return their paths by kind.

    All three are rendered (and checked for secrets) before any is written, so a refused report
    leaves no partial set of files behind.
    """
    secrets = tuple(secrets)
    texts = {
        "junit": to_junit_xml(result, secrets=secrets),
        "json": json_dumps(result, secrets=secrets),
        "html": to_html(result, secrets=secrets),
    }
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {kind: directory / FILE_NAMES[kind] for kind in texts}
    for kind, text in texts.items():
        paths[kind].write_text(text, encoding="utf-8")
    return paths
