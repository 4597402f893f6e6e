"""`b24-conformance lint`: one-rule checks over the clause and profile data.

Rules: every clause file parses and matches its meta-schema; clause ids are unique; titles state
behaviour without "should"; every citation quote is found verbatim in the cited page (the pages
are shipped in suites/sources/; when they are missing, lint says so and fails); every message key a
clause uses exists in every profile; every page of the family list (suites/family/pages.yaml) has
its clause file; every error string each page documents is expected by a clause of its method's
file; and every cause in every row of each page's error table is covered by a clause of that file
that says so (`covers:`), or is excused in the family list with the reason.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .. import _yaml, paths
from ..errors import ContractError
from .clause import Clause, ClauseFile, load_clause_file
from .profile import Profile, load_all_profiles

SEED_REVISION = "8b3ef819"
SEED_PAGE = "api-reference/catalog/document/catalog-document-cancel.md"


@dataclass(frozen=True, slots=True)
class Problem:
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: [{self.rule}] {self.message}"


@dataclass(frozen=True, slots=True)
class FamilyPage:
    """One documented method of the family (suites/family/pages.yaml)."""

    method: str
    page: str
    deprecated: bool = False
    pending: str | None = None  # why it has no clause file yet
    excused: tuple[tuple[str, str], ...] = ()  # (cause, why no black-box clause can provoke it)
    pending_causes: tuple[tuple[str, str], ...] = ()  # (cause, why no clause covers it yet)
    overruled: tuple[tuple[str, str], ...] = ()  # (a JSON sample's string, why the page's table wins)


@dataclass(frozen=True, slots=True)
class Family:
    pages: tuple[FamilyPage, ...]

    def get(self, method: str) -> FamilyPage | None:
        return next((p for p in self.pages if p.method == method), None)


def load_family(path: Path | None = None) -> Family:
    """The family list; a missing or malformed file is a ContractError naming it."""
    import json

    import jsonschema
    import yaml

    path = path or paths.family_file()
    try:
        raw = _yaml.load(path.read_text(encoding="utf-8"))
        schema = json.loads((paths.schemas_dir() / "meta" / "family.schema.json").read_text(encoding="utf-8"))
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(raw))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path)
            raise ContractError(f"{path}: not a family list: at /{where}: {error.message[:200]}")
        return Family(pages=tuple(
            FamilyPage(method=e["method"], page=e["page"], deprecated=bool(e.get("deprecated", False)),
                       pending=e.get("pending"), excused=tuple((e.get("excused") or {}).items()),
                       pending_causes=tuple((e.get("pending_causes") or {}).items()),
                       overruled=tuple((e.get("overruled_samples") or {}).items()))
            for e in raw["pages"]))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ContractError(f"{path}: not a family list ({type(exc).__name__}: {' '.join(str(exc).split())})") from None


@dataclass(frozen=True, slots=True)
class LintInput:
    """What the rules read: the clause files, their clauses, the profiles, the pages and the family."""

    files: list[ClauseFile]
    clauses: list[Clause]
    profiles: dict[str, Profile]
    shared: Path | None
    family: Family
    coverage: CoverageMap


def lint(clause_dir: Path | None = None, profile_dir: Path | None = None,
         shared: Path | None = None, family_file: Path | None = None) -> tuple[list[Problem], list[Clause]]:
    problems, ctx = lint_input(clause_dir, profile_dir, shared, family_file)
    return problems, ctx.clauses


def lint_input(clause_dir: Path | None = None, profile_dir: Path | None = None, shared: Path | None = None,
               family_file: Path | None = None) -> tuple[list[Problem], LintInput]:
    """Every rule's problems, and what the rules read (the command prints its coverage map)."""
    problems: list[Problem] = []
    files: list[ClauseFile] = []
    for path in sorted((clause_dir or paths.clauses_dir()).glob("*.yaml")):
        try:
            files.append(load_clause_file(path))
        except ContractError as exc:
            problems.append(Problem("schema", path.name, exc.message))
    clauses = [c for f in files for c in f.clauses]
    try:
        profiles = load_all_profiles(profile_dir)
        family = load_family(family_file)
    except ContractError as exc:
        empty = LintInput(files=files, clauses=clauses, profiles={}, shared=None, family=Family(pages=()), coverage=[])
        return [*problems, Problem("data", "suites", exc.message)], empty
    shared = shared if shared is not None else paths.sources_dir()
    if not (shared / "reference").is_dir():
        problems.append(Problem("sources", str(shared), "the cited pages are missing, so the citation and "
                                "coverage rules cannot run (they are shipped in suites/sources/)"))
        shared = None
    ctx = LintInput(files=files, clauses=clauses, profiles=profiles, shared=shared, family=family,
                    coverage=coverage_map(clauses, shared, profiles, files, family))
    for rule in RULES:
        problems.extend(rule(ctx))
    return problems, ctx


