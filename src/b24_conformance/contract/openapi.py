"""An OpenAPI 3.1 description of the catalog.document.* family, assembled from the JSON Schema files.

Bitrix24 REST is RPC over HTTP: each method is `POST {base}/{method}` with a JSON body, success is HTTP 200
`{"result", "time"}` and failure is `{"error", "error_description"}` with a 4xx/5xx status. Each method becomes
one path (`/catalog.document.cancel`); the webhook prefix `/rest/{user_id}/{code}` belongs in the base URL.
The schema files are embedded under `components/schemas` with their `$ref`s rewritten, so the document stands
alone. Regenerate the committed copy with `python -m b24_conformance.contract.openapi > schemas/openapi.json`.
"""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import paths as data_paths
from ..errors import ContractError
from . import schemas

OPENAPI_VERSION = "3.1.0"
DOCS_SNAPSHOT = "b24restdocs@5988ed13"  # the EN docs snapshot the schemas were written from (bitrix-spec.md)
ERROR_STATUSES: tuple[str, ...] = ("400", "401", "403", "404", "405", "429", "503")
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Method:
    """One REST method: its name, the schema of its request body and of its HTTP 200 body."""

    name: str
    request: str
    success: str
    page: str  # docs page, relative to api-reference/
    tag: str
    deprecated: bool = False


def _doc(name: str, page: str, tag: str = "catalog.document", *, deprecated: bool = False) -> Method:
    return Method(name=name, request=f"request/{name}", success=f"result/{name}", page=page, tag=tag,
                  deprecated=deprecated)


_D = "catalog/document/"
_E = "catalog/document/document-element/"
_O = "catalog/document/outdated/"
_ELEMENT = "catalog.document.element"
METHODS: tuple[Method, ...] = (
    _doc("catalog.document.add", _D + "catalog-document-add.md"),
    _doc("catalog.document.update", _D + "catalog-document-update.md"),
    _doc("catalog.document.list", _D + "catalog-document-list.md"),
    _doc("catalog.document.getFields", _D + "catalog-document-get-fields.md"),
    _doc("catalog.document.mode.status", _D + "catalog-document-mode-status.md"),
    _doc("catalog.document.conduct", _D + "catalog-document-conduct.md"),
    _doc("catalog.document.cancel", _D + "catalog-document-cancel.md"),
    _doc("catalog.document.conductList", _D + "catalog-document-conduct-list.md"),
    _doc("catalog.document.cancelList", _D + "catalog-document-cancel-list.md"),
    _doc("catalog.document.delete", _D + "catalog-document-delete.md"),
    _doc("catalog.document.deleteList", _D + "catalog-document-delete-list.md"),
    _doc("catalog.document.element.add", _E + "catalog-document-element-add.md", _ELEMENT),
    _doc("catalog.document.element.update", _E + "catalog-document-element-update.md", _ELEMENT),
    _doc("catalog.document.element.delete", _E + "catalog-document-element-delete.md", _ELEMENT),
    _doc("catalog.document.element.list", _E + "catalog-document-element-list.md", _ELEMENT),
    _doc("catalog.document.element.getFields", _E + "catalog-document-element-get-fields.md", _ELEMENT),
    _doc("catalog.document.confirm", _O + "catalog-document-confirm.md", deprecated=True),
    _doc("catalog.document.unconfirm", _O + "catalog-document-unconfirm.md", deprecated=True),
    _doc("catalog.document.fields", _O + "catalog-document-fields.md", deprecated=True),
    _doc("catalog.document.element.fields", _O + "catalog-document-element-fields.md", _ELEMENT, deprecated=True),
    _doc("catalog.storeproduct.list", "catalog/store-product/catalog-store-product-list.md", "catalog.storeproduct"),
    _doc("catalog.storeproduct.get", "catalog/store-product/catalog-store-product-get.md", "catalog.storeproduct"),
    Method(name="batch", request="request/batch", success="batch",
           page="../settings/how-to-call-rest-api/batch.md", tag="batch"),
)


def operation_id(method: str) -> str:
    """camelCase of the dotted name: catalog.document.cancelList -> catalogDocumentCancelList."""
    head, *rest = method.split(".")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _link(target: str, body: dict[str, Any], description: str) -> dict[str, Any]:
    link: dict[str, Any] = {"operationId": operation_id(target), "requestBody": body, "description": description}
    if "documentIds" in body:
        # A *List call names exactly the linked documents: merged index by index into a generated list, the
        # link would keep random ids after the first, and every call would fail on them.
        link["x-schemathesis"] = {"merge_body": False}
    return link


_NEW_DOC = "$response.body#/result/document/id"
_ITEM_DOC = "$response.body#/result/documentElement/docId"
_ITEM = "$response.body#/result/documentElement/id"
_SAME_DOC = "$request.body#/id"

