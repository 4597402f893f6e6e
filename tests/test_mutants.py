"""A suite that cannot fail is worthless: each mutant is caught by the clauses named for it, and
every clause catches at least one mutant."""

import pytest

from b24_conformance.contract.clause import load_clauses
from b24_conformance.errors import UsageError
from b24_conformance.portal.mutants import MUTANTS, check_names
from b24_conformance.selftest import run_mutant

CLAUSES = {c.id: c for c in load_clauses()}


def test_every_clause_is_named_as_the_killer_of_some_mutant():
    named = set().union(*(m.killed_by for m in MUTANTS.values()))
    assert set(CLAUSES) - named == set()


def test_mutants_name_only_real_clauses():
    for mutant in MUTANTS.values():
        assert set(mutant.killed_by) <= set(CLAUSES), mutant.name
        assert mutant.breaks and mutant.layer in ("domain", "wire")


def test_unknown_mutant_names_get_a_suggestion():
    with pytest.raises(UsageError, match="did you mean 'racy-cancel'"):
        check_names(["racy-cancle"])


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_is_killed_by_its_clauses(name, tmp_path):
    mutant = MUTANTS[name]
    result = run_mutant(name, [CLAUSES[c] for c in mutant.killed_by], tmp_path)
    assert result.missed == (), f"{name} survived {result.missed} (errors: {result.errors})"
