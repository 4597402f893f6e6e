"""The JSON Schemas: well-formed, cross-referenced, accept the docs' own examples and reject broken bodies."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from b24_conformance import paths
from b24_conformance.contract import schemas

SCHEMA_FILES = list(schemas.iter_schema_files())
SEED_PAGE = "seed/000_1a6e62f1191e38a8.txt"
EN = "b24restdocs/api-reference/catalog/"
RU = "b24-rest-docs-ru/api-reference/catalog/"

# (page under shared/reference, schema of each ```json block in order). Pages show success first, then error.
# The inventory-document family's pages, EN and RU, are checked by test_doc_examples.py from
# schemas/doc-examples.yaml; here: the seed page, the stock-balance and supplier pages, and batch.
DOC_EXAMPLES: list[tuple[str, tuple[str | None, ...]]] = [
    (SEED_PAGE, ("success-true", "error")),
    (EN + "store-product/catalog-store-product-list.md", ("result/catalog.storeproduct.list", "error")),
    (EN + "store-product/catalog-store-product-get.md", ("result/catalog.storeproduct.get", "error")),
    (EN + "documentcontractor/catalog-documentcontractor-add.md", ("result/catalog.documentcontractor.add", "error")),
    (EN + "documentcontractor/catalog-documentcontractor-list.md", ("result/catalog.documentcontractor.list", "error")),
    (EN + "documentcontractor/catalog-documentcontractor-delete.md", ("result/catalog.documentcontractor.delete", "error")),
    (EN + "documentcontractor/catalog-documentcontractor-get-fields.md", ("result/catalog.documentcontractor.getFields", "error")),
    ("b24restdocs/settings/how-to-call-rest-api/batch.md", ("batch", "batch", "batch")),
]

_JSON_BLOCK = re.compile(r"```json[^\n]*\n(.*?)\n[ \t]*```", re.DOTALL)


class NotJson:
    """A ```json block that does not parse (kept, so the test can say which and why)."""

    def __init__(self, text: str, error: json.JSONDecodeError) -> None:
        self.text = text
        self.error = error


def json_blocks(text: str) -> list[Any]:
    """Every ```json block of a doc page, parsed; `// …` comment lines (the list page has one) are dropped."""
    out: list[Any] = []
    for block in _JSON_BLOCK.findall(text):
        cleaned = "\n".join(line for line in block.splitlines() if not line.strip().startswith("//"))
        try:
            out.append(json.loads(cleaned))
        except json.JSONDecodeError as exc:
            out.append(NotJson(cleaned, exc))
    return out


def _reference_dir() -> Path:
    return paths.sources_dir() / "reference"


def _page(relative: str) -> str:
    path = _reference_dir() / relative
    if not path.is_file():
        pytest.skip(f"doc page {relative} is not in shared/reference")
    return path.read_text(encoding="utf-8")


# ---------------------------------------------------------------- the files themselves

def test_schema_files_exist() -> None:
    names = {name for name, _ in SCHEMA_FILES}
    for required in ("time", "success", "success-true", "success-delete", "error", "batch",
                     "catalog-document", "catalog-document-element", "request/catalog.document.cancel",
                     "result/catalog.document.list", "result/catalog.storeproduct.list",
                     "result/catalog.document.add"):
        assert required in names


@pytest.mark.parametrize(("name", "path"), SCHEMA_FILES, ids=[name for name, _ in SCHEMA_FILES])
def test_schema_is_valid_2020_12(name: str, path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(document)  # the meta-schema check
    assert document.get("$id") == schemas.schema_id(name), "the $id follows the file name"


def test_schema_ids_are_unique() -> None:
    ids = [json.loads(path.read_text(encoding="utf-8")).get("$id") for _, path in SCHEMA_FILES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", [name for name, _ in SCHEMA_FILES])
def test_every_ref_resolves(name: str) -> None:
    resolver = schemas.registry().resolver(base_uri=schemas.schema_id(name))
    for ref in schemas.refs(schemas.schema(name)):
        try:
            resolver.lookup(ref)
        except Unresolvable as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{name}: $ref {ref!r} does not resolve: {exc}")


def test_unknown_schema_name_is_a_contract_error() -> None:
    from b24_conformance.errors import ContractError

    with pytest.raises(ContractError, match="no schema named"):
        schemas.validator("no-such-schema")


def test_validator_is_cached() -> None:
    assert schemas.validator("success-true") is schemas.validator("success-true")


# ---------------------------------------------------------------- the docs' own examples validate

@pytest.mark.parametrize(("page", "expected"), DOC_EXAMPLES, ids=[page.rsplit("/", 1)[-1] + (
    "[ru]" if page.startswith(RU) else "") for page, _ in DOC_EXAMPLES])
def test_doc_examples_validate(page: str, expected: tuple[str | None, ...]) -> None:
    blocks = json_blocks(_page(page))
    assert len(blocks) == len(expected), f"{page}: expected {len(expected)} json blocks, found {len(blocks)}"
    for index, (block, name) in enumerate(zip(blocks, expected, strict=True)):
        if name is None:
            assert isinstance(block, NotJson), f"{page} block {index} parses now: give it a schema name"
            continue
        assert not isinstance(block, NotJson), f"{page} block {index}: {block.error}"
        assert schemas.validate(name, block) == [], f"{page} block {index} against {name}"


def test_seed_error_example_is_not_a_success() -> None:
    success, error = json_blocks(_page(SEED_PAGE))
    assert success["result"] is True
    assert schemas.validate("success-true", error) != []
    assert schemas.validate("error", success) != []


# ---------------------------------------------------------------- broken bodies do not validate

TIME: dict[str, Any] = {
    "start": 1762411074,
    "finish": 1762411074.877169,
    "duration": 0.8771688938140869,
    "processing": 0,
    "date_start": "2025-11-06T09:37:54+02:00",
    "date_finish": "2025-11-06T09:37:54+02:00",
    "operating_reset_at": 1762411674,
    "operating": 0.2729671001434326,
}
SUCCESS: dict[str, Any] = {"result": True, "time": TIME}
ERROR: dict[str, Any] = {"error": "0", "error_description": "Error canceling document execution: Document is not yet executed"}


def _with(base: dict[str, Any], path: tuple[str, ...], value: Any = ..., *, drop: bool = False) -> dict[str, Any]:
    out = copy.deepcopy(base)
    node = out
    for key in path[:-1]:
        node = node[key]
    if drop:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


BROKEN: list[Any] = [
    pytest.param("success-true", _with(SUCCESS, ("result",), "true"), id="result-string-true"),
    pytest.param("success-true", _with(SUCCESS, ("result",), 1), id="result-1"),
    pytest.param("success-true", _with(SUCCESS, ("result",), False), id="result-false"),
    pytest.param("success-true", _with(SUCCESS, ("result",), None), id="result-null"),
    pytest.param("success-true", _with(SUCCESS, ("result",), drop=True), id="result-missing"),
    pytest.param("success-true", _with(SUCCESS, ("time",), drop=True), id="time-missing"),
    pytest.param("success-true", _with(SUCCESS, ("time", "date_start"), drop=True), id="time-without-date_start"),
    pytest.param("success-true", _with(SUCCESS, ("time", "start"), "1762411074"), id="time-start-string"),
    pytest.param("success-true", _with(SUCCESS, ("time", "duration"), True), id="time-duration-boolean"),
    pytest.param("success-true", _with(SUCCESS, ("time", "date_start"), "2025-11-06 09:37:54"),
                 id="time-date_start-without-offset"),
    pytest.param("success-true", _with(SUCCESS, ("time", "date_finish"), 1762411074), id="time-date_finish-number"),
    pytest.param("success-true", _with(SUCCESS, ("time", "operating"), "0.27"), id="time-operating-string"),
    pytest.param("success-true", {**SUCCESS, "error": "0"}, id="success-with-error-key"),
    pytest.param("success-true", [True], id="not-an-object"),
    pytest.param("success-delete", _with(SUCCESS, ("result",), False), id="delete-result-false"),
    pytest.param("error", _with(ERROR, ("error_description",), drop=True), id="error-without-description"),
    pytest.param("error", _with(ERROR, ("error",), drop=True), id="error-without-code"),
    pytest.param("error", _with(ERROR, ("error_description",), 0), id="error_description-number"),
    pytest.param("error", _with(ERROR, ("error_description",), None), id="error_description-null"),
    # REST v3 nests the error as an object ({"code", "message"}); that is not a v1/v2 error body.
    pytest.param("error", _with(ERROR, ("error",), {"code": "ACCESS_DENIED", "message": "x"}), id="error-object-v3"),
    pytest.param("error", _with(ERROR, ("error",), None), id="error-null"),
    pytest.param("error", _with(ERROR, ("error",), 1.5), id="error-float"),
    pytest.param("error", {**ERROR, "result": True}, id="error-with-result-key"),
    pytest.param("error", {**ERROR, "time": {"start": 1}}, id="error-with-broken-time"),
    pytest.param("request/catalog.document.cancel", {}, id="cancel-missing-id"),
    pytest.param("request/catalog.document.cancel", {"id": "abc"}, id="cancel-id-abc"),
    pytest.param("request/catalog.document.cancel", {"id": "142"}, id="cancel-id-numeric-string"),
    pytest.param("request/catalog.document.cancel", {"id": 0}, id="cancel-id-0"),
    pytest.param("request/catalog.document.cancel", {"id": -1}, id="cancel-id-negative"),
    pytest.param("request/catalog.document.cancel", {"id": 1.5}, id="cancel-id-1.5"),
    pytest.param("request/catalog.document.cancel", {"id": [1]}, id="cancel-id-list"),
    pytest.param("request/catalog.document.cancel", {"id": True}, id="cancel-id-true"),
    pytest.param("request/catalog.document.cancel", {"id": None}, id="cancel-id-null"),
    pytest.param("request/catalog.document.cancel", {"id": 142, "auth": 1}, id="cancel-auth-number"),
    pytest.param("request/catalog.document.cancel", {"id": 142, "ID": 142}, id="cancel-unknown-key"),
    pytest.param("request/catalog.document.cancel", {"documentIds": [142]}, id="cancel-list-param"),
    pytest.param("request/catalog.document.cancel", [142], id="cancel-not-an-object"),
    pytest.param("request/catalog.document.cancelList", {"documentIds": []}, id="cancelList-empty"),
    pytest.param("request/catalog.document.cancelList", {"documentIds": [0]}, id="cancelList-zero"),
    pytest.param("request/catalog.document.cancelList", {"documentIds": ["142"]}, id="cancelList-string-id"),
    pytest.param("request/catalog.document.cancelList", {"documentIds": 142}, id="cancelList-scalar"),
    pytest.param("request/catalog.document.conductList", {}, id="conductList-missing"),
    pytest.param("request/catalog.document.add", {"fields": {"docType": "W", "currency": "USD", "responsibleId": 1}},
                 id="add-docType-W"),
    pytest.param("request/catalog.document.add", {"fields": {"docType": "A", "responsibleId": 1}},
                 id="add-without-currency"),
    pytest.param("request/catalog.document.list", {"order": {"id": "up"}}, id="list-order-up"),
    pytest.param("request/batch", {"cmd": {f"c{i}": "catalog.document.list" for i in range(51)}}, id="batch-51"),
    pytest.param("request/batch", {"cmd": [f"catalog.document.cancel?id={i}" for i in range(51)]}, id="batch-51-list"),
    pytest.param("request/batch", {"halt": 0}, id="batch-without-cmd"),
    pytest.param("result/catalog.document.list", _with(SUCCESS, ("result",), {"documents": [{"id": "1"}]}),
                 id="list-id-string"),
    pytest.param("result/catalog.document.list", _with(SUCCESS, ("result",), {"documents": [{"status": "S"}]}),
                 id="list-status-S"),
    pytest.param("result/catalog.document.list", _with(SUCCESS, ("result",), [{"id": 1}]), id="list-bare-array"),
    pytest.param("result/catalog.document.list", {**_with(SUCCESS, ("result",), {"documents": []}), "total": "1"},
                 id="list-total-string"),
    pytest.param("result/catalog.storeproduct.list", _with(SUCCESS, ("result",), {"storeProduct": []}),
                 id="storeproduct-list-wrong-key"),
    pytest.param("batch", _with(SUCCESS, ("result",), {"result": {}}), id="batch-missing-collections"),
]


@pytest.mark.parametrize(("name", "instance"), BROKEN)
def test_broken_bodies_do_not_validate(name: str, instance: Any) -> None:
    assert schemas.validate(name, instance) != []


VALID: list[Any] = [
    pytest.param("success-true", SUCCESS, id="seed-success"),
    pytest.param("success-true", {"result": True, "time": {k: v for k, v in TIME.items() if not k.startswith("operating")}},
                 id="on-prem-time-without-operating"),
    pytest.param("success-true", _with(SUCCESS, ("time", "extra_counter"), 3), id="time-unknown-key"),
    pytest.param("success-true", _with(SUCCESS, ("time", "start"), 1762411074.5), id="time-start-float"),
    pytest.param("success-delete", _with(SUCCESS, ("result",), None), id="delete-null"),
    pytest.param("error", ERROR, id="error-0"),
    pytest.param("error", {"error": "", "error_description": ""}, id="error-empty"),
    pytest.param("error", {"error": "ERROR_DOCUMENT_STATUS", "error_description": "Conducted document"}, id="error-named"),
    pytest.param("error", {"error": 100, "error_description": "Could not find value for parameter {id}"}, id="error-100"),
    pytest.param("error", {**ERROR, "time": TIME}, id="error-with-time"),
    pytest.param("request/catalog.document.cancel", {"id": 142}, id="cancel-142"),
    pytest.param("request/catalog.document.cancel", {"id": 142, "auth": "token"}, id="cancel-oauth"),
    pytest.param("request/catalog.document.cancelList", {"documentIds": [142, 143, 144]}, id="cancelList-doc"),
    pytest.param("request/catalog.document.add",
                 {"fields": {"docType": "A", "currency": "USD", "responsibleId": 1, "title": "t"}}, id="add-min"),
    pytest.param("request/catalog.document.list",
                 {"select": ["id", "status"], "filter": {"@id": [1, 2]}, "order": {"id": "desc"}, "start": 50},
                 id="list-full"),
    pytest.param("request/catalog.document.mode.status", {}, id="mode-status-empty"),
    pytest.param("request/batch", {"halt": 0, "cmd": {"a": "catalog.document.cancel?id=142"}}, id="batch-object"),
    pytest.param("request/batch", {"halt": True, "cmd": ["catalog.document.mode.status"]}, id="batch-list"),
]


@pytest.mark.parametrize(("name", "instance"), VALID)
def test_valid_bodies_validate(name: str, instance: Any) -> None:
    assert schemas.validate(name, instance) == []


def test_messages_carry_json_paths() -> None:
    messages = schemas.validate("success-true", _with(SUCCESS, ("time", "start"), "x"))
    assert any(message.startswith("$.time.start: ") for message in messages), messages
    messages = schemas.validate("result/catalog.document.list", _with(SUCCESS, ("result",), {"documents": [{"id": "1"}]}))
    assert any(message.startswith("$.result.documents[0].id: ") for message in messages), messages