def unique_ids(ctx: LintInput) -> Iterable[Problem]:
    for cid, n in Counter(c.id for c in ctx.clauses).items():
        if n > 1:
            yield Problem("unique-id", cid, f"used by {n} clauses")


def plain_titles(ctx: LintInput) -> Iterable[Problem]:
    for c in ctx.clauses:
        if re.search(r"\bshould\b", c.title, re.IGNORECASE):
            yield Problem("title", c.id, "state the behaviour; do not write 'should' (the level says how binding it is)")


def citations_found(ctx: LintInput) -> Iterable[Problem]:
    if ctx.shared is None:
        return
    for c in ctx.clauses:
        page = cited_file(ctx.shared, c.citation.page, c.citation.revision)
        if page is None:
            yield Problem("citation", c.id, f"cited page not found: {c.citation.page}")
        elif _norm(c.citation.quote) not in _norm(page.read_text(encoding="utf-8", errors="replace")):
            yield Problem("citation", c.id, f"quote not found verbatim in {page.relative_to(ctx.shared)}: "
                                            f"{c.citation.quote!r}")


def cited_file(shared: Path, page: str, revision: str) -> Path | None:
    """The stored copy of a cited page: the seed file for the seed revision, else the doc trees."""
    if revision == SEED_REVISION and page == SEED_PAGE:
        return next(iter(sorted((shared / "reference" / "seed").glob("*.txt"))), None)
    for candidate in (shared / page, shared / "reference" / "b24restdocs" / page,
                      shared / "reference" / "b24-rest-docs-ru" / page):
        if candidate.is_file():
            return candidate
    return None


def keys_resolve(ctx: LintInput) -> Iterable[Problem]:
    for c in ctx.clauses:
        for key in sorted(c.message_keys()):
            for name, profile in ctx.profiles.items():
                if key not in profile.messages:
                    yield Problem("message-key", c.id, f"profile {name} has no message {key!r}")


