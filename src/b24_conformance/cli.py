"""The command line: b24-conformance run | record | portal serve | lint | cleanup | report | diff | openapi | mutants.

Each subcommand parses its options, calls one library function and returns an exit code:
0 clean, 1 a MUST clause failed (or lint/diff found problems), 2 usage or config error,
3 infrastructure errors only.
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
import json
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from . import __version__
from .errors import ConformanceError, UsageError

EXIT_USAGE = 2
_SHIPPED = "<shipped>"


def entry() -> int:
    """The console script: one command per process, so it may skip imports a library makes for
    features the process never uses: httpx's own command line, and, in a `run` process, which
    speaks only httpx, vcrpy's aiohttp patcher (half of an offline replay's imports)."""
    argv = sys.argv[1:]
    # httpx imports its own command line (rich, click, pygments when they are installed, ~70 ms)
    # at `import httpx` unless that fails; this process never runs httpx's command line
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    if argv[:1] == ["run"]:
        import gc

        from .target.cassette import this_process_speaks_httpx_only

        this_process_speaks_httpx_only()
        # a run builds millions of short-lived objects (parsed bodies, exchanges, report text) and
        # keeps few: with the default thresholds the cycle collector ran ~170 times (~5% of a run)
        gc.set_threshold(50_000, 20, 20)
    return main(argv)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `b24-conformance openapi | head`: the reader has all it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
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
    if args.target and len(args.target) > 1:
        return _run_portals(args)
    if getattr(args, "cassettes", None) == _SHIPPED:
        return _run_shipped(args)
    from .contract.clause import load_clauses
    from .report.stream import ReportStream
    from .report.terminal import Progress
    from .runner import Runner, prepare_run

    clauses = _select(load_clauses(), args.clause, args.method)
    options = _run_options(args)
    with ExitStack() as stack:
        config, options = prepare_run(_choice(args), options, stack)
        runner = Runner(config, options)
        stream = ReportStream(Path(args.reports), secrets=runner.redactor.secrets)
        stack.callback(stream.close)
        print(f"b24-conformance {__version__}: {len(clauses)} clause(s) against {runner.redactor.text(config.describe())}, "
              f"profile {args.profile}", flush=True)
        checked = runner.preflight()
        if checked and checked.note:
            print(f"preflight: {checked.note}", flush=True)
        handlers = [stream] if args.quiet else [Progress(sys.stdout), stream]
        runner.run(clauses, handlers)
    return _render_views(stream.path, secrets=runner.redactor.secrets, written_here=True)


class _Segments:
    """The handlers of one run made of several recordings: one header, every verdict numbered in
    the whole run, one footer with every segment's verdicts and requests."""

    def __init__(self, handlers, total: int, clause_files: tuple[str, ...]) -> None:
        self.handlers, self.total, self.clause_files = handlers, total, clause_files
        self.info = None
        self.verdicts: list = []
        self.requests = 0
        self.duration_s = 0.0

    def start(self, info) -> None:
        if self.info is None:
            from dataclasses import replace

            self.info = replace(info, target="the shipped cassettes, a recording per method",
                                clause_files=self.clause_files)
            for handler in self.handlers:
                handler.start(self.info)

    def verdict(self, verdict, index: int, total: int) -> None:
        self.verdicts.append(verdict)
        for handler in self.handlers:
            handler.verdict(verdict, len(self.verdicts), self.total)

    def finish(self, result) -> None:
        self.requests += result.request_count
        self.duration_s += result.duration_s

    def close(self) -> None:
        from .verdict import RunResult

        if self.info is not None:
            result = RunResult(info=self.info, verdicts=tuple(self.verdicts), duration_s=self.duration_s,
                               request_count=self.requests)
            for handler in self.handlers:
                handler.finish(result)


def _shipped_folders(clauses) -> list[tuple[Path, list]]:
    """Each clause goes to the recording of its own method's folder when that recording holds it,
    else to the first recording that does; a clause no recording holds stays with the seed page's
    (where it is an honest cassette miss: ERROR)."""
    from . import paths
    from .errors import TargetConfigInvalid
    from .target.cassette import SIDECAR, read_sidecar

    root = paths.cassettes_dir()
    recorded = {}
    for folder in sorted(p for p in root.iterdir() if (p / SIDECAR).is_file()):
        try:
            recorded[folder] = set(read_sidecar(folder).get("clauses") or ())
        except TargetConfigInvalid:
            recorded[folder] = set()  # cassette_target names the broken sidecar when it is used
    seed = root / "catalog.document.cancel"
    chosen: dict[Path, list] = {}
    for clause in clauses:
        own = root / clause.method
        holders = [own] if clause.id in recorded.get(own, ()) else [f for f, ids in recorded.items() if clause.id in ids]
        chosen.setdefault(holders[0] if holders else seed, []).append(clause)
    return list(chosen.items())


