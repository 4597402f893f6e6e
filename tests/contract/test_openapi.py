"""The OpenAPI document: valid 3.1, one RPC operation per method, self-contained, and committed as generated."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import schemathesis
from jsonschema import Draft202012Validator
from schemathesis.specs.openapi.definitions import OPENAPI_31

from b24_conformance import paths
from b24_conformance.contract import openapi
from b24_conformance.contract.openapi import build_openapi, operation_id
from b24_conformance.contract.schemas import refs

TIME: dict[str, Any] = {
    "start": 1762411074,
    "finish": 1762411074.877169,
    "duration": 0.8771688938140869,
    "processing": 0,
    "date_start": "2025-11-06T09:37:54+01:00",
    "date_finish": "2025-11-06T09:37:54+01:00",
}
SUCCESS: dict[str, Any] = {"result": True, "time": TIME}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_openapi()


@pytest.fixture(scope="module")
def loaded(document: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_dict(document)


def test_valid_openapi_3_1(document: dict[str, Any], loaded: Any) -> None:
    assert document["openapi"].startswith("3.1.")
    Draft202012Validator(OPENAPI_31).validate(document)  # the OAS 3.1 document schema
    loaded.validate()  # schemathesis' own check, the same meta-schema through jsonschema_rs
    labels = [result.ok().label for result in loaded.get_all_operations()]
    assert labels == [f"POST /{method.name}" for method in openapi.METHODS]


def test_every_component_schema_is_valid_2020_12(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        assert "$id" not in schema, f"{name}: an $id would re-base the #/components refs"
        Draft202012Validator.check_schema(schema)


def _pointer(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_self_contained(document: dict[str, Any]) -> None:
    found = refs(document)
    assert found
    for ref in found:
        assert ref.startswith("#/"), f"external $ref {ref!r}"
        _pointer(document, ref)  # raises KeyError when dangling


def test_rpc_shape(document: dict[str, Any]) -> None:
    assert document["servers"][0]["url"] == "{base}"
    assert "/rest/{user_id}/{code}" in document["servers"][0]["description"]
    for path, item in document["paths"].items():
        assert list(item) == ["post"], path
        operation = item["post"]
        assert operation["operationId"] == operation_id(path.lstrip("/"))
        assert {"200", "400"} <= set(operation["responses"]), path
        assert set(operation["responses"]) == {"200", *openapi.ERROR_STATUSES}
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/request." + path.lstrip("/")}
    ids = [item["post"]["operationId"] for item in document["paths"].values()]
    assert len(ids) == len(set(ids))
    cancel = document["paths"]["/catalog.document.cancel"]["post"]
    assert cancel["operationId"] == "catalogDocumentCancel"
    assert cancel["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/result.catalog.document.cancel"
    }
    assert document["components"]["schemas"]["result.catalog.document.cancel"]["$ref"] == (
        "#/components/schemas/success-true")
    assert operation_id("catalog.document.cancelList") == "catalogDocumentCancelList"
    assert operation_id("catalog.document.mode.status") == "catalogDocumentModeStatus"


FAMILY = sorted(path.name[: -len(".md")] for path in (paths.sources_dir() / "reference" / "b24restdocs"
                 / "api-reference" / "catalog" / "document").rglob("catalog-document-*.md"))


def test_every_family_page_is_an_operation(document: dict[str, Any]) -> None:
    pages = sorted(m.page.rsplit("/", 1)[-1][: -len(".md")] for m in openapi.METHODS
                   if m.page.startswith("catalog/document/"))
    assert pages == FAMILY
    for method in openapi.METHODS:
        operation = document["paths"][f"/{method.name}"]["post"]
        assert operation.get("deprecated", False) is ("/outdated/" in method.page), method.name
        if method.tag.startswith("catalog.document"):
            assert method.success == f"result/{method.name}", "every family method has its own result schema"


def _links(document: dict[str, Any], method: str) -> dict[str, Any]:
    return document["paths"][f"/{method}"]["post"]["responses"]["200"].get("links", {})


def test_links_point_at_operations(document: dict[str, Any]) -> None:
    by_id = {item["post"]["operationId"]: path for path, item in document["paths"].items()}
    assert _links(document, "catalog.document.add")["UpdateCreated"]["requestBody"] == {
        "id": "$response.body#/result/document/id"}
    assert _links(document, "catalog.document.add")["AddItem"]["requestBody"] == {
        "fields": {"docId": "$response.body#/result/document/id"}}
    assert _links(document, "catalog.document.element.add")["UpdateItem"]["requestBody"] == {
        "id": "$response.body#/result/documentElement/id"}
    assert _links(document, "catalog.document.conduct")["CancelConducted"]["operationId"] == "catalogDocumentCancel"
    total = 0
    for item in document["paths"].values():
        for link in item["post"]["responses"]["200"].get("links", {}).values():
            total += 1
            assert link["operationId"] in by_id, link
            # every expression reads the source's response or request body by a JSON pointer
            for expression in _expressions(link["requestBody"]):
                source, _, pointer = expression.partition("#")
                assert source in {"$response.body", "$request.body"}, expression
                operation = item["post"]
                body = (operation["responses"]["200"] if source == "$response.body"
                        else operation["requestBody"])["content"]["application/json"]["schema"]
                assert _schema_at(document, body, pointer) is not None, f"{expression}: no such field"
    assert total == sum(len(links) for links in openapi.LINKS.values())


def _schema_at(document: dict[str, Any], schema: dict[str, Any], pointer: str) -> Any:
    """The subschema a JSON pointer into an instance lands on (through $ref, allOf and properties), or None."""
    node: Any = schema
    for part in pointer.removeprefix("/").split("/"):
        node = _property(document, node, part)
        if node is None:
            return None
    return node


def _property(document: dict[str, Any], node: dict[str, Any], name: str) -> Any:
    """The schema's own `properties[name]` first (it narrows what an allOf'd envelope leaves open)."""
    if name in node.get("properties", {}):
        return node["properties"][name]
    for part in ([_pointer(document, node["$ref"])] if "$ref" in node else []) + node.get("allOf", []):
        found = _property(document, part, name)
        if found is not None:
            return found
    return None


def _expressions(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [e for value in node.values() for e in _expressions(value)]
    if isinstance(node, list):
        return [e for value in node for e in _expressions(value)]
    return [node] if isinstance(node, str) and node.startswith("$") else []


def _walk(document: dict[str, Any], start: str, steps: list[str]) -> list[str]:
    by_id = {item["post"]["operationId"]: path.lstrip("/") for path, item in document["paths"].items()}
    seen = [start]
    for link_name in steps:
        seen.append(by_id[_links(document, seen[-1])[link_name]["operationId"]])
    return seen


def test_links_walk_the_document_life(document: dict[str, Any]) -> None:
    """add -> element.add -> conduct -> cancel -> delete, and the item edits, are reachable link by link."""
    assert _walk(document, "catalog.document.add", ["AddItem", "ConductFilled", "CancelConducted",
                                                     "DeleteCancelled"]) == [
        "catalog.document.add", "catalog.document.element.add", "catalog.document.conduct",
        "catalog.document.cancel", "catalog.document.delete"]
    assert _walk(document, "catalog.document.add", ["AddItem", "UpdateItem", "DeleteEdited"])[-1] == (
        "catalog.document.element.delete")
    assert _walk(document, "catalog.document.add", ["AddItem", "ConductListFilled", "CancelListConducted",
                                                     "DeleteListCancelled"])[-1] == "catalog.document.deleteList"


def test_committed_file_is_current(document: dict[str, Any]) -> None:
    path = openapi.committed_path()
    assert path.is_file(), "regenerate: python -m b24_conformance.contract.openapi > schemas/openapi.json"
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == document, (
        "schemas/openapi.json is stale; regenerate: python -m b24_conformance.contract.openapi > schemas/openapi.json"
    )
    assert text == openapi.dumps(document)


def test_write_openapi(tmp_path: Any, document: dict[str, Any]) -> None:
    target = openapi.write_openapi(tmp_path / "openapi.json")
    assert json.loads(target.read_text(encoding="utf-8")) == document


def _response(status: int, body: Any, path: str) -> schemathesis.Response:
    request = requests.Request("POST", f"http://127.0.0.1/rest/1/x{path}", json={}).prepare()
    return schemathesis.Response(
        status_code=status,
        headers={"content-type": ["application/json"]},
        content=json.dumps(body).encode(),
        request=request,
        elapsed=0.0,
        verify=True,
    )


@pytest.mark.parametrize(
    ("path", "status", "body", "valid"),
    [
        pytest.param("/catalog.document.cancel", 200, SUCCESS, True, id="cancel-200-true"),
        pytest.param("/catalog.document.cancel", 200, {**SUCCESS, "result": "true"}, False, id="cancel-200-string"),
        pytest.param("/catalog.document.cancel", 400, {"error": "0", "error_description": "x"}, True, id="cancel-400"),
        pytest.param("/catalog.document.cancel", 400, {"error": {"code": 1}, "error_description": "x"}, False,
                     id="cancel-400-v3-object"),
        pytest.param("/catalog.document.cancel", 503, {"error": "QUERY_LIMIT_EXCEEDED",
                                                       "error_description": "Too many requests"}, True, id="cancel-503"),
        pytest.param("/catalog.document.delete", 200, {**SUCCESS, "result": None}, True, id="delete-200-null"),
        pytest.param("/catalog.document.list", 200,
                     {"result": {"documents": [{"id": 1, "status": "Y"}]}, "total": 1, "time": TIME}, True,
                     id="list-200"),
        pytest.param("/catalog.document.list", 200, {"result": {"documents": [{"id": "1"}]}, "time": TIME}, False,
                     id="list-200-string-id"),
    ],
)
def test_responses_validate_through_schemathesis(loaded: Any, path: str, status: int, body: Any, valid: bool) -> None:
    operation = loaded[path]["POST"]
    assert operation.is_valid_response(_response(status, body, path)) is valid
