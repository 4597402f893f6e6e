"""The JUnit XML report."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from b24_conformance.report.junit import classname, to_junit_xml
from b24_conformance.verdict import Outcome


def parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def test_suite_counts_and_properties(run):
    suite = parse(to_junit_xml(run()))
    assert suite.tag == "testsuite"
    expected = {"name": "b24-conformance", "tests": "5", "failures": "1", "errors": "1", "skipped": "1",
                "time": "1.500"}
    assert expected.items() <= suite.attrib.items()
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["run_id"] == "run-20250101-0001"
    assert props["profile"] == "seed-2024"
    assert props["target"] == "reference portal http://127.0.0.1:40123"
    assert props["tool_version"] == "0.1.0"


def test_one_testcase_per_verdict_named_by_clause_and_method(run):
    cases = parse(to_junit_xml(run())).findall("testcase")
    assert [c.get("name") for c in cases][:2] == ["catalog.document.cancel.conducted.accepted",
                                                  "catalog.document.cancel.draft.rejected"]
    assert cases[0].get("classname") == "catalog.document.cancel"
    assert cases[0].get("time") == "0.013"


def test_failure_carries_the_first_mismatch_and_the_field_table(run):
    failing = parse(to_junit_xml(run())).findall("testcase")[1]
    failure = failing.find("failure")
    assert failure is not None and failure.get("type") == "FAIL"
    assert failure.get("message") == ('[MUST] body.error_description: expected "Document is not conducted", '
                                      'got "Document not found"')
    rows = failure.text.splitlines()
    assert rows[0].split() == ["field", "expected", "observed"]
    assert any(r.startswith("XX") and "body.error_description" in r for r in rows)
    assert any(r.startswith("ok") and "http.status" in r for r in rows)


def test_error_skip_and_non_strict(run):
    cases = {c.get("name"): c for c in parse(to_junit_xml(run())).findall("testcase")}
    error = cases["catalog.document.conduct.draft.accepted"]
    assert error.find("error").get("message") == "TargetUnreachable: timed out"
    skipped = cases["catalog.document.conduct.nostock.rejected"]
    assert skipped.find("skipped").get("message") == "no store with stock"
    non_strict = cases["catalog.document.cancel.missing.rejected"]
    assert [child.tag for child in non_strict] == ["system-out"]
    assert "NON-STRICT: matches profile docs-en-current" in non_strict.find("system-out").text


def test_system_out_has_the_curl_reproduction(run):
    for case in parse(to_junit_xml(run())).findall("testcase"):
        assert "curl -sS -X POST" in case.find("system-out").text


def test_classname_falls_back_to_the_profile(verdict):
    assert classname(verdict("short.id")) == "seed-2024"
    assert classname(verdict("cancel.draft.rejected")) == "cancel"


def test_illegal_xml_characters_are_stripped(run, verdict, wire):
    nasty = "bad\x00\x01\x0b\ufffe\udcff end \u043e\u043a"
    v = verdict(outcome=Outcome.ERROR, reason=nasty, exchanges=(wire(nasty),), reproduction=nasty)
    suite = parse(to_junit_xml(run(v)))
    error = suite.find("testcase/error")
    assert error.get("message") == "bad end \u043e\u043a"


def test_refuses_to_write_a_secret(run, verdict):
    leaky = verdict(reproduction="curl https://portal.example/rest/1/s3cr3tc0de/x")
    with pytest.raises(ValueError, match="JUnit") as caught:
        to_junit_xml(run(leaky), secrets=["s3cr3tc0de"])
    assert "s3cr3tc0de" not in str(caught.value)
    to_junit_xml(run(leaky), secrets=["not-there"])


def test_secret_is_caught_even_after_xml_escaping(run, verdict):
    leaky = verdict(reason="tok<en>&1", outcome=Outcome.SKIP)
    with pytest.raises(ValueError):
        to_junit_xml(run(leaky), secrets=["tok<en>&1"])


def test_pass_has_no_outcome_element(run, verdict):
    case = parse(to_junit_xml(run(verdict(outcome=Outcome.PASS)))).find("testcase")
    assert [child.tag for child in case] == ["system-out"]


def test_the_forbidden_characters_are_exactly_those_xml_does_not_allow():
    import re

    from b24_conformance.report.junit import xml_safe

    not_allowed = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # XML 1.0's Char
    everything = "".join(map(chr, range(0x110000)))
    assert xml_safe(everything) == not_allowed.sub("", everything)