def references_resolve(ctx: LintInput) -> Iterable[Problem]:
    """Every `$label.field` a clause names is one its sandbox world will have (a typo is found here,
    not as an ERROR verdict at run time)."""
    for c in ctx.clauses:
        known = c.reference_names()
        for ref in sorted(c.references_used() - known):
            near = difflib.get_close_matches(ref, sorted(known), n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            yield Problem("reference", c.id, f"{ref} names nothing the clause's given, products or creates make{hint}")


def seed_page_text(shared: Path | None) -> str | None:
    """The seed page's raw text, or None when it is not at hand."""
    page = cited_file(shared, SEED_PAGE, SEED_REVISION) if shared is not None else None
    return page.read_text(encoding="utf-8", errors="replace") if page is not None else None


def page_error_strings(text: str) -> list[str]:
    """The error_description strings a page documents: its samples and its error table's
    Description column (a cell with two messages, "A / B", gives both; "-" and empty give none)."""
    # a sample's string runs to the last quote of its line: the pages' samples leave inner quotes unescaped
    strings = [m.replace('\\"', '"') for m in re.findall(r'"error_description":\s*"(.+)"\s*,?\s*$', text, re.MULTILINE)]
    for row in error_table(text):
        strings += row.texts
    return list(dict.fromkeys(s.strip() for s in strings if s.strip()))


def seed_error_strings(shared: Path | None) -> list[str]:
    """The error_description strings the seed page documents."""
    text = seed_page_text(shared)
    return page_error_strings(text) if text is not None else []


# --- the seed page's error table, row by row and cause by cause ------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorRow:
    """One row of a page's "Possible Error Codes" table: the message and the causes it names."""

    number: int  # 1-based, in page order
    code: str
    message: str  # the "Description" column: the error_description text
    causes: tuple[str, ...]  # the "Value" column, split at its commas and "or"

    @property
    def texts(self) -> tuple[str, ...]:
        """The error strings of the row: "A / B" is two, "-" or an empty cell none."""
        return tuple(t.strip() for t in self.message.split(" / ") if t.strip() not in ("", "-"))


def error_table(text: str) -> tuple[ErrorRow, ...]:
    """The rows of the "Possible Error Codes" table in a doc page's text (YFM `#| || a | b || |#`).

    Columns are found by their header names: the message under "Description", the causes under
    "Value" (a table without that column has its description as the one cause)."""
    start = text.find("Possible Error Codes")
    if start < 0:
        return ()
    lines = text[start:].split("|#", 1)[0].splitlines()
    cells = [[c.strip() for c in line.strip().removeprefix("||").removesuffix("||").split("|")]
             for line in lines if line.strip().startswith("||")]
    if not cells:
        return ()
    header = [c.strip("*` ").lower() for c in cells[0]]
    at = {name: header.index(name) for name in ("code", "description", "value") if name in header}
    if "description" not in at:
        return ()
    rows = []
    for n, row in enumerate(cells[1:], start=1):
        if len(row) != len(header):
            continue
        value = row[at.get("value", at["description"])]
        causes = tuple(c for c in (_cause(part) for part in re.split(r",\s*(?:or\s+)?|\s+or\s+", value)) if c)
        rows.append(ErrorRow(number=n, code=row[at["code"]].strip("` ") if "code" in at else "",
                             message=row[at["description"]], causes=causes))
    return tuple(rows)


def _cause(part: str) -> str:
    """One cause of a Value cell: "for example" and the quotes around an example are not part of it."""
    part = re.sub(r"^for example,?\s*", "", part.strip())
    return part.strip().strip('"\u201c\u201d').strip()


# --- every page of the family: its error strings and its table, cause by cause -------------------


@dataclass(frozen=True, slots=True)
class PageCoverage:
    """One clause file's page: each documented error string with the clauses that expect it, and
    each row of its error table with, per cause, the clauses whose `covers` name it."""

    method: str
    page: str  # the stored file, relative to the sources folder
    strings: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]  # text, its message keys, clause ids
    rows: tuple[tuple[ErrorRow, dict[str, list[str]]], ...]
    own: frozenset[str]  # the clauses of the page: those of its file and those that call its method
    excused: dict[str, str]  # cause -> why no black-box clause can provoke it
    pending: dict[str, str]  # cause -> why no clause covers it yet (printed as NOT COVERED, not a problem)
    overruled: dict[str, str] = field(default_factory=dict)  # sample string -> why the table row wins

    @property
    def excused_texts(self) -> set[str]:
        """The error strings of rows whose every cause is excused: no clause can expect them."""
        return {t for row, _ in self.rows if row.causes and set(row.causes) <= set(self.excused) for t in row.texts}


CoverageMap = list[PageCoverage]


def page_messages(shared: Path, page: Path, profiles: dict[str, Profile]) -> dict[str, list]:
    """The messages the profiles read from this page file: key -> the messages (one per profile)."""
    found: dict[str, list] = {}
    for profile in profiles.values():
        for key, message in profile.messages.items():
            source = profile.sources.get(message.source)
            if source is not None and source.file and (shared / source.file).resolve() == page.resolve():
                found.setdefault(key, []).append(message)
    return found


def _all_messages(profiles: dict[str, Profile]) -> dict[str, list]:
    found: dict[str, list] = {}
    for profile in profiles.values():
        for key, message in profile.messages.items():
            found.setdefault(key, []).append(message)
    return found


def keys_for(text: str, messages: dict[str, list]) -> tuple[str, ...]:
    """The keys whose message is this documented text: verbatim (its `quote` or `text`), or its
    text with placeholders filled (a `#TITLE#` for a sample's "Receipt 35"). Typographic quotes
    count as straight ones: the pages mix them for the same message."""
    norm = _quotes(_norm(text))
    return tuple(key for key, ms in messages.items()
                 if any(_quotes(_norm(m.quote or "")) == norm or _fills(_quotes(_norm(m.text)), norm) for m in ms))


