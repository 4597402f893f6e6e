"""Clause files: meta-schema, loader errors, and the lint rules, each shown to fire."""

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from b24_conformance import paths
from b24_conformance.contract.clause import load_clause_file, load_clauses
from b24_conformance.contract.lint import (
    coverage_map,
    error_table,
    lint,
    render_coverage,
    seed_error_strings,
    seed_page_text,
)
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


@pytest.mark.parametrize("ref, says", [
    ("$dc.id", "did you mean $doc.id?"),  # a typo of a given document
    ("$doc.number", "names nothing"),  # a field the sandbox does not give
    ("$product.p9", "names nothing"),  # a product no item names and `given.products` does not list
])
def test_lint_finds_a_reference_the_sandbox_will_not_have(tmp_path, ref, says):
    clauses, profiles = copy_data(tmp_path)
    first = next(i for i, c in enumerate(load_clause_file(CLAUSE_FILE).clauses) if c.id == "cancel.receipt.succeeds")
    edit(clauses / CLAUSE_FILE.name, lambda d: d["clauses"][first]["when"]["params"].update({"id": ref}))
    problems, _ = lint(clauses, profiles, SHARED)
    found = [p for p in problems if p.rule == "reference"]
    assert len(found) == 1 and ref in found[0].message and says in found[0].message, [str(p) for p in problems]


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


# -- the seed page's error table: row -> causes -> clauses ------------------------------------------


def _without_covers(cause):
    def change(d):
        for c in d["clauses"]:
            if cause in c.get("covers", []):
                c["covers"].remove(cause)
                if not c["covers"]:
                    del c["covers"]
    return change


def test_the_error_table_is_read_from_the_seed_page():
    rows = error_table(seed_page_text(SHARED))
    assert [r.message for r in rows] == [
        "Insufficient permissions to save the document",
        "Unable to complete the action as you do not have sufficient permissions to view and select inventories",
        "Error canceling document execution: Document is not yet executed",
    ]
    assert rows[0].causes == ("No access permission to the product catalog", "inventory management",
                              "no permission to cancel document execution",
                              "a non-existent document identifier is specified")
    assert rows[1].causes == ("No permissions to work with the product inventory from the document",)
    assert {r.code for r in rows} == {"0"}


def test_an_error_table_without_a_value_column_has_its_description_as_the_cause():
    text = "### Possible Error Codes\n\n#|\n|| **Code** | **Description** ||\n|| `0` | Documents are issued ||\n|#\n"
    (row,) = error_table(text)
    assert (row.code, row.message, row.causes) == ("0", "Documents are issued", ("Documents are issued",))


def test_every_cause_of_the_seed_error_table_is_covered_and_printed():
    (seed,) = [cov for cov in coverage_map(load_clauses(), SHARED) if cov.method == "catalog.document.cancel"]
    assert all(ids for _, causes in seed.rows for ids in causes.values())
    mapping = [seed]
    text = render_coverage(mapping)
    assert "inventory management: cancel.no-inventory-access.rejected" in text
    assert "row 2" in text and "NOT COVERED" not in text


@pytest.mark.parametrize("cause", ["inventory management", "a non-existent document identifier is specified",
                                   "No permissions to work with the product inventory from the document"])
def test_lint_reports_a_cause_whose_covers_are_removed(tmp_path, cause):
    clauses, profiles = copy_data(tmp_path)
    edit(clauses / CLAUSE_FILE.name, _without_covers(cause))
    problems, _ = lint(clauses, profiles, SHARED)
    assert any(p.rule == "error-table" and cause in p.message for p in problems), [str(p) for p in problems]
    assert "NOT COVERED" in render_coverage(coverage_map(load_clauses(clauses), SHARED))


def test_lint_reports_a_row_no_clause_covers(tmp_path):
    clauses, profiles = copy_data(tmp_path)
    edit(clauses / CLAUSE_FILE.name, _without_covers("Cannot cancel document execution if it is not in the executed status"))
    problems, _ = lint(clauses, profiles, SHARED)
    assert any(p.where == "catalog.document.cancel error table row 3" and "no clause covers the row" in p.message
               for p in problems)