def _run_options(args: argparse.Namespace):
    from .runner import RunOptions

    return RunOptions(profile=args.profile, allow_writes=args.allow_writes, allow_burst=args.allow_burst,
                      manifest_dir=Path(args.manifest_dir), strict=args.strict,
                      baseline=Path(args.baseline) if args.baseline else None)


def _run_shipped(args: argparse.Namespace) -> int:
    """`run --cassettes`: every shipped recording replayed offline as one run, one report."""
    from .contract.clause import load_clauses
    from .report.stream import ReportStream
    from .report.terminal import Progress
    from .runner import Runner, prepare_run

    clauses = _select(load_clauses(), args.clause, args.method)
    segments = _shipped_folders(clauses)
    options = _run_options(args)
    secrets: set[str] = set()
    with ExitStack() as stack:
        stream = ReportStream(Path(args.reports))
        stack.callback(stream.close)
        handlers = [stream] if args.quiet else [Progress(sys.stdout), stream]
        files = tuple(sorted({Path(c.file).name for c in clauses if c.file}))
        combined = _Segments(handlers, len(clauses), files)
        print(f"b24-conformance {__version__}: {len(clauses)} clause(s) from the shipped cassettes, {len(segments)} recording(s) "
              f"({', '.join(f.name for f, _ in segments)}), profile {args.profile}", flush=True)
        for folder, chosen in segments:
            args.cassettes = str(folder)
            with ExitStack() as inner:
                config, seg_options = prepare_run(_choice(args), options, inner)
                runner = Runner(config, seg_options)
                stream.secrets = tuple(sorted(set(stream.secrets) | set(runner.redactor.secrets)))
                secrets |= set(runner.redactor.secrets)
                runner.run(chosen, [combined])
        combined.close()
    return _render_views(stream.path, secrets=tuple(secrets), written_here=True)


def _run_portals(args: argparse.Namespace) -> int:
    """`run --target a --target b …`: every portal side by side, one portal × clause matrix."""
    from .contract.clause import load_clauses
    from .portals import run_portals
    from .report.matrix import render_matrix, write_matrix
    from .report.stream import ReportStream

    clauses = _select(load_clauses(), args.clause, args.method)
    ReportStream(Path(args.reports))  # the folder is checked before any portal runs
    forward = [flag for flag, on in (("--allow-writes", args.allow_writes), ("--allow-burst", args.allow_burst),
                                     ("--strict", args.strict)) if on]
    forward += ["--profile", args.profile, "--manifest-dir", args.manifest_dir]
    forward += [x for pattern in args.clause or () for x in ("-k", pattern)]
    forward += [x for method in args.method or () for x in ("--method", method)]
    if args.baseline:
        forward += ["--baseline", args.baseline]
    matrix, code, wall = run_portals(args.target, forward, Path(args.reports), parallel=not args.one_by_one,
                                     clause_ids=[c.id for c in clauses])
    print(render_matrix(matrix))
    written = write_matrix(matrix, Path(args.reports))
    print(f"{len(args.target)} portals in {wall:.1f}s ({'one by one' if args.one_by_one else 'side by side'}); "
          "matrix: " + ", ".join(str(p) for p in written))
    return code


def _render_views(stream_path: Path, *, secrets=(), written_here: bool = False) -> int:
    """The terminal table and the report files, all rendered from the run's stream (schema-checked
    line by line unless this process has just written it)."""
    from .report import write_reports
    from .report.stream import read_stream
    from .report.terminal import render_table

    result = read_stream(stream_path, check=not written_here)
    print(render_table(result, secrets=secrets))
    written = write_reports(result, stream_path.parent, secrets=secrets)
    print("reports: " + ", ".join(str(p) for p in [stream_path, *written.values()]))
    return result.exit_code


