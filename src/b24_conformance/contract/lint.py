"""`b24-conformance lint`: one-rule checks over the clause and profile data.

Rules: every clause file parses and matches its meta-schema; clause ids are unique; titles state
behaviour without "should"; every citation quote is found verbatim in the cited page (the pages
are shipped in suites/sources/; when they are missing, lint says so and fails); every message key a clause uses exists in every profile; every
error string documented on the seed page is covered by at least one clause; and every cause in
every row of the seed page's error table is covered by a clause that says so (`covers:`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..errors import ContractError
from .clause import Clause, load_clause_file
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


def lint(clause_dir: Path | None = None, profile_dir: Path | None = None,
         shared: Path | None = None) -> tuple[list[Problem], list[Clause]]:
    problems: list[Problem] = []
    clauses: list[Clause] = []
    for path in sorted((clause_dir or paths.clauses_dir()).glob("*.yaml")):
        try:
            clauses.extend(load_clause_file(path).clauses)
        except ContractError as exc:
            problems.append(Problem("schema", path.name, exc.message))
    try:
        profiles = load_all_profiles(profile_dir)
    except ContractError as exc:
        return [*problems, Problem("profiles", "suites/profiles", exc.message)], clauses
    shared = shared if shared is not None else paths.sources_dir()
    if not (shared / "reference").is_dir():
        problems.append(Problem("sources", str(shared), "the cited pages are missing, so the citation and "
                                "coverage rules cannot run (they are shipped in suites/sources/)"))
        shared = None
    for rule in RULES:
        problems.extend(rule(clauses, profiles, shared))
    return problems, clauses


def unique_ids(clauses: list[Clause], profiles: dict[str, Profile], shared: Path | None) -> Iterable[Problem]:
    for cid, n in Counter(c.id for c in clauses).items():
        if n > 1:
            yield Problem("unique-id", cid, f"used by {n} clauses")


def plain_titles(clauses: list[Clause], profiles: dict[str, Profile], shared: Path | None) -> Iterable[Problem]:
    for c in clauses:
        if re.search(r"\bshould\b", c.title, re.IGNORECASE):
            yield Problem("title", c.id, "state the behaviour; do not write 'should' (the level says how binding it is)")


def citations_found(clauses: list[Clause], profiles: dict[str, Profile], shared: Path | None) -> Iterable[Problem]:
    if shared is None:
        return
    for c in clauses:
        page = cited_file(shared, c.citation.page, c.citation.revision)
        if page is None:
            yield Problem("citation", c.id, f"cited page not found: {c.citation.page}")
        elif _norm(c.citation.quote) not in _norm(page.read_text(encoding="utf-8", errors="replace")):
            yield Problem("citation", c.id, f"quote not found verbatim in {page.relative_to(shared)}: "
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


def keys_resolve(clauses: list[Clause], profiles: dict[str, Profile], shared: Path | None) -> Iterable[Problem]:
    for c in clauses:
        for key in sorted(c.message_keys()):
            for name, profile in profiles.items():
                if key not in profile.messages:
                    yield Problem("message-key", c.id, f"profile {name} has no message {key!r}")


def seed_errors_covered(clauses: list[Clause], profiles: dict[str, Profile], shared: Path | None) -> Iterable[Problem]:
    """Each error string of the seed page is the seed profile's text for a key some clause uses."""
    seed = profiles.get("seed")
    if seed is None:
        yield Problem("coverage", "suites/profiles", "there is no seed profile")
        return
    used = {key for c in clauses for key in c.message_keys()}
    for text in seed_error_strings(shared):
        keys = [k for k, m in seed.messages.items() if m.text == text]
        if not keys:
            yield Problem("coverage", "seed profile", f"no message has the seed page's text {text!r}")
        elif not set(keys) & used:
            yield Problem("coverage", "clauses", f"no clause expects {text!r} (keys {', '.join(keys)})")


def seed_page_text(shared: Path | None) -> str | None:
    """The seed page's raw text, or None when it is not at hand. The one place that finds the page:
    point it elsewhere (the package's own copy of the docs) and every rule that reads it follows."""
    page = cited_file(shared, SEED_PAGE, SEED_REVISION) if shared is not None else None
    return page.read_text(encoding="utf-8", errors="replace") if page is not None else None


