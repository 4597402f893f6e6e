"""Offline mode: the committed recording replays green with no portal; recordings carry no secret;
broken cassettes give a clear ERROR and lose nothing."""

import json
import os
import shutil

import pytest

from b24_conformance import paths
from b24_conformance.contract.clause import load_clause_file
from b24_conformance.errors import TargetConfigInvalid
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.redact import Redactor
from b24_conformance.runner import Runner, RunOptions
from b24_conformance.target.cassette import Cassettes, cassette_target, read_sidecar
from b24_conformance.target.reference import reference_settings, target_for
from b24_conformance.verdict import Outcome

COMMITTED = paths.data_root() / "cassettes" / "catalog.document.cancel"
# The seed recording holds the cancel file's clauses; each other method has its own folder (issue 11).
CLAUSES = list(load_clause_file(paths.clauses_dir() / "catalog.document.cancel.yaml").clauses)
METHOD_FOLDERS = sorted(d.name for d in (paths.data_root() / "cassettes").iterdir()
                        if d.is_dir() and d.name != "catalog.document.cancel"
                        and (paths.clauses_dir() / f"{d.name}.yaml").exists())


def replay(directory, tmp_path, clauses=CLAUSES):
    options = RunOptions(cassettes=directory, run_id=read_sidecar(directory)["run_id"], manifest_dir=tmp_path)
    return Runner(cassette_target(directory), options).run(clauses)


def test_the_committed_recording_replays_every_clause_offline(tmp_path):
    result = replay(COMMITTED, tmp_path)
    assert {v.clause_id: v.outcome for v in result.verdicts} == {c.id: Outcome.PASS for c in CLAUSES}
    assert result.info.target_kind == "cassette"


@pytest.mark.parametrize("method", METHOD_FOLDERS)
def test_each_method_recording_replays_its_clauses(method, tmp_path):
    clauses = list(load_clause_file(paths.clauses_dir() / f"{method}.yaml").clauses)
    result = replay(paths.data_root() / "cassettes" / method, tmp_path, clauses)
    assert {v.clause_id: v.outcome for v in result.verdicts} == {c.id: Outcome.PASS for c in clauses}


def test_a_subset_replays_on_its_own(tmp_path):
    chosen = [c for c in CLAUSES if c.id in ("cancel.transfer.succeeds", "cancel.oauth-query.succeeds")]
    result = replay(COMMITTED, tmp_path, chosen)
    assert [v.outcome for v in result.verdicts] == [Outcome.PASS, Outcome.PASS]


def test_recording_is_scrubbed_and_replays(tmp_path):
    directory = tmp_path / "rec"
    chosen = [c for c in CLAUSES if c.id in ("cancel.oauth-query.succeeds", "cancel.oauth-body.succeeds",
                                             "cancel.wrong-webhook-code.rejected", "cancel.draft.rejected")]
    with EmbeddedPortal(reference_settings("seed")) as portal:  # random codes, not the deterministic ones
        secrets = {c.secret for c in portal.credentials}
        options = RunOptions(cassettes=directory, record=True, run_id="rec", manifest_dir=tmp_path)
        recorded = Runner(target_for(portal), options).run(chosen)
    assert all(v.outcome is Outcome.PASS for v in recorded.verdicts)
    for path in directory.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not any(s in text for s in secrets), f"a secret reached {path.name}"
        assert "127.0.0.1" not in text
    assert "REDACTED" in (directory / "cancel.oauth-query.succeeds.yaml").read_text()
    result = replay(directory, tmp_path, chosen)
    assert all(v.outcome is Outcome.PASS for v in result.verdicts), [v.reason for v in result.verdicts]


