"""The command line: b24-conformance run | record | portal serve | lint | cleanup | report | diff | openapi | mutants.

Each subcommand parses its options, calls one library function and returns an exit code:
0 clean, 1 a MUST clause failed (or lint/diff found problems), 2 usage or config error,
3 infrastructure errors only.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from . import __version__
from .errors import ConformanceError, UsageError

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except ConformanceError as exc:
        print(f"b24-conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE if not _is_target_error(exc) else 3
    except KeyboardInterrupt:
        print("b24-conformance: interrupted; `b24-conformance cleanup` removes sandbox leftovers", file=sys.stderr)
        return 130


def _is_target_error(exc: Exception) -> bool:
    from .errors import TargetConfigInvalid, TargetError
    return isinstance(exc, TargetError) and not isinstance(exc, TargetConfigInvalid)


# -- run -------------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from .contract.clause import load_clauses
    from .report.stream import ReportStream
    from .report.terminal import Progress
    from .runner import Runner, RunOptions

    clauses = _select(load_clauses(), args.clause)
    options = RunOptions(profile=args.profile, allow_writes=args.allow_writes, allow_burst=args.allow_burst,
                         manifest_dir=Path(args.manifest_dir))
    if args.cassettes:
        from dataclasses import replace

        from .target.cassette import read_sidecar
        options = replace(options, cassettes=Path(args.cassettes), run_id=read_sidecar(Path(args.cassettes))["run_id"])
    with ExitStack() as stack:
        config = _target(args, stack)
        runner = Runner(config, options)
        stream = ReportStream(Path(args.reports), secrets=runner.redactor.secrets)
        stack.callback(stream.close)
        print(f"b24-conformance {__version__}: {len(clauses)} clause(s) against {runner.redactor.text(config.describe())}, "
              f"profile {args.profile}", flush=True)
        handlers = [stream] if args.quiet else [Progress(sys.stdout), stream]
        runner.run(clauses, handlers)
    return _render_views(stream.path, secrets=runner.redactor.secrets)


def _render_views(stream_path: Path, *, secrets=()) -> int:
    """The terminal table and the report files, all rendered from the run's stream."""
    from .report import write_reports
    from .report.stream import read_stream
    from .report.terminal import render_table

    result = read_stream(stream_path)
    print(render_table(result, secrets=secrets))
    written = write_reports(result, stream_path.parent, secrets=secrets)
    print("reports: " + ", ".join(str(p) for p in [stream_path, *written.values()]))
    return result.exit_code


def cmd_report(args: argparse.Namespace) -> int:
    """Render the views of a run (table, JUnit, JSON, HTML) again from its stream, e.g. after a kill."""
    path = Path(args.stream)
    if path.is_dir():
        path = path / "report.jsonl"
    return _render_views(path)


def _target(args: argparse.Namespace, stack: ExitStack):
    from .target.resolve import TargetChoice, resolve_target

    choice = TargetChoice(
        webhook=args.webhook, oauth_token=args.oauth_token, oauth_endpoint=args.oauth_endpoint,
        target_file=args.target, cassettes=getattr(args, "cassettes", None),
        portal_profile=args.portal_profile or getattr(args, "profile", "seed"), mutants=tuple(args.mutant or ()),
    )
    return resolve_target(choice, stack)


def _select(clauses, patterns: Sequence[str] | None):
    if not patterns:
        return clauses
    chosen = [c for c in clauses if any(fnmatch.fnmatch(c.id, p) for p in patterns)]
    if not chosen:
        raise UsageError(f"no clause matches {', '.join(patterns)}", hint="`b24-conformance lint --list` lists ids")
    return chosen


def cmd_record(args: argparse.Namespace) -> int:
    """Record every clause against a deterministic reference portal into cassettes."""
    from .contract.clause import load_clauses
    from .report.terminal import render_table
    from .runner import Runner, RunOptions
    from .target.reference import reference_settings, reference_target

    clauses = _select(load_clauses(), args.clause)
    directory = Path(args.cassettes)
    for old in directory.glob("*.yaml"):
        old.unlink()
    settings = reference_settings(args.portal_profile or args.profile, deterministic=True)
    options = RunOptions(profile=args.profile, cassettes=directory, record=True, run_id="rec",
                         manifest_dir=Path(args.manifest_dir))
    with reference_target(settings) as config:
        result = Runner(config, options).run(clauses)
    print(render_table(result))
    print(f"recorded {len(clauses)} clause(s) into {directory}")
    return result.exit_code


# -- portal ----------------------------------------------------------------------------------------
def cmd_portal_serve(args: argparse.Namespace) -> int:
    from .portal.server import serve
    from .portal.settings import PortalSettings

    settings = PortalSettings(profile=args.profile, host=args.host, port=args.port, tls=args.tls,
                              tls_port=args.tls_port, db_path=args.db, deterministic=args.deterministic,
                              rate_threshold=args.rate_threshold, rate_drain_per_s=args.rate_drain,
                              mutants=tuple(args.mutant or ()), workers=args.workers)
    _check_profile(settings.profile)
    serve(settings)
    return 0


def _check_profile(name: str) -> None:
    from .contract.profile import load_profile
    load_profile(name)  # raises UsageError with a suggestion


# -- lint, cleanup, diff, openapi ------------------------------------------------------------------
def cmd_lint(args: argparse.Namespace) -> int:
    from .contract.lint import coverage_map, lint, render_coverage, render_problems, shared_root

    problems, clauses = lint()
    if args.list:
        for clause in clauses:
            print(f"{clause.id:50} {clause.level:6} {clause.title}")
    print(render_coverage(coverage_map(clauses, shared_root())))
    print(render_problems(problems, len(clauses)))
    return 1 if problems else 0