def seed_error_strings(shared: Path | None) -> list[str]:
    """The error_description strings the seed page documents: its sample and its error table."""
    text = seed_page_text(shared)
    if text is None:
        return []
    strings = re.findall(r'"error_description":\s*"([^"]+)"', text)
    strings += re.findall(r"^\|\| `0` \| ([^|]+?) \|", text, re.MULTILINE)
    return list(dict.fromkeys(s.strip() for s in strings))


# --- the seed page's error table, row by row and cause by cause ------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorRow:
    """One row of a page's "Possible Error Codes" table: the message and the causes it names."""

    number: int  # 1-based, in page order
    code: str
    message: str  # the "Description" column: the error_description text
    causes: tuple[str, ...]  # the "Value" column, split at its commas and "or"


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
        causes = tuple(c.strip() for c in re.split(r",\s*(?:or\s+)?|\s+or\s+", value) if c.strip())
        rows.append(ErrorRow(number=n, code=row[at["code"]].strip("` ") if "code" in at else "",
                             message=row[at["description"]], causes=causes))
    return tuple(rows)


CoverageMap = list[tuple[ErrorRow, dict[str, list[str]]]]


def coverage_map(clauses: Iterable[Clause], shared: Path | None) -> CoverageMap:
    """Each row of the seed page's error table with, per cause, the clauses whose `covers` name it."""
    text = seed_page_text(shared)
    rows = error_table(text) if text is not None else ()
    clauses = list(clauses)
    return [(row, {cause: [c.id for c in clauses if cause in c.covers] for cause in row.causes})
            for row in rows]


def error_table_covered(clauses: list[Clause], profiles: dict[str, Profile], shared: Path | None) -> Iterable[Problem]:
    """Every cause of every row of the seed page's error table has a clause that covers it; every
    `covers` names a cause of the table, and its clause expects that row's message."""
    mapping = coverage_map(clauses, shared)
    if not mapping:
        return
    seed = profiles.get("seed")
    by_cause = {cause: row for row, causes in mapping for cause in causes}
    for c in clauses:
        for cause in c.covers:
            row = by_cause.get(cause)
            if row is None:
                yield Problem("error-table", c.id, f"covers {cause!r}, which is no cause in the seed page's "
                                                   "error table (quote a cause from its Value column verbatim)")
            elif seed is not None and not any(seed.messages[k].text == row.message
                                              for k in c.message_keys() if k in seed.messages):
                yield Problem("error-table", c.id, f"covers a cause of row {row.number} but expects no message "
                                                   f"with that row's text {row.message!r}")
    for row, causes in mapping:
        where = f"seed error table row {row.number}"
        if not any(causes.values()):
            yield Problem("error-table", where, f"no clause covers the row {row.message!r}")
        for cause, ids in causes.items():
            if not ids:
                yield Problem("error-table", where, f"no clause covers the cause {cause!r}")


def render_coverage(mapping: CoverageMap) -> str:
    """The map lint prints: row → causes → clauses."""
    if not mapping:
        return "error-table coverage: the seed page is not at hand (../shared/reference)"
    lines = [f"error-table coverage ({SEED_PAGE} @ {SEED_REVISION}):"]
    for row, causes in mapping:
        lines.append(f"  row {row.number}  `{row.code}` {row.message}")
        for cause, ids in causes.items():
            lines.append(f"    - {cause}: {', '.join(ids) if ids else 'NOT COVERED'}")
    return "\n".join(lines)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


RULES: tuple[Callable[..., Iterable[Problem]], ...] = (
    unique_ids, plain_titles, citations_found, keys_resolve, seed_errors_covered, error_table_covered,
)


def render_problems(problems: list[Problem], clause_count: int) -> str:
    ran = ", ".join(rule.__name__.replace("_", "-") for rule in RULES)
    if not problems:
        return f"lint: {clause_count} clause(s), {len(RULES)} rules ran ({ran}), no problems"
    lines = [str(p) for p in problems]
    lines.append(f"lint: {len(problems)} problem(s) in {clause_count} clause(s)")
    return "\n".join(lines)
