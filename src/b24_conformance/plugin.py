"""The pytest plugin: clauses become parametrized tests whose node ids are the clause ids.

A test module opts in by naming its clause file or files (`CLAUSE_FILE = "catalog.document.cancel.yaml"`,
or a glob such as `"*.yaml"`) and asking for the `b24_verdict` fixture; the package ships one,
`b24_conformance.suites.test_clauses`. By default the run targets the embedded
reference portal, started once per session on loopback; `--b24-webhook`, `--b24-oauth-token`,
`--b24-target` or `--b24-cassettes` choose another target through the resolver the CLI uses. SKIP becomes pytest's skip with the reason, ERROR an error, FAIL a failure that
prints expected vs observed, NON-STRICT a pass with a warning.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

RUNNER_KEY = pytest.StashKey["object"]()
STREAM_KEY = pytest.StashKey["object"]()
VERDICTS_KEY = pytest.StashKey[list]()


class NonStrictWarning(UserWarning):
    """A clause matched another profile's expectation, not the selected one."""


class ShouldFailedWarning(UserWarning):
    """A SHOULD clause failed; without --b24-strict it does not fail the session."""



def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("b24-conformance")
    group.addoption("--b24-profile", default="seed", help="expectation profile to grade against (default: seed)")
    group.addoption("--b24-portal-profile", default=None, help="profile the embedded portal speaks (default: same)")
    group.addoption("--b24-mutant", action="append", default=[], help="switch on a deviation in the embedded portal")
    group.addoption("--b24-webhook", default=None, help="run against a live portal's webhook URL (or env B24_WEBHOOK)")
    group.addoption("--b24-oauth-token", default=None, help="an OAuth access token (or env B24_OAUTH_TOKEN)")
    group.addoption("--b24-oauth-endpoint", default=None, help="https://<portal>/rest/ for --b24-oauth-token alone")
    group.addoption("--b24-target", default=None, help="a target config YAML (see suites/targets/)")
    group.addoption("--b24-fixture", action="append", default=[], metavar="NAME=ID",
                    help="a live portal's row the suite uses, over the target config's (supplier_contact_id, ...)")
    group.addoption("--b24-cassettes", default=None, help="replay a recording from this folder, no portal at all")
    # pytest-recording's record modes, where they fit: `none` replays with the network blocked,
    # `rewrite` records afresh from a deterministic embedded portal
    group.addoption("--b24-record-mode", default="none", choices=("none", "rewrite"),
                    help="with --b24-cassettes: none replays (network blocked), rewrite re-records (default: none)")
    group.addoption("--b24-on-prem", action="store_true",
                    help="the embedded portal plays a self-hosted one (no operating keys in `time`)")
    group.addoption("--b24-allow-writes", action="store_true", help="let the suite write to a live portal's sandbox")
    group.addoption("--b24-allow-burst", action="store_true", help="run the rate-limit probe on a live portal")
    group.addoption("--b24-strict", action="store_true", help="SHOULD clauses fail the session too (default: MUST only)")
    group.addoption("--b24-baseline", default=None,
                    help="known deviations of the target (from `b24-conformance baseline`): a known FAIL is xfail")
    group.addoption("--b24-client", default=None,
                    help="send each clause's request through a client adapter (a built-in row or package.module:factory)")
    group.addoption("--b24-reports", default=None, help="also write the report stream and its views here")
    group.addoption("--run-slow", action="store_true", help="run tests marked slow (long sweeps)")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[VERDICTS_KEY] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="long sweep: pass --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "clause" not in metafunc.fixturenames:
        return
    from . import paths
    from .contract.clause import load_clause_file

    name = getattr(metafunc.module, "CLAUSE_FILE", None)
    if not name:
        raise pytest.UsageError(f"{metafunc.module.__name__} asks for `clause` but sets no CLAUSE_FILE")
    files = sorted(paths.clauses_dir().glob(name))
    if not files:
        raise pytest.UsageError(f"{metafunc.module.__name__}: no clause file matches CLAUSE_FILE = {name!r} "
                                f"in {paths.clauses_dir()}")
    clauses = [c for path in files for c in load_clause_file(path).clauses]
    marks = {}
    for method in sorted({m for c in clauses for m in c.methods}):  # registered here: --strict-markers accepts them
        marks[method] = method_mark(method)
        metafunc.config.addinivalue_line("markers", f"{marks[method]}: the clauses of {method} (b24-conformance)")
    metafunc.parametrize("clause", [pytest.param(c, id=c.id, marks=[getattr(pytest.mark, marks[m]) for m in c.methods])
                                    for c in clauses])


def method_mark(method: str) -> str:
    """The pytest mark of a method's clauses: `-m catalog_document_conduct` selects them."""
    return method.replace(".", "_")