def test_a_malformed_cassette_is_an_error_naming_it_and_the_rest_still_runs(tmp_path):
    directory = tmp_path / "cas"
    shutil.copytree(COMMITTED, directory)
    (directory / "cancel.draft.rejected.yaml").write_text("interactions: [\n  - {request: ", encoding="utf-8")
    result = replay(directory, tmp_path)
    by_id = {v.clause_id: v for v in result.verdicts}
    broken = by_id["cancel.draft.rejected"]
    assert broken.outcome is Outcome.ERROR and "cancel.draft.rejected.yaml" in broken.reason
    assert sum(v.outcome is Outcome.PASS for v in result.verdicts) == len(CLAUSES) - 1


def test_a_request_the_cassette_does_not_hold_is_an_error(tmp_path):
    directory = tmp_path / "cas"
    shutil.copytree(COMMITTED, directory)
    text = (directory / "cancel.id-missing.rejected.yaml").read_text()
    (directory / "cancel.id-missing.rejected.yaml").write_text(text.replace("catalog.document.cancel", "catalog.document.kancel"))
    result = replay(directory, tmp_path, [c for c in CLAUSES if c.id == "cancel.id-missing.rejected"])
    assert result.verdicts[0].outcome is Outcome.ERROR
    assert "no recorded response" in result.verdicts[0].reason


def test_a_folder_without_a_recording_is_refused_clearly(tmp_path):
    with pytest.raises(TargetConfigInvalid, match="not a recording sidecar"):
        cassette_target(tmp_path)
    with pytest.raises(TargetConfigInvalid, match="holds no recording"):
        Cassettes(tmp_path, record=False, redactor=Redactor())


def test_two_recordings_on_a_loaded_machine_are_byte_identical(tmp_path):
    """The deterministic portal's rate limiter runs on requests, not on the clock: the burst probe and
    the drained bucket take the same requests however busy the machine is."""
    import subprocess
    import sys

    from b24_conformance.cli import main

    chosen = ["-k", "cancel.rate-limit.*", "-k", "cancel.after-rate-limit.*", "-k", "cancel.concurrent.*",
              "-k", "cancel.receipt.*"]
    assert main(["record", "--cassettes", str(tmp_path / "quiet"), *chosen]) == 0
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3)]
    try:
        assert main(["record", "--cassettes", str(tmp_path / "busy"), *chosen]) == 0
    finally:
        for hog in hogs:
            hog.kill()
    quiet = {p.name: p.read_bytes() for p in (tmp_path / "quiet").glob("*.yaml")}
    busy = {p.name: p.read_bytes() for p in (tmp_path / "busy").glob("*.yaml")}
    assert len(quiet) == 6 and quiet == busy
    sidecars = [json.loads((tmp_path / d / "_recording.json").read_text()) for d in ("quiet", "busy")]
    for data in sidecars:
        data.pop("recorded_at")
    assert sidecars[0] == sidecars[1]


def test_run_cassettes_replays_every_shipped_recording_as_one_run(tmp_path, capsys):
    """`run --cassettes` with no folder: every clause of every clause file, each from the recording
    of its own method, in one report; none is left to miss (ERROR)."""
    from b24_conformance.cli import main
    from b24_conformance.contract.clause import load_clauses
    from b24_conformance.report.jsonreport import load_report

    code = main(["run", "-q", "--cassettes", "--reports", str(tmp_path), "--manifest-dir", str(tmp_path / "m")])
    out = capsys.readouterr().out
    folders = sorted(p.name for p in paths.cassettes_dir().iterdir() if (p / "_recording.json").is_file())
    assert len(folders) > 1 and f"from the shipped cassettes, {len(folders)} recording(s)" in out
    report = load_report(tmp_path / "report.json")
    outcomes = {v.clause_id: v.outcome.name for v in report.verdicts}
    assert code == 0
    assert set(outcomes) == {c.id for c in load_clauses()}
    assert set(outcomes.values()) == {"PASS"}


