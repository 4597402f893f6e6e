"""Clause files: meta-schema, loader errors, and the lint rules, each shown to fire."""

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from b24_conformance import paths
from b24_conformance.contract.clause import load_clause_file, load_clauses
from b24_conformance.contract.lint import lint, seed_error_strings
from b24_conformance.errors import ClauseFileInvalid

CLAUSE_FILE = paths.clauses_dir() / "catalog.document.cancel.yaml"
SHARED = paths.sources_dir()


def test_meta_schema_is_valid_2020_12():
    schema = json.loads((paths.schemas_dir() / "meta" / "clause-file.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)


def test_shipped_clauses_load_with_unique_ids():
    clauses = load_clauses()
    assert len(clauses) >= 35
    assert len({c.id for c in clauses}) == len(clauses)


def test_every_required_situation_has_a_clause():
    ids = {c.id for c in load_clauses()}
    for needed in ("cancel.receipt.succeeds", "cancel.adjustment.succeeds", "cancel.transfer.succeeds",
                   "cancel.return.succeeds", "cancel.write-off.succeeds", "cancel.draft.rejected",
                   "cancel.already-cancelled.rejected", "cancel.missing-document.rejected",
                   "cancel.no-cancel-right.rejected", "cancel.no-store-right.rejected",
                   "cancel.plan-without-inventory.rejected", "cancel.id-missing.rejected",
                   "cancel.id-not-integer.rejected", "cancel.json-suffix.succeeds", "cancel.form-body.succeeds",
                   "cancel.get-query.succeeds", "cancel.oauth-body.succeeds", "cancel.oauth-query.succeeds",
                   "cancel.in-batch.succeeds", "cancel-list.partial-failure.keeps-successes",
                   "cancel.concurrent.reverts-once"):
        assert needed in ids


def copy_data(tmp_path: Path) -> tuple[Path, Path]:
    clauses = tmp_path / "clauses"
    profiles = tmp_path / "profiles"
    shutil.copytree(paths.clauses_dir(), clauses)
    shutil.copytree(paths.profiles_dir(), profiles)
    return clauses, profiles


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


@pytest.mark.parametrize("text, pointer", [
    ("method: x\n", "/"),
    ("clauses: [\n", ""),
])
def test_malformed_clause_file_names_the_spot(tmp_path, text, pointer):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ClauseFileInvalid) as info:
        load_clause_file(path)
    assert str(path) in str(info.value)


def test_unknown_key_in_a_clause_is_rejected_with_its_pointer(tmp_path):
    clauses, _ = copy_data(tmp_path)
    path = clauses / CLAUSE_FILE.name
    edit(path, lambda d: d["clauses"][3]["then"].update({"colour": "red"}))
    with pytest.raises(ClauseFileInvalid) as info:
        load_clause_file(path)
    assert info.value.pointer == "/clauses/3/then"


def test_lint_is_clean_on_the_shipped_data():
    problems, clauses = lint()
    assert problems == [], "\n".join(map(str, problems))
    assert clauses


@pytest.mark.parametrize("change, rule", [
    (lambda d: d["clauses"][1].update({"id": d["clauses"][0]["id"]}), "unique-id"),
    (lambda d: d["clauses"][0].update({"title": "Cancel should work on receipts every time"}), "title"),
    (lambda d: d["clauses"][0].update({"cite": "a sentence the page never says"}), "citation"),
    (lambda d: d["clauses"][5]["then"].update({"message": "cancel.no-such-key"}), "message-key"),
    (lambda d: d.update({"clauses": [c for c in d["clauses"] if "not-conducted" not in json.dumps(c)]}), "coverage"),
])
def test_lint_catches(tmp_path, change, rule):
    clauses, profiles = copy_data(tmp_path)
    edit(clauses / CLAUSE_FILE.name, change)
    problems, _ = lint(clauses, profiles, SHARED)
    assert rule in {p.rule for p in problems}, [str(p) for p in problems]


def test_seed_page_error_strings_are_read_from_the_page():
    strings = seed_error_strings(SHARED)
    assert "Error canceling document execution: Document is not yet executed" in strings
    assert "Insufficient permissions to save the document" in strings
    assert len(strings) == 3


def test_lint_says_so_and_fails_when_the_cited_pages_are_missing(tmp_path):
    from b24_conformance.contract.lint import lint

    problems, _ = lint(shared=tmp_path)  # a sources folder without the pages
    assert [p.rule for p in problems] == ["sources"]
    assert "cannot run" in problems[0].message
