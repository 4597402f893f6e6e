"""The HTML report: self-contained, escaped, failing clauses open."""

from __future__ import annotations

import html.parser
import json
from pathlib import Path

import pytest

from b24_conformance.report import write_reports
from b24_conformance.report.html import to_html
from b24_conformance.verdict import Outcome

HOSTILE = '<script>alert("pwned")</script>'


class Page(html.parser.HTMLParser):
    """Collects elements with their attributes, script contents and all text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def clauses(page: Page) -> dict[str, dict[str, str | None]]:
    found = [a for a in page.find("details") if "clause" in (a["class"] or "").split()]
    return {a["id"].removeprefix("clause-"): a for a in found}


def test_hostile_script_in_a_response_body_is_escaped(run, verdict, wire):
    text = to_html(run(verdict(exchanges=(wire(HOSTILE),), reason=HOSTILE, title=HOSTILE)))
    assert HOSTILE not in text
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in text
    page = Page(text)
    assert len(page.find("script")) == 1  # only ours
    assert all("pwned" not in s for s in page.scripts)
    assert any(HOSTILE in t for t in page.text)  # shown to the reader as text


def test_failing_clauses_are_open_and_passing_ones_closed(run):
    details = clauses(Page(to_html(run())))
    assert "open" in details["catalog.document.cancel.draft.rejected"]
    assert "open" in details["catalog.document.conduct.draft.accepted"]  # ERROR
    assert "open" not in details["catalog.document.cancel.conducted.accepted"]
    assert details["catalog.document.cancel.missing.rejected"]["data-outcome"] == "NON-STRICT"


def test_self_contained_with_no_external_assets(run):
    text = to_html(run())
    page = Page(text)
    assert page.find("link") == [] and page.find("img") == []
    assert all("src" not in a for a in page.find("script"))
    assert "Content-Security-Policy" in text


def test_filter_has_one_checkbox_per_outcome(run):
    boxes = Page(to_html(run())).find("input", type="checkbox")
    assert [b["data-outcome"] for b in boxes] == ["PASS", "NON-STRICT", "FAIL", "XFAIL", "SKIP", "ERROR"]


def test_field_table_highlights_mismatches_and_shows_the_diff(run, verdict):
    text = to_html(run(verdict(outcome=Outcome.FAIL)))
    page = Page(text)
    assert len(page.find("tr", **{"class": "mismatch"})) == 1
    assert "<del>" in text and "<ins>" in text


def test_citation_reproduction_and_wire_log(run, verdict):
    page = Page(to_html(run(verdict())))
    text = "".join(page.text)
    assert "The document must be conducted." in text
    assert "curl -sS -X POST" in text
    assert page.find("button", **{"class": "copy", "data-target": "repro-0"})
    assert page.find("pre", id="repro-0")
    pretty = json.dumps({"error": "ERROR_DOCUMENT_STATUS", "error_description": "Document is not conducted"},
                        indent=2)
    assert pretty in text
    links = page.find("a")
    assert links[0]["href"].startswith("https://github.com/bitrix24/b24restdocs/blob/0123abcd/")


def test_header_shows_run_metadata_and_gate(run):
    text = "".join(Page(to_html(run())).text)
    assert "run-20250101-0001" in text and "seed-2024" in text
    assert "gate on MUST clauses: FAILED — 1 clause(s) failed" in text


def test_refuses_to_write_a_secret(run, verdict):
    with pytest.raises(ValueError, match="HTML") as caught:
        to_html(run(verdict(reason="leaked a&b-key")), secrets=["a&b-key"])
    assert "a&b-key" not in str(caught.value)


def test_write_reports_writes_all_three_files(run, tmp_path: Path):
    paths = write_reports(run(), tmp_path / "out")
    assert {p.name for p in paths.values()} == {"junit.xml", "report.json", "report.html"}
    assert all(p.stat().st_size > 0 for p in paths.values())


def test_write_reports_writes_nothing_when_a_secret_leaks(run, verdict, tmp_path: Path):
    with pytest.raises(ValueError):
        write_reports(run(verdict(reason="hunter2")), tmp_path, secrets=["hunter2"])
    assert list(tmp_path.iterdir()) == []
