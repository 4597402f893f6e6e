"""Field descriptions: what `getFields` answers, and the field types `list` filters and orders by."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _describe(
    type_: str, *, required: bool = False, read_only: bool = False, immutable: bool = False
) -> dict[str, Any]:
    return {"isImmutable": immutable, "isReadOnly": read_only, "isRequired": required, "type": type_}


# catalog-document-get-fields.md, verbatim.
DOCUMENT_FIELDS: Mapping[str, dict[str, Any]] = {
    "commentary": _describe("char"),
    "createdBy": _describe("integer", immutable=True),
    "currency": _describe("char", required=True, immutable=True),
    "dateCreate": _describe("datetime", immutable=True),
    "dateDocument": _describe("datetime"),
    "dateModify": _describe("datetime"),
    "dateStatus": _describe("datetime", read_only=True),
    "docNumber": _describe("string"),
    "docType": _describe("char", required=True, immutable=True),
    "id": _describe("integer", read_only=True),
    "modifiedBy": _describe("integer"),
    "responsibleId": _describe("integer", required=True),
    "siteId": _describe("char"),
    "status": _describe("char", read_only=True),
    "statusBy": _describe("integer"),
    "title": _describe("string"),
    "total": _describe("double"),
}
# catalog-document-element-get-fields.md, verbatim.
ELEMENT_FIELDS: Mapping[str, dict[str, Any]] = {
    "amount": _describe("double"),
    "docId": _describe("integer", required=True, immutable=True),
    "elementId": _describe("integer", required=True, immutable=True),
    "id": _describe("integer", read_only=True),
    "purchasingPrice": _describe("double"),
    "storeFrom": _describe("integer"),
    "storeTo": _describe("integer"),
}
# catalog-documentcontractor-get-fields.md (the response sample)
CONTRACTOR_FIELDS: Mapping[str, dict[str, Any]] = {
    "documentId": _describe("integer", required=True),
    "entityId": _describe("integer", required=True),
    "entityTypeId": _describe("integer", required=True),
    "id": _describe("integer", read_only=True),
}
CONTRACTOR_TYPES = {k: v["type"] for k, v in CONTRACTOR_FIELDS.items()}
DOCUMENT_TYPES = {k: v["type"] for k, v in DOCUMENT_FIELDS.items()}
ELEMENT_TYPES = {k: v["type"] for k, v in ELEMENT_FIELDS.items()}
STORE_PRODUCT_TYPES = {
    "amount": "double",
    "id": "integer",
    "productId": "integer",
    "quantityReserved": "double",
    "storeId": "integer",
}
STORE_TYPES = {
    "active": "char",
    "address": "string",
    "code": "string",
    "dateCreate": "datetime",
    "dateModify": "datetime",
    "description": "string",
    "email": "string",
    "gpsN": "double",
    "gpsS": "double",
    "id": "integer",
    "imageId": "object",
    "issuingCenter": "char",
    "modifiedBy": "integer",
    "phone": "string",
    "schedule": "string",
    "sort": "integer",
    "title": "string",
    "userId": "integer",
    "xmlId": "string",
}
PRODUCT_TYPES = {
    "active": "char",
    "available": "char",
    "code": "string",
    "createdBy": "integer",
    "dateCreate": "datetime",
    "iblockId": "integer",
    "id": "integer",
    "modifiedBy": "integer",
    "name": "string",
    "timestampX": "datetime",
    "type": "integer",
    "xmlId": "string",
}
CATALOG_TYPES = {
    "iblockId": "integer",
    "iblockTypeId": "string",
    "id": "integer",
    "lid": "char",
    "name": "string",
    "productIblockId": "integer",
    "skuPropertyId": "integer",
    "subscription": "char",
    "vatId": "integer",
}


def deprecated_fields(descriptions: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The deprecated `*.fields` answer: `object[]`, one object mapping each field to its description, which
    adds `isMultiple` and `isDynamic` to the getFields keys (outdated/catalog-document-fields.md sample)."""
    return [{name: {**description, "isMultiple": False, "isDynamic": False}
             for name, description in descriptions.items()}]
