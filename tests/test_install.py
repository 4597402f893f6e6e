"""The package as a user installs it: build the wheel, install it into a fresh virtual environment,
and run the suite from an empty folder (embedded portal, shipped cassettes, pytest, lint) with no
clone and nothing beside it."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from b24_conformance import paths

CHECKOUT = paths.data_root()


def sh(*args: str | Path, cwd: Path, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("install")
    built = sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", root / "dist", CHECKOUT, cwd=root)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (root / "dist").glob("b24_conformance-*.whl")
    venv.EnvBuilder(with_pip=True).create(root / "venv")
    bin_dir = root / "venv" / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "B24_CONFORMANCE_DATA")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    done = sh(bin_dir / "python", "-m", "pip", "install", "-q", wheel, cwd=root, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    empty = root / "empty"
    empty.mkdir()
    return bin_dir, {**env, "HOME": str(root)}, empty


def test_the_wheel_carries_the_data_and_no_checkout_is_used(installed):
    bin_dir, env, empty = installed
    where = sh(bin_dir / "python", "-c", "from b24_conformance import paths; print(paths.data_root())",
               cwd=empty, env=env)
    root = Path(where.stdout.strip())
    assert root.name == "_data" and str(CHECKOUT) not in str(root)
    for part in ("schemas/openapi.json", "schemas/harness/protocol.schema.json", "suites/clauses", "suites/profiles",
                 "suites/sources/reference", "harnesses/js/b24jssdk/package-lock.json",
                 "harnesses/js/bitrix2bad/package-lock.json", "harnesses/python/httpx/harness.py",
                 "cassettes/catalog.document.cancel/_recording.json"):
        assert (root.parent / part if part.startswith("harnesses/") else root / part).exists(), part


def test_the_installed_suite_runs_against_the_embedded_portal(installed):
    bin_dir, env, empty = installed
    run = sh(bin_dir / "b24-conformance", "run", "-q", cwd=empty, env=env)
    assert run.returncode == 0, run.stdout[-1500:] + run.stderr[-1500:]
    assert "0 FAIL" in run.stdout and (empty / "reports" / "report.jsonl").is_file()


def test_the_installed_suite_replays_its_shipped_cassettes(installed):
    bin_dir, env, empty = installed
    run = sh(bin_dir / "b24-conformance", "run", "-q", "--cassettes", "--reports", empty / "offline", cwd=empty, env=env)
    assert run.returncode == 0, run.stdout[-1500:] + run.stderr[-1500:]
    assert "0 ERROR" in run.stdout and "cassette" in run.stdout


def test_the_installed_suite_runs_under_pytest_with_no_conftest(installed):
    bin_dir, env, empty = installed
    run = sh(bin_dir / "pytest", "--pyargs", "b24_conformance.suites", "-q", "-p", "no:cacheprovider", cwd=empty, env=env)
    assert run.returncode == 0, run.stdout[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout


def test_lint_runs_every_rule_on_the_install(installed):
    bin_dir, env, empty = installed
    run = sh(bin_dir / "b24-conformance", "lint", cwd=empty, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "rules ran (" in run.stdout and "citations-found" in run.stdout and "no problems" in run.stdout