# The document life as OpenAPI links: add -> element.add -> conduct -> cancel -> delete, each step also in
# its *List form, plus the item edits (element.update, element.delete) and the reads that watch them. The
# nested requestBody object is a Schemathesis extension (plain OpenAPI allows one expression per link);
# Schemathesis merges it into the body it generates, so the other fields still vary (the *List links replace
# the body instead, `x-schemathesis.merge_body: false`). Other tools read it as a literal and ignore it.
LINKS: dict[str, dict[str, dict[str, Any]]] = {
    "catalog.document.add": {
        "AddItem": _link("catalog.document.element.add", {"fields": {"docId": _NEW_DOC}},
                         "Add an item to the document just created."),
        "UpdateCreated": _link("catalog.document.update", {"id": _NEW_DOC}, "Edit the draft just created."),
    },
    "catalog.document.element.add": {
        "ConductFilled": _link("catalog.document.conduct", {"id": _ITEM_DOC},
                               "Conduct the document the item was added to."),
        "ConductListFilled": _link("catalog.document.conductList", {"documentIds": [_ITEM_DOC]},
                                   "Conduct the document the item was added to, by the list method."),
        "UpdateItem": _link("catalog.document.element.update", {"id": _ITEM}, "Edit the item just added."),
        "DeleteItem": _link("catalog.document.element.delete", {"id": _ITEM}, "Delete the item just added."),
    },
    "catalog.document.element.update": {
        "ConductEdited": _link("catalog.document.conduct", {"id": _ITEM_DOC},
                               "Conduct the document whose item was edited."),
        "DeleteEdited": _link("catalog.document.element.delete", {"id": _ITEM}, "Delete the item just edited."),
    },
    "catalog.document.conduct": {
        "CancelConducted": _link("catalog.document.cancel", {"id": _SAME_DOC}, "Cancel the document just conducted."),
        "CancelListConducted": _link("catalog.document.cancelList", {"documentIds": [_SAME_DOC]},
                                     "Cancel the document just conducted, by the list method."),
        "DeleteConducted": _link("catalog.document.delete", {"id": _SAME_DOC},
                                 "Delete a conducted document: the page answers null, nothing deleted."),
    },
    "catalog.document.conductList": {
        "CancelListConducted": _link("catalog.document.cancelList", {"documentIds": "$request.body#/documentIds"},
                                     "Cancel the documents just conducted."),
    },
    "catalog.document.cancel": {
        "DeleteCancelled": _link("catalog.document.delete", {"id": _SAME_DOC}, "Delete the cancelled document."),
        "DeleteListCancelled": _link("catalog.document.deleteList", {"documentIds": [_SAME_DOC]},
                                     "Delete the cancelled document, by the list method."),
        "ConductAgain": _link("catalog.document.conduct", {"id": _SAME_DOC}, "Conduct the cancelled document again."),
    },
    "catalog.document.cancelList": {
        "DeleteListCancelled": _link("catalog.document.deleteList", {"documentIds": "$request.body#/documentIds"},
                                     "Delete the documents just cancelled."),
    },
}


def component_name(schema_name: str) -> str:
    """Component key for a schema file (keys may not hold '/'): request/x.y -> request.x.y."""
    return schema_name.replace("/", ".")


def _component_ref(schema_name: str, fragment: str = "") -> str:
    return f"#/components/schemas/{component_name(schema_name)}{fragment}"


def _rewrite_ref(ref: str, current: str) -> tuple[str, str | None]:
    """(the rewritten `$ref`, the schema name it points into, or None for a local pointer)."""
    if ref.startswith("#"):
        return _component_ref(current, ref[1:]), None
    if ref.startswith(schemas.ID_BASE):
        target, _, fragment = ref[len(schemas.ID_BASE):].partition("#")
        if target.endswith(schemas.SUFFIX):
            name = target[: -len(schemas.SUFFIX)]
            return _component_ref(name, fragment), name
    raise ContractError(f"schema {current!r}: cannot embed $ref {ref!r} (only {schemas.ID_BASE}… and '#…' are supported)")


def _embed(node: Any, current: str, found: set[str]) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key], target = _rewrite_ref(value, current)
                if target is not None:
                    found.add(target)
            else:
                out[key] = _embed(value, current, found)
        return out
    if isinstance(node, list):
        return [_embed(item, current, found) for item in node]
    return node


def embedded_components(roots: list[str]) -> dict[str, Any]:
    """The schema files reachable from `roots`, as OpenAPI components with `$id`/`$schema` dropped.

    `$id` must go: inside an OpenAPI document it would reset the base URI and break the `#/components/...` refs.
    """
    out: dict[str, Any] = {}
    pending = list(dict.fromkeys(roots))
    while pending:
        name = pending.pop(0)
        if component_name(name) in out:
            continue
        raw = copy.deepcopy(schemas.schema(name))
        raw.pop("$schema", None)
        raw.pop("$id", None)
        found: set[str] = set()
        out[component_name(name)] = _embed(raw, name, found)
        pending.extend(sorted(found))
    return dict(sorted(out.items()))


