"""Bad input gets one clear line, the right exit code, no traceback, and loses nothing."""

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from b24_conformance import paths
from b24_conformance.cli import main
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings

CLI = [sys.executable, "-m", "b24_conformance.cli"]
COMMITTED = paths.data_root() / "cassettes" / "catalog.document.cancel"


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    first = err.strip().splitlines()[0]
    assert first.startswith("b24-conformance: error: ")
    return err


@pytest.fixture(scope="module")
def plain_portal():
    with EmbeddedPortal(PortalSettings(tls=False)) as portal:
        yield portal


def test_cleanup_without_a_target_refuses_to_guess(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("B24_WEBHOOK", raising=False)
    monkeypatch.delenv("B24_OAUTH_TOKEN", raising=False)
    assert main(["cleanup", "--manifest-dir", str(tmp_path)]) == 2
    assert "cleanup needs the portal to clean" in one_error_line(capsys)


@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "--port 70000: a TCP port is between 1 and 65535"),
    (["--port=-5"], "--port -5: a TCP port is between 1 and 65535"),
    (["--host", "bogus.invalid"], "--host bogus.invalid: not an address this machine can listen on"),
    (["--db", "/nonexistent/x.db"], "--db /nonexistent/x.db: the folder /nonexistent does not exist"),
    (["--mutant", "racy-cancle"], "did you mean 'racy-cancel'"),
    (["--workers", "-1"], "--workers -1"),
])
def test_portal_serve_bad_options(args, message, capsys):
    assert main(["portal", "serve", *args]) == 2
    assert message in one_error_line(capsys)


def test_portal_serve_on_a_busy_port(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["portal", "serve", "--port", str(port)]) == 2
    err = one_error_line(capsys)
    assert f"cannot listen on 127.0.0.1 port {port}" in err and "in use" in err


@pytest.mark.parametrize("text, message", [
    ("credentials: {admin: {webhook: 'https://a.example/rest/1/abcdefgh/'}}\nrate: {drain_per_s: 0}\n",
     "must both be above 0"),
    ("credentials: {admin: {webhook: 'https://a.example/rest/1/abcdefgh/'}, no-cancel-rigth: {webhook_env: X}}\n",
     "did you mean 'no-cancel-right'?"),
])
def test_a_bad_target_config_is_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["run", "--target", str(path), "--reports", str(tmp_path / "r")]) == 2
    assert message in one_error_line(capsys)


def test_a_target_config_that_is_not_utf8_is_exit_2(tmp_path, capsys):
    path = tmp_path / "t.yaml"
    path.write_bytes("name: portál\n".encode("latin-1"))
    assert main(["run", "--target", str(path)]) == 2
    assert "not UTF-8" in one_error_line(capsys)


def test_reports_pointing_at_a_file_fails_before_any_clause_runs(tmp_path, capsys):
    blocker = tmp_path / "reports"
    blocker.write_text("keep me")
    assert main(["run", "-k", "cancel.draft.*", "--reports", str(blocker)]) == 2
    out, err = capsys.readouterr()
    assert "not a folder" in err and "Traceback" not in err
    assert "PASS" not in out  # nothing ran
    assert blocker.read_text() == "keep me"