def _quotes(text: str) -> str:
    return re.sub(r"[\u201c\u201d\u201e\u00ab\u00bb]", '"', text)


def _fills(template: str, text: str) -> bool:
    parts = re.split(r"#[A-Z_]+#", template)
    return re.fullmatch(".+?".join(re.escape(p) for p in parts), text, re.DOTALL) is not None


def coverage_map(clauses: Iterable[Clause], shared: Path | None, profiles: dict[str, Profile] | None = None,
                 files: Iterable[ClauseFile] | None = None, family: Family | None = None) -> CoverageMap:
    """Per clause file, its page's error strings and table rows with the clauses that cover them."""
    if shared is None:
        return []
    profiles = profiles if profiles is not None else load_all_profiles()
    clauses = list(clauses)
    family = family if family is not None else load_family()
    if files is None:
        files = _files_of(clauses)
    out = []
    for f in files:
        page = cited_file(shared, f.source["page"], f.source["revision"])
        if page is None:
            continue
        text = page.read_text(encoding="utf-8", errors="replace")
        own = [c for c in clauses if c.file == str(f.path) or c.method == f.method]
        messages = page_messages(shared, page, profiles)
        anywhere = _all_messages(profiles)
        strings = []
        for s in page_error_strings(text):
            # a message read from this page; else one read elsewhere with the same words (an alias's
            # page repeats the strings of the method it stands for)
            keys = keys_for(s, messages) or keys_for(s, anywhere)
            strings.append((s, keys, tuple(c.id for c in own if set(keys) & c.message_keys())))
        rows = tuple((row, {cause: [c.id for c in own if cause in c.covers] for cause in row.causes})
                     for row in error_table(text))
        entry = family.get(f.method)
        out.append(PageCoverage(method=f.method, page=str(page.relative_to(shared)), strings=tuple(strings),
                                rows=rows, own=frozenset(c.id for c in own),
                                excused=dict(entry.excused) if entry else {},
                                pending=dict(entry.pending_causes) if entry else {},
                                overruled=dict(entry.overruled) if entry else {}))
    return out


def _files_of(clauses: list[Clause]) -> list[ClauseFile]:
    seen: dict[str, ClauseFile] = {}
    for c in clauses:
        if c.file not in seen:
            seen[c.file] = load_clause_file(Path(c.file))
    return list(seen.values())


def page_errors_covered(ctx: LintInput) -> Iterable[Problem]:
    """Every error string each page documents is a profile message read from that page, and some
    clause of the method's file expects it (strings of rows whose causes are all excused aside)."""
    for cov in ctx.coverage:
        excused_texts = cov.excused_texts
        for text in set(cov.overruled) - {s for s, _, _ in cov.strings}:
            yield Problem("coverage", cov.page, f"the overruled sample {text!r} is not on the page: remove it")
        for text, keys, ids in cov.strings:
            if text in excused_texts or text in cov.overruled:
                continue
            if not keys:
                yield Problem("coverage", cov.page, f"no profile message has this page's text {text!r}")
            elif not ids:
                yield Problem("coverage", cov.method, f"no clause expects {text!r} (keys {', '.join(keys)})")