def _operation(method: Method) -> dict[str, Any]:
    request = schemas.schema(method.request)
    has_required = bool(request.get("required"))
    ok: dict[str, Any] = {
        "description": f"Success: `{method.success}`.",
        "content": {JSON: {"schema": {"$ref": _component_ref(method.success)}}},
    }
    if method.name in LINKS:
        ok["links"] = copy.deepcopy(LINKS[method.name])
    responses: dict[str, Any] = {"200": ok}
    for status in ERROR_STATUSES:
        responses[status] = {"$ref": f"#/components/responses/Error{status}"}
    operation: dict[str, Any] = {
        "operationId": operation_id(method.name),
        "summary": method.name,
        "description": f"{request.get('description', method.name)}\n\nDocs: `api-reference/{method.page}`.",
        "tags": [method.tag],
        "requestBody": {
            "required": has_required,
            "content": {JSON: {"schema": {"$ref": _component_ref(method.request)}}},
        },
        "responses": responses,
    }
    if method.deprecated:
        operation["deprecated"] = True
    return operation


# How schemathesis' checks fit an RPC API whose business errors are HTTP 400 (contract-testing-anchors.md §1.4,
# §1.7), for `SchemathesisConfig.from_dict({"checks": SCHEMATHESIS_CHECKS, ...})` or a schemathesis.toml:
# no 5xx ever; a schema-valid body may still meet a documented business error (400); Bitrix serves GET and POST
# for every method and sends no `Allow`; the REST-verb resource checks (DELETE then 404) do not apply.
SCHEMATHESIS_CHECKS: dict[str, dict[str, Any]] = {
    "not_a_server_error": {"enabled": True},
    "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]},
    "unsupported_method": {"enabled": False},
    "allow_header_conformance": {"enabled": False},
    "use_after_free": {"enabled": False},
    "ensure_resource_availability": {"enabled": False},
}


_ERROR_MEANINGS = {
    "400": "Business or parameter error (documented code \"0\", 100, ERROR_*), or INVALID_REQUEST \"Https required\".",
    "401": "NO_AUTH_FOUND / INVALID_CREDENTIALS / expired_token.",
    "403": "insufficient_scope, ACCESS_DENIED, user_access_error.",
    "404": "ERROR_METHOD_NOT_FOUND.",
    "405": "ERROR_BATCH_METHOD_NOT_ALLOWED.",
    "429": "OPERATION_TIME_LIMIT (operating budget exhausted).",
    "503": "QUERY_LIMIT_EXCEEDED (leaky-bucket rate limit) or OVERLOAD_LIMIT.",
}


def build_openapi() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document, as a plain dict (deterministic: same files, same output)."""
    paths = {f"/{m.name}": {"post": _operation(m)} for m in METHODS}
    roots = ["error"] + [name for m in METHODS for name in (m.request, m.success)]
    responses = {
        f"Error{status}": {
            "description": meaning,
            "content": {JSON: {"schema": {"$ref": _component_ref("error")}}},
        }
        for status, meaning in _ERROR_MEANINGS.items()
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Bitrix24 REST: catalog.document.* (b24-conformance)",
            "version": DOCS_SNAPSHOT,
            "summary": "Inventory documents, their items, stock balances and batch, as the official docs describe them.",
            "description": (
                "RPC over HTTP: every method is `POST {base}/{method}` with a JSON body. HTTP 200 carries "
                "`{result, time}`; errors carry `{error, error_description}` with the status shown. "
                "Generated from the JSON Schema files in `schemas/` by `b24_conformance.contract.openapi`; "
                "do not edit by hand."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [
            {
                "url": "{base}",
                "description": (
                    "The portal's REST root including the credential: for an incoming webhook "
                    "`https://{portal}/rest/{user_id}/{code}` (the webhook prefix goes in the base URL, not in the "
                    "paths); for OAuth `https://{portal}/rest` with `auth` in the body."
                ),
                "variables": {"base": {"default": "https://portal.example/rest/1/webhook_code"}},
            }
        ],
        "tags": [
            {"name": "catalog.document", "description": "Inventory documents."},
            {"name": "catalog.document.element", "description": "Items of inventory documents."},
            {"name": "catalog.storeproduct", "description": "Stock balances per product and warehouse."},
            {"name": "batch", "description": "Up to 50 sub-requests in one call."},
        ],
        "paths": paths,
        "components": {"schemas": embedded_components(roots), "responses": responses},
    }


def dumps(document: dict[str, Any]) -> str:
    """The canonical text of the committed file."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def committed_path() -> Path:
    return data_paths.schemas_dir() / "openapi.json"


def write_openapi(path: Path | str | None = None) -> Path:
    """Write `build_openapi()` to `path` (default: the committed `schemas/openapi.json`)."""
    target = Path(path) if path is not None else committed_path()
    target.write_text(dumps(build_openapi()), encoding="utf-8")
    return target


if __name__ == "__main__":
    sys.stdout.write(dumps(build_openapi()))
