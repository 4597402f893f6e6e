"""The report stream: written as verdicts arrive, readable after a kill, the source of every view."""

import json

import pytest

from b24_conformance.errors import ContractError, UsageError
from b24_conformance.report import write_reports
from b24_conformance.report.jsonreport import load_json, load_report
from b24_conformance.report.stream import ReportStream, read_stream
from b24_conformance.verdict import Outcome


def stream_of(result, directory, *, finish=True):
    stream = ReportStream(directory)
    stream.start(result.info)
    for n, v in enumerate(result.verdicts, 1):
        stream.verdict(v, n, len(result.verdicts))
    if finish:
        stream.finish(result)
    else:
        stream.close()
    return stream.path


def test_a_finished_stream_reads_back_as_the_run(run, tmp_path):
    result = run()
    path = stream_of(result, tmp_path)
    lines = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert [next(iter(line)) for line in lines] == ["header", *["verdict"] * 5, "footer"]
    assert read_stream(path) == result
    assert load_report(tmp_path) == result  # a folder means its stream


def test_each_verdict_is_on_disk_as_soon_as_it_is_graded(run, tmp_path):
    result = run()
    stream = ReportStream(tmp_path)
    stream.start(result.info)
    stream.verdict(result.verdicts[0], 1, 5)
    partial = read_stream(stream.path)  # read while the run is still going
    assert partial.verdicts == result.verdicts[:1] and not partial.complete
    stream.close()


def test_a_killed_run_leaves_a_partial_report_that_says_so(run, verdict, tmp_path):
    result = run(verdict("a.b.c"), verdict("a.b.d"))
    path = stream_of(result, tmp_path, finish=False)
    with path.open("a", encoding="utf-8") as f:
        f.write('{"verdict": {"clause_id": "a.b.e", "lev')  # the line being written when the kill came
    partial = read_stream(path)
    assert not partial.complete and [v.clause_id for v in partial.verdicts] == ["a.b.c", "a.b.d"]
    assert partial.exit_code == 3  # a gate that did not finish did not pass
    written = write_reports(partial, tmp_path / "views")
    assert load_json(written["json"]).complete is False
    assert "partial" in written["html"].read_text("utf-8")
    assert 'name="complete" value="false"' in written["junit"].read_text("utf-8")


def test_a_must_failure_in_a_partial_run_still_fails_the_gate(run, verdict, tmp_path):
    path = stream_of(run(verdict(outcome=Outcome.FAIL)), tmp_path, finish=False)
    assert read_stream(path).exit_code == 1


@pytest.mark.parametrize("damage, message", [
    (lambda lines: lines[1:], "does not start with its header"),
    (lambda lines: [lines[0], "not json", *lines[1:]], "not JSON"),
    (lambda lines: [*lines, lines[1]], "a line after the footer"),
    (lambda lines: [lines[0], lines[0], *lines[1:]], "a second header"),
    (lambda lines: [lines[0], '{"verdict": {"clause_id": 3}}', *lines[1:]], "invalid report"),
    (lambda lines: [], "empty report stream"),
])
def test_a_damaged_stream_names_the_file_and_line(run, tmp_path, damage, message):
    path = stream_of(run(), tmp_path)
    path.write_text("\n".join(damage(path.read_text("utf-8").splitlines())) + "\n", encoding="utf-8")
    with pytest.raises(ContractError, match=message) as caught:
        read_stream(path)
    assert str(path) in str(caught.value)


def test_the_reports_folder_is_checked_before_anything_runs(tmp_path):
    blocker = tmp_path / "reports"
    blocker.write_text("a file, not a folder")
    with pytest.raises(UsageError, match="not a folder"):
        ReportStream(blocker)
    with pytest.raises(UsageError, match="not a folder"):
        ReportStream(blocker / "below")


def test_a_secret_never_reaches_the_stream(run, verdict, tmp_path):
    stream = ReportStream(tmp_path, secrets=["s3cr3t-code"])
    stream.start(run().info)
    with pytest.raises(ValueError, match="stream"):
        stream.verdict(verdict(reason="echoed s3cr3t-code"), 1, 1)
    stream.close()
    assert "s3cr3t-code" not in stream.path.read_text("utf-8")
