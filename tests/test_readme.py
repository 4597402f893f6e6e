"""The README's table of clause files tells the truth: every clause file, with its clause counts."""

import re
from pathlib import Path

from b24_conformance import paths
from b24_conformance.contract.clause import load_clause_file

README = Path(__file__).resolve().parent.parent / "README.md"


def _table() -> dict[str, tuple[int, int, int]]:
    """method -> (clauses, MUST, SHOULD), from the rows of the README's clause-file table."""
    rows: dict[str, tuple[int, int, int]] = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`catalog."):
            continue
        names = re.findall(r"`([\w.]+)`", cells[0].split("(")[0])
        first = names[0]
        methods = [first] + [first.rsplit(".", 1)[0] + "." + n if "." not in n else "catalog.document." + n
                             for n in names[1:]]
        counts = [[int(n) for n in cell.split(",")] for cell in cells[1:4]]
        for i, method in enumerate(methods):
            rows[method] = tuple(c[i] for c in counts)
    return rows


def test_the_readme_lists_every_clause_file_with_its_counts():
    actual = {}
    for path in sorted(paths.clauses_dir().glob("*.yaml")):
        f = load_clause_file(path)
        must = sum(c.level == "MUST" for c in f.clauses)
        actual[f.method] = (len(f.clauses), must, len(f.clauses) - must)
    assert _table() == actual
    total = re.search(r"(\d+) clauses in all", README.read_text(encoding="utf-8"))
    assert total and int(total.group(1)) == sum(n for n, _, _ in actual.values())


def test_the_readme_counts_the_mutants():
    from b24_conformance.portal.mutants import MUTANTS

    found = re.search(r"has (\d+) named \*\*mutants\*\*", README.read_text(encoding="utf-8"))
    assert found and int(found.group(1)) == len(MUTANTS)