@pytest.mark.parametrize("covers, says", [
    (["inventory accounting"], "which is no cause in the error table of reference/seed/"),
    (["Cannot cancel document execution if it is not in the executed status"], "expects no message"),
])
def test_lint_reports_a_covers_that_names_no_cause_or_the_wrong_row(tmp_path, covers, says):
    clauses, profiles = copy_data(tmp_path)
    edit(clauses / CLAUSE_FILE.name, lambda d: next(c for c in d["clauses"]
                                                    if c["id"] == "cancel.no-catalog-access.rejected").update(
        {"covers": covers}))
    problems, _ = lint(clauses, profiles, SHARED)
    assert any(p.rule == "error-table" and says in p.message for p in problems), [str(p) for p in problems]


def test_the_lint_command_prints_the_coverage_map(capsys):
    from b24_conformance.cli import main

    assert main(["lint"]) == 0
    out = capsys.readouterr().out
    assert "error coverage of catalog.document.cancel" in out and "no permission to cancel document execution: " in out
    assert out.rstrip().endswith("no problems")


# -- every page of the family (suites/family/pages.yaml) ------------------------------------------


def _family(tmp_path, change) -> Path:
    raw = yaml.safe_load(paths.family_file().read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "pages.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _entry(raw, method):
    return next(e for e in raw["pages"] if e["method"] == method)


@pytest.mark.parametrize("change, says", [
    (lambda raw: _entry(raw, "catalog.document.conduct").update({"pending": "not yet"}), "remove its `pending` mark"),
    (lambda raw: raw["pages"].remove(_entry(raw, "catalog.document.conduct")),
     "catalog.document.conduct is no page of suites/family/pages.yaml"),
    (lambda raw: raw["pages"].append({"method": "catalog.document.archive", "page": "api-reference/x.md"}),
     "no clause file suites/clauses/catalog.document.archive.yaml"),
    (lambda raw: _entry(raw, "catalog.document.conduct").update({"page": "api-reference/other.md"}),
     "not the family's page api-reference/other.md"),
    (lambda raw: _entry(raw, "catalog.document.conduct").update({"excused": {"a cause no page has": "why"}}),
     "names 'a cause no page has', which is no cause"),
])
def test_lint_checks_the_family_list(tmp_path, change, says):
    problems, _ = lint(family_file=_family(tmp_path, change))
    assert any(says in p.message for p in problems), [str(p) for p in problems]


def test_a_page_without_a_clause_file_is_listed_as_not_covered_and_a_pending_cause_once_covered_is_a_problem(tmp_path):
    from b24_conformance.contract.lint import load_family

    family = load_family()
    text = render_coverage(coverage_map(load_clauses(), SHARED), family)
    for entry in family.pages:
        if entry.pending:
            assert f"{entry.method} ({entry.page}): NOT COVERED" in text
    path = _family(tmp_path, lambda raw: _entry(raw, "catalog.document.conduct").setdefault(
        "pending_causes", {}).update({"warehouse accounting": "written already"}))
    problems, _ = lint(family_file=path)
    assert any("covered now: remove it from `pending_causes`" in p.message for p in problems)


@pytest.mark.parametrize("file, clause_id, cause", [
    ("catalog.document.conduct.yaml", "conduct.no-store-right.rejected",
     "No rights to work with the warehouse of the goods from the document"),
    ("catalog.document.cancelList.yaml", "cancel-list.missing-document.rejected", "A non-existent identifier was specified"),
])
def test_lint_reports_an_uncovered_cause_of_any_family_page(tmp_path, file, clause_id, cause):
    clauses, profiles = copy_data(tmp_path)
    edit(clauses / file, lambda d: next(c for c in d["clauses"] if c["id"] == clause_id).pop("covers"))
    problems, _ = lint(clauses, profiles, SHARED)
    assert any(p.rule == "error-table" and cause in p.message for p in problems), [str(p) for p in problems]


def test_lint_reports_a_page_string_no_clause_expects(tmp_path):
    clauses, profiles = copy_data(tmp_path)
    edit(clauses / "catalog.document.cancelList.yaml",
         lambda d: d.update({"clauses": [c for c in d["clauses"] if c["id"] != "cancel-list.missing-document.rejected"]}))
    problems, _ = lint(clauses, profiles, SHARED)
    assert any(p.rule == "coverage" and "'Error canceling the document: Document not found'" in p.message
               for p in problems), [str(p) for p in problems]


def test_a_sample_with_straight_quotes_is_the_message_written_with_typographic_ones():
    from b24_conformance.contract.lint import cited_file, keys_for, page_error_strings, page_messages
    from b24_conformance.contract.profile import load_all_profiles

    page = cited_file(SHARED, "api-reference/catalog/document/catalog-document-conduct-list.md", "5988ed13")
    strings = page_error_strings(page.read_text(encoding="utf-8"))
    sample = next(s for s in strings if "Incoming 33" in s)
    assert sample.startswith('An error occurred while conducting the document "Incoming 33": Incorrect quantity')
    assert keys_for(sample, page_messages(SHARED, page, load_all_profiles())) == ("conduct-list.failed",)


# -- a JSON sample the page's own table contradicts (overruled_samples) ---------------------------


def test_an_overruled_sample_needs_no_clause_and_a_stale_one_is_a_problem(tmp_path):
    def drop(raw):
        _entry(raw, "catalog.document.update").pop("overruled_samples")

    def stale(raw):
        _entry(raw, "catalog.document.update")["overruled_samples"]["Not on the page."] = "why"

    dropped, _ = lint(family_file=_family(tmp_path, drop))
    assert any("no profile message has this page's text 'Document not found.'" in p.message for p in dropped)
    stale_problems, _ = lint(family_file=_family(tmp_path, stale))
    assert [p.message for p in stale_problems if p.rule == "coverage"] == [
        "the overruled sample 'Not on the page.' is not on the page: remove it"]


@pytest.mark.parametrize("text, says", [
    ("pages: [\n", "ParserError"),
    ("repo: x\npages: [{method: catalog.document.add}]\n", "'page' is a required property"),
])
def test_a_malformed_family_list_is_one_clear_problem(tmp_path, text, says):
    path = tmp_path / "pages.yaml"
    path.write_text(text, encoding="utf-8")
    problems, _ = lint(family_file=path)
    assert [p.rule for p in problems] == ["data"]
    assert says in problems[0].message and "\n" not in problems[0].message


# -- a receipt without its supplier (`supplier: false`) -------------------------------------------


DOC = "/clauses/0/given/documents/doc"


@pytest.mark.parametrize("document, error, pointer", [
    ({"type": "A", "status": "N", "supplier": False}, None, None),
    ({"type": "S", "status": "N", "supplier": False}, "should not be valid", DOC),  # only receipts have one
    ({"type": "A", "status": "N", "supplier": True}, "False was expected", DOC + "/supplier"),  # the default
])
def test_only_a_receipt_may_be_built_without_its_supplier(tmp_path, document, error, pointer):
    path = tmp_path / "catalog.document.conduct.yaml"
    path.write_text(yaml.safe_dump({
        "method": "catalog.document.conduct",
        "source": {"repo": "bitrix24/b24restdocs", "page": "p.md", "revision": "5988ed13"},
        "clauses": [{"id": "conduct.bare.rejected", "level": "SHOULD", "title": "A bare receipt is refused",
                     "cite": "quote", "given": {"documents": {"doc": document}},
                     "when": {"params": {"id": "$doc.id"}}, "then": {"http": 400}}]}))
    if error is None:
        (clause,) = load_clause_file(path).clauses
        assert [d.supplier for d in clause.given] == [False]
    else:
        with pytest.raises(ClauseFileInvalid, match=error) as info:
            load_clause_file(path)
        assert info.value.pointer == pointer