def test_openapi_into_a_closed_pipe_is_quiet():
    proc = subprocess.run(f"{sys.executable} -m b24_conformance.cli openapi | head -1", shell=True,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.stdout.strip() == "{"
    assert proc.stderr == ""


@pytest.fixture
def no_vcrpy(tmp_path):
    """An environment in which `import vcr` fails, as in an install without vcrpy."""
    blocked = tmp_path / "blocked"
    (blocked / "vcr").mkdir(parents=True)
    (blocked / "vcr" / "__init__.py").write_text("raise ImportError('vcrpy is not installed')\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocked), *sys.path])}


def test_record_without_vcrpy_says_so_and_deletes_nothing(tmp_path, no_vcrpy):
    copy = tmp_path / "cassettes"
    shutil.copytree(COMMITTED, copy)
    before = sorted(p.name for p in copy.iterdir())
    proc = subprocess.run([*CLI, "record", "--cassettes", str(copy)], capture_output=True, text=True,
                          env=no_vcrpy, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "needs vcrpy" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in copy.iterdir()) == before


def test_replay_without_vcrpy_is_a_usage_error(tmp_path, no_vcrpy):
    proc = subprocess.run([*CLI, "run", "--cassettes", str(COMMITTED), "--reports", str(tmp_path / "r")],
                          capture_output=True, text=True, env=no_vcrpy, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "needs vcrpy" in proc.stderr and "Traceback" not in proc.stderr


def test_a_failed_recording_keeps_the_old_cassettes(tmp_path, capsys, monkeypatch):
    copy = tmp_path / "cassettes"
    shutil.copytree(COMMITTED, copy)
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    # a portal that cannot serve its own clauses: every recorded clause ends in ERROR
    from b24_conformance import engine
    monkeypatch.setattr(engine.Engine, "_perform", lambda self, clause, world: (_ for _ in ()).throw(
        engine.TargetError("injected: the portal went away")))
    assert main(["record", "--cassettes", str(copy), "-k", "cancel.draft.*"]) == 3
    assert "is unchanged" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before
    assert not list(tmp_path.glob(".cassettes.recording-*"))


def test_a_typo_in_the_webhook_code_is_a_usage_error_not_a_fail(plain_portal, tmp_path, capsys):
    wrong = plain_portal.webhook_url("admin").rstrip("/")[:-3] + "zzz/"
    assert main(["run", "--webhook", wrong, "--allow-writes", "--reports", str(tmp_path / "r")]) == 2
    err = one_error_line(capsys)
    assert "the portal refused this webhook (401" in err and "check the code" in err
    assert "FAIL" not in capsys.readouterr().out


def test_an_unreachable_portal_is_exit_3_naming_the_port(tmp_path, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and nothing listens once closed
    code = main(["run", "--webhook", f"http://127.0.0.1:{port}/rest/1/abcdefgh/", "--reports", str(tmp_path / "r")])
    assert code == 3
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "Traceback" not in err and "abcdefgh" not in err


def test_a_webhook_with_a_method_on_its_end_says_to_remove_it(plain_portal, capsys):
    url = plain_portal.webhook_url("admin") + "catalog.document.cancel"
    assert main(["run", "--webhook", url]) == 2
    err = one_error_line(capsys)
    assert "remove 'catalog.document.cancel'" in err


def test_reasons_are_whole_when_the_output_is_not_a_terminal(tmp_path, capsys, plain_portal):
    assert main(["run", "-k", "cancel.no-store-right.*", "--webhook", plain_portal.webhook_url("admin"),
                 "--reports", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "r" / "report.json").read_text("utf-8"))
    reason = report["verdicts"][0]["reason"]
    assert len(reason) > 50 and reason in out


def test_a_portal_with_inventory_management_off_skips_what_needs_conducting(tmp_path, capsys):
    with EmbeddedPortal(PortalSettings(tls=False)) as portal:
        url = portal.webhook_url("inventory-off-admin")  # mode.status answers N on that portal
        assert main(["run", "--webhook", url, "--allow-writes", "-k", "cancel.receipt.*",
                     "--reports", str(tmp_path / "r")]) == 0
    report = json.loads((tmp_path / "r" / "report.json").read_text("utf-8"))
    assert report["verdicts"][0]["outcome"] == "SKIP"
    assert "inventory management is off" in report["verdicts"][0]["reason"]


def test_method_selects_the_clauses_of_a_method_and_a_typo_gets_a_suggestion(tmp_path, capsys):
    from b24_conformance.contract.clause import load_clauses

    wanted = {c.id for c in load_clauses() if any(m.startswith("catalog.document.conduct") for m in c.methods)}
    code = main(["run", "-q", "--method", "catalog.document.conduct*", "--reports", str(tmp_path),
                 "--manifest-dir", str(tmp_path / "m")])
    out = capsys.readouterr().out
    assert code == 0 and f"{len(wanted)} clause(s): {len(wanted)} PASS" in out
    assert main(["run", "-q", "--method", "catalog.document.condct", "--reports", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") <= 2 and "did you mean 'catalog.document.conduct'" in err and "Traceback" not in err


@pytest.mark.parametrize("fixture, message", [
    ("supplier=101", "expected NAME=ID with NAME one of restricted_store_id, visible_store_id, supplier_contact_id"),
    ("supplier_contact=101", "did you mean supplier_contact_id?"),
    ("supplier_contact_id", "expected NAME=ID"),
    ("supplier_contact_id=acme", "the id must be a whole number"),
    ("restricted_store_id=-3", "the id must be 0 or more"),
])
def test_a_bad_fixture_option_is_one_line_and_exit_2(fixture, message, plain_portal, tmp_path, capsys):
    webhook = plain_portal.webhook_url("admin")
    assert main(["run", "-q", "--webhook", webhook, "--fixture", fixture, "-k", "cancel.draft.rejected",
                 "--reports", str(tmp_path), "--manifest-dir", str(tmp_path)]) == 2
    assert message in one_error_line(capsys)


@pytest.mark.parametrize("where", [[], ["--cassettes"]])
def test_a_fixture_for_the_embedded_portal_or_a_replay_is_refused(where, tmp_path, capsys):
    args = ["run", "-q", *where, "--fixture", "supplier_contact_id=101", "-k", "cancel.draft.rejected",
            "--reports", str(tmp_path)]
    assert main(args) == 2
    assert "--fixture names rows of a live portal" in one_error_line(capsys)


def test_a_fixture_option_gives_a_webhook_run_its_supplier(plain_portal, tmp_path, capsys):
    """A live run with one webhook and no target config: without the supplier the receipt clauses
    are skipped, saying what to pass; with --fixture they run and pass."""
    webhook = plain_portal.webhook_url("admin")
    common = ["run", "-q", "--webhook", webhook, "--allow-writes", "-k", "conduct.receipt.succeeds",
              "--reports", str(tmp_path), "--manifest-dir", str(tmp_path)]
    assert main(common) == 0
    skipped = json.loads((tmp_path / "report.json").read_text())["verdicts"][0]
    assert skipped["outcome"] == "SKIP" and "--fixture supplier_contact_id=ID" in skipped["reason"]
    supplier = plain_portal.fixtures["supplier_contact_id"]
    assert main([*common, "--fixture", f"supplier_contact_id={supplier}"]) == 0
    assert json.loads((tmp_path / "report.json").read_text())["verdicts"][0]["outcome"] == "PASS"