def cmd_baseline(args: argparse.Namespace) -> int:
    """Print a baseline of the known deviations (every FAIL) of a run, to keep its gate green."""
    from .baseline import from_run
    from .report.jsonreport import load_report

    sys.stdout.write(from_run(load_report(Path(args.report))))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Render the views of a run (table, JUnit, JSON, HTML) again from its stream, e.g. after a kill."""
    path = Path(args.stream)
    if path.is_dir():
        path = path / "report.jsonl"
    return _render_views(path)


def _target(args: argparse.Namespace, stack: ExitStack):
    from .target.resolve import resolve_target

    return resolve_target(_choice(args), stack)


def _choice(args: argparse.Namespace):
    from .target.resolve import TargetChoice

    targets = args.target or []
    if len(targets) > 1:
        raise UsageError("this command takes one --target")
    return TargetChoice(
        webhook=args.webhook, oauth_token=args.oauth_token, oauth_endpoint=args.oauth_endpoint,
        target_file=targets[0] if targets else None, cassettes=getattr(args, "cassettes", None),
        portal_profile=args.portal_profile or getattr(args, "profile", "seed"), mutants=tuple(args.mutant or ()),
        on_prem=args.on_prem, fixtures=tuple(getattr(args, "fixture", None) or ()),
    )


def _select(clauses, patterns: Sequence[str] | None, methods: Sequence[str] | None = None):
    """The clauses whose id matches one of `patterns` (globs, -k) and whose method matches one of
    `methods` (globs, --method); no patterns or methods, no filter."""
    if methods:
        known = sorted({m for c in clauses for m in c.methods})
        for method in methods:
            if not any(fnmatch.fnmatch(m, method) for m in known):
                close = difflib.get_close_matches(method, known, n=1)
                raise UsageError(f"no clause calls the method {method}" + (f"; did you mean {close[0]!r}?" if close else ""),
                                 hint="`b24-conformance lint` lists the family's methods")
        clauses = [c for c in clauses if any(fnmatch.fnmatch(own, m) for own in c.methods for m in methods)]
    if not patterns:
        return clauses
    chosen = [c for c in clauses if any(fnmatch.fnmatch(c.id, p) for p in patterns)]
    if not chosen:
        raise UsageError(f"no clause matches {', '.join(patterns)}", hint="`b24-conformance lint --list` lists ids")
    return chosen


def cmd_record(args: argparse.Namespace) -> int:
    """Record clauses against a deterministic reference portal into cassettes.

    Without --cassettes, the shipped recordings: each clause file's clauses into its own folder,
    `cassettes/<method>/`. Each recording goes into a temporary folder beside its target, and
    replaces the old cassettes only when every clause was recorded with a verdict other than ERROR;
    a failed recording loses nothing. With -k, or a --method that picks part of a file, only the
    chosen clauses' cassettes are replaced.
    """
    from . import paths
    from .contract.clause import load_clauses
    from .target.cassette import require_vcrpy

    require_vcrpy("record")
    every = load_clauses()
    clauses = _select(every, args.clause, args.method)
    if args.cassettes is not None:
        return _record_into(Path(args.cassettes), clauses, args, partial=bool(args.clause))
    code = 0
    for method in dict.fromkeys(c.file_method for c in clauses):
        mine = [c for c in clauses if c.file_method == method]
        whole = len(mine) == sum(c.file_method == method for c in every)
        code = max(code, _record_into(paths.cassettes_dir() / method, mine, args, partial=not whole))
    return code


def _record_into(directory: Path, clauses: list, args: argparse.Namespace, *, partial: bool) -> int:
    """One recording of `clauses` into `directory` (see cmd_record); with `partial`, the clauses'
    cassettes join the folder's others, else they replace the folder."""
    import shutil
    import tempfile

    from .report.terminal import render_table
    from .runner import Runner, RunOptions
    from .target.cassette import SIDECAR
    from .target.reference import reference_settings, reference_target
    from .verdict import Outcome

    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{directory.name}.recording-", dir=directory.parent))
    try:
        settings = reference_settings(args.portal_profile or args.profile, deterministic=True)
        options = RunOptions(profile=args.profile, cassettes=scratch, record=True, run_id="rec",
                             manifest_dir=Path(args.manifest_dir))
        with reference_target(settings) as config:
            result = Runner(config, options).run(clauses)
        print(render_table(result))
        broken = [v.clause_id for v in result.verdicts if v.outcome is Outcome.ERROR]
        if broken:
            print(f"not recorded: {len(broken)} clause(s) ended in ERROR ({', '.join(broken[:5])}); "
                  f"{directory} is unchanged", file=sys.stderr)
            return 3
        if partial and (directory / SIDECAR).is_file():
            for path in scratch.glob("*.yaml"):  # _open and _close are the same in deterministic mode
                shutil.copy2(path, directory / path.name)
            _merge_sidecar(directory / SIDECAR, scratch / SIDECAR)
        else:
            old = directory.with_name(f".{directory.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            if directory.exists():
                directory.rename(old)
            scratch.rename(directory)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"recorded {len(clauses)} clause(s) into {directory}")
    return result.exit_code


