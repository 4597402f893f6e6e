"""A suite that cannot fail is worthless: each mutant is caught by the clauses named for it, and
every clause catches at least one mutant. Each mutant is one declaration that switches on exactly
one field of `Deviations`, and `Deviations()` is the faithful portal."""

from dataclasses import fields

import pytest

from b24_conformance.contract.clause import load_clauses
from b24_conformance.errors import UsageError
from b24_conformance.portal.deviations import FAITHFUL, LAYERS, Deviations
from b24_conformance.portal.mutants import MUTANTS, Mutant, check_names, deviations_for
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.runner import Runner, RunOptions
from b24_conformance.selftest import run_mutant
from b24_conformance.target.reference import reference_settings, target_for

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


def test_the_default_deviations_are_the_faithful_portal():
    assert Deviations() == FAITHFUL == Deviations.none() == deviations_for(())
    assert FAITHFUL.on() == ()
    assert all(f.default is False for f in fields(Deviations))


def test_every_deviation_is_switched_on_by_exactly_one_mutant():
    switched = sorted(m.switch for m in MUTANTS.values())
    assert switched == sorted(f.name for f in fields(Deviations))


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_a_mutant_switches_on_its_field_and_nothing_else(name):
    mutant = MUTANTS[name]
    assert deviations_for([name]).on() == (mutant.switch,)
    assert deviations_for([name]).on(mutant.layer) == (mutant.switch,)
    assert mutant.layer == LAYERS[mutant.switch]


def test_mutants_combine():
    both = deviations_for(["racy-cancel", "no-get"])
    assert both.on() == ("cancel_check_then_act", "refuses_get")
    assert both.on("wire") == ("refuses_get",) and both.on("domain") == ("cancel_check_then_act",)


def test_a_mutant_must_switch_a_real_deviation():
    with pytest.raises(ValueError, match="no field of Deviations"):
        Mutant(name="typo", breaks="x", killed_by=(), switch="cancel_keeps_balance")


def test_unknown_mutant_names_are_refused_when_deviations_are_built():
    with pytest.raises(UsageError, match="did you mean 'no-get'"):
        deviations_for(["no-gett"])


@pytest.fixture(scope="module")
def portal():
    """One portal for the module: each run resets it to a fresh app with its mutants (as `mutants` does)."""
    with EmbeddedPortal(reference_settings("seed")) as shared:
        yield shared


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_is_killed_by_its_clauses(name, tmp_path, portal):
    mutant = MUTANTS[name]
    result = run_mutant(name, [CLAUSES[c] for c in mutant.killed_by], tmp_path, portal)
    assert result.missed == (), f"{name} survived {result.missed} (errors: {result.errors})"


# The rights mutants (issue 13): every permission rule of the seed page, cause by cause and type by
# type; and the supplier mutant, whose clauses are the only ones with a receipt left without a
# supplier. Each must FAIL its declared clauses and nothing else: every other clause keeps the
# verdict it has against the faithful portal.
RIGHTS_MUTANTS = ("cancel-right-any-type", "cancel-checks-conduct-right", "store-right-receipts-only",
                  "ignore-catalog-access", "ignore-inventory-access")
EXACT_MUTANTS = (*RIGHTS_MUTANTS, "conduct-ignores-supplier")


def _outcomes(portal, mutants: tuple[str, ...], manifest_dir) -> dict[str, str]:
    portal.reset(reference_settings("seed", mutants=mutants))
    result = Runner(target_for(portal), RunOptions(manifest_dir=manifest_dir)).run(list(CLAUSES.values()))
    return {v.clause_id: v.outcome.name for v in result.verdicts}


@pytest.fixture(scope="module")
def faithful_outcomes(tmp_path_factory, portal):
    return _outcomes(portal, (), tmp_path_factory.mktemp("faithful"))


def test_every_clause_passes_on_the_faithful_portal(faithful_outcomes):
    assert {c: o for c, o in faithful_outcomes.items() if o != "PASS"} == {}


@pytest.mark.parametrize("name", EXACT_MUTANTS)
def test_an_exact_mutant_fails_its_clauses_and_nothing_else(name, faithful_outcomes, tmp_path, portal):
    outcomes = _outcomes(portal, (name,), tmp_path)
    changed = {c for c, o in outcomes.items() if o != faithful_outcomes[c]}
    assert changed == set(MUTANTS[name].killed_by)
    assert {outcomes[c] for c in changed} == {"FAIL"}