@pytest.fixture(scope="session")
def b24_runner(request: pytest.FixtureRequest):
    """The session's Runner, against the embedded reference portal unless told otherwise."""
    from contextlib import ExitStack

    from .runner import Runner, RunOptions, prepare_run
    from .target.resolve import TargetChoice

    opt = request.config.getoption
    choice = TargetChoice(
        webhook=opt("--b24-webhook"), oauth_token=opt("--b24-oauth-token"),
        oauth_endpoint=opt("--b24-oauth-endpoint"), target_file=opt("--b24-target"),
        cassettes=opt("--b24-cassettes"), portal_profile=opt("--b24-portal-profile") or opt("--b24-profile"),
        mutants=tuple(opt("--b24-mutant")), option_prefix="--b24-", on_prem=opt("--b24-on-prem"),
        record=opt("--b24-record-mode") == "rewrite", fixtures=tuple(opt("--b24-fixture")),
    )
    options = RunOptions(profile=opt("--b24-profile"), allow_writes=opt("--b24-allow-writes"),
                         allow_burst=opt("--b24-allow-burst"), option_prefix="--b24-", strict=opt("--b24-strict"),
                         baseline=Path(opt("--b24-baseline")) if opt("--b24-baseline") else None)
    with ExitStack() as stack:
        config, options = prepare_run(choice, options, stack)
        runner = Runner(config, options)
        clauses = _session_clauses(request.session)
        stack.callback(lambda: runner.engine.close(clauses))
        runner.preflight()
        runner.engine.open(clauses)  # run-level set-up (its own cassette offline), as `run` does
        if opt("--b24-client"):
            from .clients.matrix import attach
            stack.callback(attach(runner, opt("--b24-client")).stop)
        request.config.stash[RUNNER_KEY] = runner
        directory = opt("--b24-reports")
        if directory:
            from .report.stream import ReportStream
            stream = ReportStream(Path(directory), secrets=runner.redactor.secrets)
            stream.start(runner.run_info(_session_clauses(request.session)))
            request.config.stash[STREAM_KEY] = stream
        yield runner


@pytest.fixture(scope="session")
def b24_portal_factory():
    """Start reference portals for your own integration tests, as moto serves AWS users:
    `b24_portal_factory(profile="docs-ru", mutants=("no-time-block",), tls=True)` returns a running
    `EmbeddedPortal` (`.webhook_url("admin")`, `.base_url`, `.tls_base_url`, `.ca_path`,
    `.credentials`); each is stopped when the session ends."""
    from contextlib import ExitStack

    from .portal.server import EmbeddedPortal
    from .portal.settings import PortalSettings

    with ExitStack() as stack:
        def start(**settings):
            return stack.enter_context(EmbeddedPortal(PortalSettings(**settings)))
        yield start


@pytest.fixture(scope="session")
def b24_portal(request: pytest.FixtureRequest, b24_portal_factory):
    """One reference portal over TLS for the session, speaking `--b24-portal-profile` with the
    `--b24-mutant` deviations on: a faithful local Bitrix24 for a client's own tests."""
    opt = request.config.getoption
    return b24_portal_factory(profile=opt("--b24-portal-profile") or opt("--b24-profile"), tls=True,
                              mutants=tuple(opt("--b24-mutant")), on_prem=opt("--b24-on-prem"))


def _session_clauses(session: pytest.Session) -> list:
    return [item.callspec.params["clause"] for item in session.items
            if hasattr(item, "callspec") and "clause" in item.callspec.params]


@pytest.fixture
def b24_verdict(request: pytest.FixtureRequest, b24_runner, clause):
    """Run the clause and hand back its Verdict (already written to the session's report stream)."""
    from .verdict import Outcome

    verdict = b24_runner.run_clause(clause)
    verdicts = request.config.stash[VERDICTS_KEY]
    verdicts.append(verdict)
    stream = request.config.stash.get(STREAM_KEY, None)
    if stream is not None:
        stream.verdict(verdict, len(verdicts), len(_session_clauses(request.session)))
    if verdict.outcome is Outcome.ERROR:  # raised while setting the test up, so pytest says "error"
        raise RuntimeError(f"infrastructure error (not a conformance verdict): {verdict.reason}")
    return verdict


def assert_verdict(verdict, *, strict: bool = False) -> None:
    """Turn a Verdict into pytest's vocabulary; a SHOULD clause's FAIL fails the test only with `strict`."""
    from .verdict import Outcome, show_value

    if verdict.outcome is Outcome.SKIP:
        pytest.skip(verdict.reason)
    if verdict.outcome is Outcome.ERROR:
        raise RuntimeError(f"infrastructure error (not a conformance verdict): {verdict.reason}")
    if verdict.outcome is Outcome.NON_STRICT:
        warnings.warn(NonStrictWarning(f"{verdict.clause_id}: {verdict.reason}"), stacklevel=2)
        return
    if verdict.outcome is Outcome.XFAIL:
        pytest.xfail(verdict.reason)
    if verdict.outcome is Outcome.FAIL and not verdict.gates(strict=strict):
        warnings.warn(ShouldFailedWarning(f"{verdict.clause_id} [{verdict.level}]: {verdict.reason}"), stacklevel=2)
        return
    if verdict.outcome is Outcome.FAIL:
        lines = [f"{verdict.clause_id} [{verdict.level}] FAIL: {verdict.title}",
                 f"  cited: {verdict.citation.page}@{verdict.citation.revision}: {verdict.citation.quote!r}"]
        for f in verdict.fields:
            mark = "ok  " if f.ok else "DIFF"
            lines.append(f"  {mark} {f.field}: expected {show_value(f.expected)}, observed {show_value(f.observed)}")
        lines.append(f"  reproduce: {verdict.reproduction}")
        pytest.fail("\n".join(lines), pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stream = session.config.stash.get(STREAM_KEY, None)
    runner = session.config.stash.get(RUNNER_KEY, None)
    if stream is None or runner is None:
        return
    from .report import write_reports
    from .report.stream import read_stream
    from .verdict import RunResult

    verdicts = tuple(session.config.stash.get(VERDICTS_KEY, []))
    stream.finish(RunResult(info=runner.run_info(_session_clauses(session)), verdicts=verdicts,
                            duration_s=sum(v.duration_s for v in verdicts), request_count=runner.request_count))
    write_reports(read_stream(stream.path, check=False), stream.path.parent, secrets=runner.redactor.secrets)