def _merge_sidecar(kept: Path, fresh: Path) -> None:
    """A partial recording's sidecar: the new one, listing the old clauses too."""
    old, new = json.loads(kept.read_text("utf-8")), json.loads(fresh.read_text("utf-8"))
    new["clauses"] = old.get("clauses", []) + [c for c in new["clauses"] if c not in old.get("clauses", [])]
    kept.write_text(json.dumps(new, indent=2) + "\n", encoding="utf-8")


# -- portal ----------------------------------------------------------------------------------------
def cmd_portal_serve(args: argparse.Namespace) -> int:
    import socket
    import sqlite3

    from .portal.server import serve
    from .portal.settings import PortalSettings

    for option, port in (("--port", args.port), ("--tls-port", args.tls_port)):
        if not 1 <= port <= 65535:
            raise UsageError(f"{option} {port}: a TCP port is between 1 and 65535")
    if args.workers < 0:
        raise UsageError(f"--workers {args.workers}: 0 (the event loop) or more threads")
    if args.rate_threshold < 0 or not args.rate_drain > 0:
        raise UsageError(f"--rate-threshold {args.rate_threshold} --rate-drain {args.rate_drain}: "
                         "the threshold is 0 (no limit) or more, the drain above 0")
    if args.db != ":memory:":
        folder = Path(args.db).expanduser().resolve().parent
        if not folder.is_dir():
            raise UsageError(f"--db {args.db}: the folder {folder} does not exist")
    settings = PortalSettings(profile=args.profile, host=args.host, port=args.port, tls=args.tls,
                              tls_port=args.tls_port, db_path=args.db, deterministic=args.deterministic,
                              rate_threshold=args.rate_threshold, rate_drain_per_s=args.rate_drain,
                              mutants=tuple(args.mutant or ()), workers=args.workers, on_prem=args.on_prem,
                              require_contractor=args.require_supplier)
    _check_profile(settings.profile)
    from .portal.mutants import check_names
    check_names(settings.mutants)
    try:
        from .target.config import known_roles
        serve(settings, target_file=args.target_file, roles=known_roles() if args.target_file else None)
    except socket.gaierror as exc:
        raise UsageError(f"--host {args.host}: not an address this machine can listen on ({exc.strerror})") from None
    except OSError as exc:
        ports = f"{args.port}" + (f" or {args.tls_port}" if args.tls else "")
        raise UsageError(f"cannot listen on {args.host} port {ports}: {exc.strerror or exc}",
                         hint="is another portal running? choose another --port") from None
    except sqlite3.Error as exc:
        raise UsageError(f"--db {args.db}: {exc}") from None
    return 0


def _check_profile(name: str) -> None:
    from .contract.profile import load_profile
    load_profile(name)  # raises UsageError with a suggestion


# -- lint, cleanup, diff, openapi ------------------------------------------------------------------
def cmd_lint(args: argparse.Namespace) -> int:
    from .contract.lint import lint_input, render_coverage, render_problems

    problems, read = lint_input()
    if args.list:
        for clause in read.clauses:
            print(f"{clause.id:50} {clause.level:6} {clause.title}")
    print(render_coverage(read.coverage, read.family))
    print(render_problems(problems, len(read.clauses)))
    return 1 if problems else 0


def cmd_cleanup(args: argparse.Namespace) -> int:
    """Remove what interrupted runs left on one portal: by manifest, or by title with --sweep."""
    from .redact import Redactor
    from .target.cleanup import cleanup_manifest, sweep
    from .target.client import PortalClient

    if not (args.webhook or args.oauth_token or args.target or os.environ.get("B24_WEBHOOK")
            or os.environ.get("B24_OAUTH_TOKEN")):
        raise UsageError("cleanup needs the portal to clean: --webhook URL, --oauth-token with --oauth-endpoint, "
                         "or --target FILE", hint="it never guesses a portal, so it cannot touch the wrong one")
    manifests = sorted(Path(args.manifest_dir).glob("sandbox-*.json"))
    if not manifests and args.sweep is None:
        print(f"nothing to clean up: no manifest in {args.manifest_dir} (--sweep finds rows by title)")
        return 0
    with ExitStack() as stack:
        config = _target(args, stack)
        client = PortalClient(config, Redactor())
        stack.callback(client.close)
        admin = config.credential("admin")
        reports = [cleanup_manifest(client, admin, path) for path in manifests]
        if args.sweep is not None:
            reports.append(sweep(client, admin, args.sweep or None))
    for report in reports:
        print(report.render())
    return 1 if any(r.left for r in reports) else 0


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


