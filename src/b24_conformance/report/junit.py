"""JUnit XML for CI dashboards: one testsuite, one testcase per clause, failures with a field table."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from b24_conformance.report._common import format_value, refuse_secrets
from b24_conformance.verdict import FieldResult, Outcome, RunResult, Verdict

SUITE_NAME = "b24-conformance"
# Everything XML 1.0 forbids: C0 controls except tab/LF/CR, lone surrogates, U+FFFE and U+FFFF
# (spelt as what is forbidden: the complement of what XML allows takes ~7 ms to compile).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry, even escaped."""
    return _ILLEGAL_XML.sub("", text)


def to_junit_xml(result: RunResult, *, secrets: Iterable[str] = ()) -> str:
    """The run as a JUnit XML document (a string starting with the XML declaration)."""
    suite = _testsuite(result)
    suite.append(_properties(result))
    for verdict in result.verdicts:
        suite.append(_testcase(verdict))
    ET.indent(suite)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    refuse_secrets(text, secrets, report="JUnit")
    return text


def classname(verdict: Verdict) -> str:
    """The method a clause tests, from its id `<method>.<situation>.<outcome>`; else the profile."""
    parts = verdict.clause_id.split(".")
    return ".".join(parts[:-2]) if len(parts) > 2 else verdict.profile


def _element(tag: str, attrib: dict[str, str] | None = None, text: str | None = None) -> ET.Element:
    element = ET.Element(tag, {k: xml_safe(v) for k, v in (attrib or {}).items()})
    if text is not None:
        element.text = xml_safe(text)
    return element


def _testsuite(result: RunResult) -> ET.Element:
    counts = result.counts()
    return _element("testsuite", {
        "name": SUITE_NAME,
        "tests": str(len(result.verdicts)),
        "failures": str(counts[Outcome.FAIL.value]),
        "errors": str(counts[Outcome.ERROR.value]),
        "skipped": str(counts[Outcome.SKIP.value] + counts[Outcome.XFAIL.value]),
        "time": f"{result.duration_s:.3f}",
        "timestamp": result.info.started_at,
    })


def _properties(result: RunResult) -> ET.Element:
    info = result.info
    values = {
        "run_id": info.run_id, "profile": info.profile, "target": info.target,
        "target_kind": info.target_kind, "tool_version": info.tool_version,
        "started_at": info.started_at, "clause_files": " ".join(info.clause_files),
        "request_count": str(result.request_count), "exit_code": str(result.exit_code),
        "complete": "true" if result.complete else "false",
    }
    properties = _element("properties")
    for name, value in values.items():
        properties.append(_element("property", {"name": name, "value": value}))
    return properties


def _testcase(verdict: Verdict) -> ET.Element:
    case = _element("testcase", {"classname": classname(verdict), "name": verdict.clause_id,
                                 "time": f"{verdict.duration_s:.3f}"})
    outcome_element = _outcome_element(verdict)
    if outcome_element is not None:
        case.append(outcome_element)
    case.append(_element("system-out", text=_system_out(verdict)))
    return case


def _outcome_element(verdict: Verdict) -> ET.Element | None:
    """failure / error / skipped; PASS and NON-STRICT (at any level) are passes."""
    reason = verdict.reason or verdict.outcome.value.lower()
    if verdict.outcome is Outcome.FAIL:
        return _element("failure", {"message": f"[{verdict.level}] {reason}", "type": "FAIL"},
                        field_table(verdict.fields) or reason)
    if verdict.outcome is Outcome.ERROR:
        return _element("error", {"message": reason, "type": "ERROR"}, reason)
    if verdict.outcome is Outcome.XFAIL:  # a known deviation: not a failure of this build
        return _element("skipped", {"message": f"xfail: {reason}", "type": "xfail"})
    if verdict.outcome is Outcome.SKIP:
        return _element("skipped", {"message": reason})
    return None


def _system_out(verdict: Verdict) -> str:
    citation = verdict.citation
    lines = [f"{verdict.title} [{verdict.level}]",
             f"verdict: {verdict.outcome.value} (profile {verdict.profile})"]
    if verdict.outcome is Outcome.NON_STRICT:
        lines.append(f"NON-STRICT: {verdict.reason}")
        lines += ["", field_table(verdict.fields)]
    lines += ["", f"cited: {citation.repo}/{citation.page} @ {citation.revision}", f"  \"{citation.quote}\""]
    if verdict.reproduction:
        lines += ["", "reproduce:", verdict.reproduction]
    return "\n".join(lines).rstrip() + "\n"


def field_table(fields: Iterable[FieldResult]) -> str:
    """A plain-text table of checked fields: mark, field, expected, observed."""
    rows = [("", "field", "expected", "observed")]
    rows += [("ok" if f.ok else "XX", f.field, format_value(f.expected),
              format_value(f.observed)) for f in fields]
    if len(rows) == 1:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row[:3], widths)), row[3]]).rstrip()
        for row in rows
    )
