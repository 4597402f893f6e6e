"""`b24-conformance lint`: one-rule checks over the clause and profile data.

Rules: every clause file parses and matches its meta-schema; clause ids are unique; titles state
behaviour without "should"; every citation quote is found verbatim in the cited page (the pages
are shipped in suites/sources/; when they are missing, lint says so and fails); every message key
a clause uses exists in every profile; and every error string documented on the seed page is
covered by at least one clause.
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


def seed_error_strings(shared: Path | None) -> list[str]:
    """The error_description strings the seed page documents: its sample and its error table."""
    if shared is None:
        return []
    page = cited_file(shared, SEED_PAGE, SEED_REVISION)
    if page is None:
        return []
    text = page.read_text(encoding="utf-8", errors="replace")
    strings = re.findall(r'"error_description":\s*"([^"]+)"', text)
    strings += re.findall(r"^\|\| `0` \| ([^|]+?) \|", text, re.MULTILINE)
    return list(dict.fromkeys(s.strip() for s in strings))


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


RULES: tuple[Callable[..., Iterable[Problem]], ...] = (
    unique_ids, plain_titles, citations_found, keys_resolve, seed_errors_covered,
)


def render_problems(problems: list[Problem], clause_count: int) -> str:
    ran = ", ".join(rule.__name__.replace("_", "-") for rule in RULES)
    if not problems:
        return f"lint: {clause_count} clause(s), {len(RULES)} rules ran ({ran}), no problems"
    lines = [str(p) for p in problems]
    lines.append(f"lint: {len(problems)} problem(s) in {clause_count} clause(s)")
    return "\n".join(lines)