def cmd_clients(args: argparse.Namespace) -> int:
    """The client × clause matrix; gates on every client row run."""
    from .clients import ADAPTERS
    from .clients.matrix import render_matrix, run_matrix, write_matrix
    from .contract.clause import load_clauses

    clauses = _select(load_clauses(), args.clause, args.method)
    specs = list(args.adapter or [])
    if args.harness:
        from .clients.harness import harness_spec
        specs += [harness_spec(h) for h in args.harness]
    if not specs:
        specs = list(ADAPTERS)
    if args.record and not args.cassettes:
        raise UsageError("--record needs --cassettes DIR (one folder per client is made inside it)")
    reports = Path(args.reports)
    from .report.stream import ReportStream
    ReportStream(reports)  # checks the folder before any client runs

    def progress(name, result):
        print(f"{name}: {', '.join(f'{n} {o}' for o, n in result.counts().items() if n)}", flush=True)

    matrix = run_matrix(specs, clauses, profile=args.profile, portal_profile=args.portal_profile,
                        mutants=tuple(args.mutant or ()), on_prem=args.on_prem,
                        cassettes=Path(args.cassettes) if args.cassettes else None,
                        record=args.record, reports=reports, on_row=progress)
    print(render_matrix(matrix))
    print("matrix: " + ", ".join(str(p) for p in write_matrix(matrix, reports)))
    return matrix.exit_code


def cmd_mutants(args: argparse.Namespace) -> int:
    from .selftest import check_mutants, render_mutants

    report = check_mutants(args.name or None, jobs=args.jobs)
    print(render_mutants(report))
    return 0 if report.all_killed else 1


# -- parser ----------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value}")
    return value