def test_a_run_process_replays_without_importing_aiohttp(tmp_path):
    """vcrpy imports every library it can patch; the `run` command speaks only httpx, so its process
    imports vcrpy with the others hidden (aiohttp, requests, urllib3: most of vcrpy's import time)
    and still replays every clause."""
    import subprocess
    import sys

    others = ("aiohttp", "requests", "urllib3")
    script = ("import sys; from b24_conformance.cli import entry; code = entry(); "
              f"print('imported' if any(m in sys.modules for m in {others!r}) else 'aiohttp not imported'); "
              "sys.exit(code)")
    argv = ["run", "-q", "--cassettes", "-k", "cancel.receipt.*", "-k", "conduct.receipt.*",
            "--reports", str(tmp_path / "r"), "--manifest-dir", str(tmp_path / "m")]
    done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, check=False,
                          env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 clause(s): 2 PASS" in done.stdout and "aiohttp not imported" in done.stdout


def test_a_reimported_vcrpy_records_with_its_own_classes(tmp_path):
    """pytester's in-process sessions drop the modules they imported: a vcrpy imported again must
    not meet an indexed cassette built on the old one (its 'no cassette yet' error went uncaught,
    so recording into an empty folder failed)."""
    import sys

    import httpx

    from b24_conformance.target.cassette import indexed_cassette_class

    def vcr_modules() -> dict:
        return {k: v for k, v in sys.modules.items() if k == "vcr" or k.startswith("vcr.")}

    old_class = indexed_cassette_class()
    saved = vcr_modules()
    for name in saved:
        del sys.modules[name]
    try:
        new_class = indexed_cassette_class()
        assert new_class is not old_class
        assert issubclass(new_class, sys.modules["vcr.cassette"].Cassette)
        with EmbeddedPortal(reference_settings(tls=False)) as portal:
            cassettes = Cassettes(tmp_path, record=True, redactor=Redactor())
            with cassettes.use("fresh"):
                assert httpx.get(portal.base_url + "/health").status_code == 200
        assert "/health" in (tmp_path / "fresh.yaml").read_text("utf-8")
    finally:
        for name in vcr_modules():
            del sys.modules[name]
        sys.modules.update(saved)


def test_record_without_a_folder_re_records_each_clause_file_into_its_own(tmp_path, monkeypatch):
    """`record` (no --cassettes) writes the shipped recordings: each clause into its own file's
    folder, exactly once; a --method that picks part of a file joins the folder's other cassettes."""
    import shutil

    from b24_conformance import paths
    from b24_conformance.cli import main
    from b24_conformance.contract.clause import load_clauses
    from b24_conformance.target.cassette import read_sidecar

    data = tmp_path / "data"
    shutil.copytree(paths.schemas_dir(), data / "schemas")
    shutil.copytree(paths.data_root() / "suites", data / "suites", ignore=shutil.ignore_patterns("sources"))
    shutil.copytree(paths.cassettes_dir() / "catalog.document.cancel", data / "cassettes" / "catalog.document.cancel")
    monkeypatch.setenv("B24_CONFORMANCE_DATA", str(data))
    clauses = load_clauses(data / "suites" / "clauses")
    own = {c.id for c in clauses if c.file_method == "catalog.document.cancelList"}
    seed = {c.id for c in clauses if c.file_method == "catalog.document.cancel"}
    assert main(["record", "-m", "catalog.document.cancelList", "--manifest-dir", str(tmp_path / "m")]) == 0
    folder = data / "cassettes" / "catalog.document.cancelList"
    assert {p.stem for p in folder.glob("*.yaml")} == own | {"_open", "_close"}
    assert set(read_sidecar(folder)["clauses"]) == own
    # the seed file's cancelList clauses were re-recorded where they live, beside its other cassettes
    assert set(read_sidecar(data / "cassettes" / "catalog.document.cancel")["clauses"]) == seed
    assert {p.stem for p in (data / "cassettes" / "catalog.document.cancel").glob("*.yaml")} == seed | {"_open", "_close"}
