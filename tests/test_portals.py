"""Several portals side by side: `run --target a --target b` into one portal × clause matrix."""

from __future__ import annotations

import json

import yaml

from b24_conformance.cli import main
from b24_conformance.portal.server import EmbeddedPortal, target_config
from b24_conformance.portal.settings import PortalSettings
from b24_conformance.target.config import known_roles


def test_two_portals_run_side_by_side_into_one_matrix(tmp_path, capsys):
    with EmbeddedPortal(PortalSettings()) as good, EmbeddedPortal(PortalSettings(mutants=("cancel-draft-accepted",))) as bad:
        targets = []
        for name, portal in (("good", good), ("bad", bad)):
            config = {**target_config(portal, known_roles()), "name": name}
            path = tmp_path / f"{name}.yaml"
            path.write_text(yaml.safe_dump(config), encoding="utf-8")
            targets += ["--target", str(path)]
        code = main(["run", *targets, "--allow-writes", "-k", "cancel.draft.*", "-k", "cancel.receipt.*",
                     "--reports", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 1  # the broken portal fails a MUST clause
    matrix = json.loads((tmp_path / "r" / "portals.json").read_text("utf-8"))
    assert matrix["portals"]["good"]["cells"]["cancel.draft.rejected"]["outcome"] == "PASS"
    assert matrix["portals"]["bad"]["cells"]["cancel.draft.rejected"]["outcome"] == "FAIL"
    for name in ("good", "bad"):  # JUnit, JSON and HTML per portal
        for report in ("junit.xml", "report.json", "report.html", "report.jsonl", "run.log"):
            assert (tmp_path / "r" / "portals" / name / report).is_file()
    assert "2 portals in" in out and "side by side" in out
    assert "portals.html" in out


def test_a_bad_target_among_several_is_a_usage_error(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text("credentials: {admin: {webhook: 'https://a.example/rest/1/abcdefgh/'}}\n")
    assert main(["run", "--target", str(good), "--target", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read target config" in capsys.readouterr().err