def cmd_cleanup(args: argparse.Namespace) -> int:
    from .redact import Redactor
    from .target.client import PortalClient
    from .target.sandbox import cleanup_manifest

    manifests = sorted(Path(args.manifest_dir).glob("sandbox-*.json"))
    if not manifests:
        print(f"nothing to clean up in {args.manifest_dir}")
        return 0
    with ExitStack() as stack:
        config = _target(args, stack)
        client = PortalClient(config, Redactor())
        admin = config.credential("admin")
        for path in manifests:
            removed = cleanup_manifest(client, admin, path)
            print(f"{path.name}: removed {removed['documents']} document(s), {removed['products']} product(s), "
                  f"{removed['stores']} warehouse(s)")
        client.close()
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from .report.diff import diff_reports, render_drift
    from .report.jsonreport import load_report

    drift = diff_reports(load_report(Path(args.old)), load_report(Path(args.new)))
    print(render_drift(drift))
    return drift.exit_code


def cmd_openapi(args: argparse.Namespace) -> int:
    from .contract.openapi import build_openapi

    print(json.dumps(build_openapi(), indent=2, ensure_ascii=False))
    return 0


def cmd_mutants(args: argparse.Namespace) -> int:
    from .selftest import check_mutants, render_mutants

    report = check_mutants(args.name or None)
    print(render_mutants(report))
    return 0 if report.all_killed else 1


# -- parser ----------------------------------------------------------------------------------------
def _target_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("target (default: the embedded reference portal)")
    g.add_argument("--webhook", help="a live portal's webhook URL (or env B24_WEBHOOK)")
    g.add_argument("--oauth-token", help="an OAuth access token (or env B24_OAUTH_TOKEN)")
    g.add_argument("--oauth-endpoint", help="https://<portal>/rest/ for --oauth-token without --webhook")
    g.add_argument("--target", help="a target config YAML (roles, fixtures, rate); see suites/targets/")
    g.add_argument("--portal-profile", help="the message profile the embedded portal speaks (default: --profile)")
    g.add_argument("--mutant", action="append", help="switch on a named deviation in the embedded portal")
    p.add_argument("--manifest-dir", default=".b24-conformance", help="where sandbox manifests are kept")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="b24-conformance", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"b24-conformance {__version__}")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run the clauses against a portal and write reports")
    run.add_argument("--profile", default="seed", help="expectation profile to grade against (default: seed)")
    run.add_argument("--allow-writes", action="store_true", help="let the suite write to a live portal's sandbox")
    run.add_argument("--allow-burst", action="store_true", help="run the rate-limit probe on a live portal")
    run.add_argument("--clause", "-k", action="append", help="only clauses whose id matches this glob")
    run.add_argument("--reports", default="reports", help="directory for junit.xml, report.json, report.html")
    run.add_argument("--quiet", "-q", action="store_true", help="no per-clause progress lines")
    run.add_argument("--cassettes", help="replay a recording from this folder instead of calling a portal")
    _target_options(run)
    run.set_defaults(func=cmd_run)

    record = sub.add_parser("record", help="record every clause against the reference portal into cassettes")
    record.add_argument("--cassettes", default="cassettes/catalog.document.cancel", help="folder to record into")
    record.add_argument("--profile", default="seed", help="expectation profile (default: seed)")
    record.add_argument("--portal-profile", help="profile the recorded portal speaks (default: --profile)")
    record.add_argument("--clause", "-k", action="append", help="only clauses whose id matches this glob")
    record.add_argument("--manifest-dir", default=".b24-conformance")
    record.set_defaults(func=cmd_record)

    portal = sub.add_parser("portal", help="the reference portal").add_subparsers(dest="portal_command")
    serve = portal.add_parser("serve", help="serve the reference portal on loopback")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--profile", default="seed", help="message profile to speak")
    serve.add_argument("--tls", action="store_true", help="also serve HTTPS with a generated loopback certificate")
    serve.add_argument("--tls-port", type=int, default=8443)
    serve.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    serve.add_argument("--deterministic", action="store_true", help="fixed clock and credential codes")
    serve.add_argument("--rate-threshold", type=int, default=50, help="leaky bucket X (docs: 50)")
    serve.add_argument("--rate-drain", type=float, default=2.0, help="leaky bucket Y per second (docs: 2)")
    serve.add_argument("--mutant", action="append", help="switch on a named deviation")
    serve.add_argument("--workers", type=int, default=8,
                       help="worker threads serving requests side by side (0: one at a time on the event loop)")
    serve.set_defaults(func=cmd_portal_serve)

    lint = sub.add_parser("lint", help="check the clause and profile data")
    lint.add_argument("--list", action="store_true", help="also list every clause")
    lint.set_defaults(func=cmd_lint)

    cleanup = sub.add_parser("cleanup", help="remove sandbox leftovers of interrupted runs")
    _target_options(cleanup)
    cleanup.set_defaults(func=cmd_cleanup)

    report = sub.add_parser("report", help="render a run's table and report files again from its stream")
    report.add_argument("stream", nargs="?", default="reports", help="report.jsonl, or the folder holding it")
    report.set_defaults(func=cmd_report)

    diff = sub.add_parser("diff", help="drift between two runs (report.json or report.jsonl)")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.set_defaults(func=cmd_diff)

    openapi = sub.add_parser("openapi", help="print the OpenAPI 3.1 document built from schemas/")
    openapi.set_defaults(func=cmd_openapi)

    mutants = sub.add_parser("mutants", help="prove each clause catches a portal that breaks it")
    mutants.add_argument("name", nargs="*", help="only these mutants")
    mutants.set_defaults(func=cmd_mutants)
    return parser


if __name__ == "__main__":
    sys.exit(main())