def _target_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("target (default: the embedded reference portal)")
    g.add_argument("--webhook", help="a live portal's webhook URL (or env B24_WEBHOOK)")
    g.add_argument("--oauth-token", help="an OAuth access token (or env B24_OAUTH_TOKEN)")
    g.add_argument("--oauth-endpoint", help="https://<portal>/rest/ for --oauth-token without --webhook")
    g.add_argument("--target", action="append",
                   help="a target config YAML (roles, fixtures, rate); see suites/targets/. Repeat it to run "
                        "several portals side by side into one portal × clause matrix")
    g.add_argument("--fixture", action="append", metavar="NAME=ID",
                   help="a live portal's row the suite uses but never makes, over the target config's: "
                        "supplier_contact_id, restricted_store_id, visible_store_id")
    g.add_argument("--portal-profile", help="the message profile the embedded portal speaks (default: --profile)")
    g.add_argument("--mutant", action="append", help="switch on a named deviation in the embedded portal")
    g.add_argument("--on-prem", action="store_true",
                   help="the embedded portal plays a self-hosted one: `time` blocks without the operating keys")
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
    run.add_argument("--method", "-m", action="append",
                     help="only clauses of this method (a glob: catalog.document.element.*)")
    run.add_argument("--reports", default="reports", help="directory for junit.xml, report.json, report.html")
    run.add_argument("--quiet", "-q", action="store_true", help="no per-clause progress lines")
    run.add_argument("--one-by-one", action="store_true", help="with several --target: one portal after another")
    run.add_argument("--strict", action="store_true", help="SHOULD clauses count for the gate too (default: MUST only)")
    run.add_argument("--baseline", help="known deviations of this portal (YAML from `b24-conformance baseline`): "
                                        "a known FAIL is XFAIL and keeps the gate green")
    run.add_argument("--cassettes", nargs="?", const=_SHIPPED,
                     help="replay a recording from this folder instead of calling a portal "
                          "(no folder: the recording shipped with the package)")
    _target_options(run)
    run.set_defaults(func=cmd_run)

    record = sub.add_parser("record", help="record every clause against the reference portal into cassettes")
    record.add_argument("--cassettes", help="one folder to record every chosen clause into (default: the shipped "
                                             "recordings, each clause file's into cassettes/<method>/)")
    record.add_argument("--profile", default="seed", help="expectation profile (default: seed)")
    record.add_argument("--portal-profile", help="profile the recorded portal speaks (default: --profile)")
    record.add_argument("--clause", "-k", action="append", help="only clauses whose id matches this glob")
    record.add_argument("--method", "-m", action="append",
                     help="only clauses of this method (a glob: catalog.document.element.*)")
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
    serve.add_argument("--on-prem", action="store_true", help="play a self-hosted portal: no operating keys in `time`")
    serve.add_argument("--no-require-supplier", dest="require_supplier", action="store_false",
                       help="conduct receipts (A) without a bound supplier (real portals refuse them); the "
                            "clauses about a receipt without a supplier then fail (SHOULD)")
    serve.add_argument("--target-file", help="also write a target config naming every seeded role (for CI: "
                                             "`b24-conformance run --target FILE`); its secrets are the portal's test codes")
    serve.add_argument("--workers", type=int, default=8,
                       help="worker threads serving requests side by side (0: one at a time on the event loop)")
    serve.set_defaults(func=cmd_portal_serve)

    lint = sub.add_parser("lint", help="check the clause and profile data")
    lint.add_argument("--list", action="store_true", help="also list every clause")
    lint.set_defaults(func=cmd_lint)

    cleanup = sub.add_parser("cleanup", help="remove sandbox leftovers of interrupted runs from one portal")
    _target_options(cleanup)
    cleanup.add_argument("--sweep", nargs="?", const="", metavar="RUN_ID",
                         help="also find leftovers by their `b24c <run id>` titles, without a manifest "
                              "(no RUN_ID: every run's; never while a run is going)")
    cleanup.set_defaults(func=cmd_cleanup)

    baseline = sub.add_parser("baseline", help="print a baseline of a run's known deviations (YAML)")
    baseline.add_argument("report", help="report.json, report.jsonl, or the folder holding them")
    baseline.set_defaults(func=cmd_baseline)

    report = sub.add_parser("report", help="render a run's table and report files again from its stream")
    report.add_argument("stream", nargs="?", default="reports", help="report.jsonl, or the folder holding it")
    report.set_defaults(func=cmd_report)

    diff = sub.add_parser("diff", help="drift between two runs (report.json or report.jsonl)")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.set_defaults(func=cmd_diff)

    openapi = sub.add_parser("openapi", help="print the OpenAPI 3.1 document built from schemas/")
    openapi.set_defaults(func=cmd_openapi)

    clients = sub.add_parser("clients", help="run client libraries through every clause: the client × clause matrix")
    clients.add_argument("--adapter", action="append",
                         help="a built-in client row (reference, b24pysdk.typed, …) or package.module:factory; "
                              "repeatable (default: every built-in row)")
    clients.add_argument("--harness", action="append", help="a client harness over stdin/stdout, e.g. js/b24jssdk")
    clients.add_argument("--profile", default="seed", help="expectation profile to grade against (default: seed)")
    clients.add_argument("--portal-profile", help="the message profile the embedded portal speaks")
    clients.add_argument("--mutant", action="append", help="switch on a deviation in the portal the clients meet")
    clients.add_argument("--on-prem", action="store_true",
                         help="the portal plays a self-hosted one: `time` blocks without the operating keys")
    clients.add_argument("--clause", "-k", action="append", help="only clauses whose id matches this glob")
    clients.add_argument("--method", "-m", action="append",
                     help="only clauses of this method (a glob: catalog.document.element.*)")
    clients.add_argument("--cassettes", help="replay each client's recording from DIR/<client>/ (no portal)")
    clients.add_argument("--record", action="store_true", help="record each client into DIR/<client>/ instead")
    clients.add_argument("--reports", default="reports", help="where clients.json, clients.html and each row's reports go")
    clients.set_defaults(func=cmd_clients)

    mutants = sub.add_parser("mutants", help="prove each clause catches a portal that breaks it")
    mutants.add_argument("name", nargs="*", help="only these mutants")
    mutants.add_argument("--jobs", "-j", type=_positive_int, default=None,
                         help="worker processes, each with one portal for its mutants (default: cores, at most 2)")
    mutants.set_defaults(func=cmd_mutants)
    return parser


if __name__ == "__main__":
    sys.exit(entry())