def error_table_covered(ctx: LintInput) -> Iterable[Problem]:
    """Every cause of every row of each page's error table has a clause of that page (its file's,
    or one that calls its method) that covers it, or the family list excuses it; every `covers`
    names a cause of a table of its own pages, and its clause expects that row's message."""
    if ctx.shared is None:
        return
    for c in ctx.clauses:
        if not c.covers:
            continue
        mine = [cov for cov in ctx.coverage if c.id in cov.own]
        for cause in c.covers:
            found = [(cov, row) for cov in mine for row, causes in cov.rows if cause in causes]
            if not found:
                pages = ", ".join(cov.page for cov in mine) or "no page of its own"
                yield Problem("error-table", c.id, f"covers {cause!r}, which is no cause in the error table of "
                                                   f"{pages} (quote a cause from its Value column verbatim)")
            elif not any(not row.texts or _row_keys(cov, row) & c.message_keys() for cov, row in found):
                row = found[0][1]
                yield Problem("error-table", c.id, f"covers a cause of row {row.number} but expects no message "
                                                   f"with that row's text {row.message!r}")
    for cov in ctx.coverage:
        by_cause = {cause for _, causes in cov.rows for cause in causes}
        for cause in [*cov.excused, *cov.pending]:
            if cause not in by_cause:
                yield Problem("error-table", f"suites/family ({cov.method})",
                              f"names {cause!r}, which is no cause in the error table of {cov.page}")
        for row, causes in cov.rows:
            where = f"{cov.method} error table row {row.number}"
            for cause, ids in causes.items():
                if cause in cov.pending and ids:
                    yield Problem("error-table", where, f"{cause!r} is covered now: remove it from `pending_causes`")
            open_causes = {cause: ids for cause, ids in causes.items()
                           if cause not in cov.excused and cause not in cov.pending}
            if open_causes and not any(open_causes.values()):
                yield Problem("error-table", where, f"no clause covers the row {row.message!r}")
            for cause, ids in open_causes.items():
                if not ids:
                    yield Problem("error-table", where, f"no clause covers the cause {cause!r}")


def _row_keys(cov: PageCoverage, row: ErrorRow) -> set[str]:
    return {k for text, keys, _ in cov.strings if text in row.texts for k in keys}


def family_files(ctx: LintInput) -> Iterable[Problem]:
    """Every page of the family list has its clause file (or says why not: `pending`), and every
    clause file is the file of one family page and cites that page."""
    by_method = {f.method: f for f in ctx.files}
    for entry in ctx.family.pages:
        f = by_method.get(entry.method)
        if f is None and entry.pending is None:
            yield Problem("family", entry.method, f"no clause file suites/clauses/{entry.method}.yaml for {entry.page}")
        elif f is not None and entry.pending is not None:
            yield Problem("family", entry.method, "the page has a clause file now: remove its `pending` mark")
        elif f is not None and f.source["page"] != entry.page:
            yield Problem("family", entry.method, f"the clause file cites {f.source['page']}, not the family's "
                                                  f"page {entry.page}")
    for f in ctx.files:
        if ctx.family.get(f.method) is None:
            yield Problem("family", f.path.name, f"{f.method} is no page of suites/family/pages.yaml")


def render_coverage(mapping: CoverageMap, family: Family | None = None) -> str:
    """The map lint prints: page -> error strings -> clauses; row -> causes -> clauses; and the
    family's pages without a clause file."""
    if not mapping:
        return "error coverage: the pages are not at hand (suites/sources/reference)"
    lines = []
    for cov in mapping:
        lines.append(f"error coverage of {cov.method} ({cov.page}):")
        for text, _, ids in cov.strings:
            shown = (", ".join(ids) if ids
                     else f"overruled ({cov.overruled[text]})" if text in cov.overruled
                     else "excused (every cause of its row is)" if text in cov.excused_texts
                     else "NOT COVERED")
            lines.append(f"  {text!r}: {shown}")
        for row, causes in cov.rows:
            lines.append(f"  row {row.number}  `{row.code}` {row.message}")
            for cause, ids in causes.items():
                shown = (f"excused ({cov.excused[cause]})" if cause in cov.excused and not ids
                         else ", ".join(ids) if ids
                         else f"NOT COVERED (pending: {cov.pending[cause]})" if cause in cov.pending
                         else "NOT COVERED")
                lines.append(f"    - {cause}: {shown}")
    for entry in (family.pages if family else ()):
        if entry.pending is not None:
            lines.append(f"{entry.method} ({entry.page}): NOT COVERED, no clause file yet ({entry.pending})")
    return "\n".join(lines)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


RULES: tuple[Callable[..., Iterable[Problem]], ...] = (
    unique_ids, plain_titles, citations_found, keys_resolve, references_resolve, family_files, page_errors_covered,
    error_table_covered,
)


def render_problems(problems: list[Problem], clause_count: int) -> str:
    ran = ", ".join(rule.__name__.replace("_", "-") for rule in RULES)
    if not problems:
        return f"lint: {clause_count} clause(s), {len(RULES)} rules ran ({ran}), no problems"
    lines = [str(p) for p in problems]
    lines.append(f"lint: {len(problems)} problem(s) in {clause_count} clause(s)")
    return "\n".join(lines)
