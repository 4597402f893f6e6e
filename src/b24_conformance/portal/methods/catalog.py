"""The handlers around the documents: `catalog.enum.getStoreDocumentTypes`, `catalog.storeproduct.*`
(balance rows), `catalog.catalog.list`, and `catalog.product.*` and `catalog.store.*` CRUD."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..entities import DOC_TYPES, TYPE_NAMES
from ..errors import PortalError
from ..fields import CATALOG_TYPES, PRODUCT_TYPES, STORE_PRODUCT_TYPES, STORE_TYPES
from ..listing import ListResult, list_result, split_filter_key
from ..params import (
    fields_param,
    int_param,
    invalid,
    required,
    to_double,
    to_flag,
    to_int,
    to_object,
    to_present_id,
    to_text,
)
from .context import CallContext, Handler, require_admin, require_read


def enum_document_types(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    return {"enum": [{"id": t, "name": TYPE_NAMES[t]} for t in DOC_TYPES]}


def store_product_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    require_read(ctx, "storeproduct.denied")
    return list_result("storeProducts", ctx.catalog().store_products(), STORE_PRODUCT_TYPES, params)


def store_product_get(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    row_id = int_param(params, "id")
    require_read(ctx, "storeproduct.denied")
    found = ctx.catalog().store_product(row_id)
    if found is None:
        raise PortalError("storeproduct.not-found")
    return {"storeProduct": found.to_api()}


def catalog_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    return list_result("catalogs", require_admin(ctx).catalogs(), CATALOG_TYPES, params)


def product_add(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    fields = fields_param(params)
    catalog = require_admin(ctx)
    iblock_id = to_int(required(fields, "iblockId"), "iblockId")
    name = to_text(required(fields, "name"), "name")
    if not name:
        raise PortalError("param.missing", param="name")
    extra = {
        "active": to_flag(fields.get("active", "Y"), "active"),
        "code": to_text(fields.get("code"), "code"),
        "xmlId": to_text(fields.get("xmlId"), "xmlId"),
    }
    product = catalog.add_product(iblock_id, name, extra)
    if product is None:
        raise invalid(iblock_id, "iblockId", "catalog_catalog.id")
    return {"element": product.to_api()}


def product_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    require_read(ctx, "admin.denied")
    filters = to_object(params.get("filter") or {}, "filter")
    if not any(split_filter_key(k)[1].lower() == "iblockid" for k in filters):
        raise PortalError("param.missing", param="iblockId")
    return list_result("products", ctx.catalog().products(), PRODUCT_TYPES, params)


def product_delete(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    product_id = int_param(params, "id")
    if not require_admin(ctx).delete_product(product_id):
        raise invalid(product_id, "id", "catalog_product.id")
    return True


_STORE_PARSERS: Mapping[str, Callable[[Any, str], Any]] = {
    "title": to_text,
    "address": to_text,
    "active": to_flag,
    "code": to_text,
    "description": to_text,
    "email": to_text,
    "phone": to_text,
    "schedule": to_text,
    "xmlId": to_text,
    "sort": lambda v, p: 100 if v is None else to_present_id(v, p),
    "gpsN": to_double,
    "gpsS": to_double,
    "issuingCenter": to_flag,
}


def store_add(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    fields = fields_param(params)
    if not fields:
        raise PortalError("param.missing", param="fields")
    catalog = require_admin(ctx)
    values = {k: parse(fields[k], k) for k, parse in _STORE_PARSERS.items() if k in fields}
    if not values.get("address"):
        raise PortalError("param.missing", param="address")
    return {"store": catalog.add_store(values).to_api()}


def store_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    return list_result("stores", require_admin(ctx).stores(), STORE_TYPES, params)


def store_delete(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    store_id = int_param(params, "id")
    if not require_admin(ctx).delete_store(store_id):
        raise invalid(store_id, "id", "catalog_store.id")
    return True


HANDLERS: tuple[tuple[str, Handler], ...] = (
    ("catalog.enum.getStoreDocumentTypes", enum_document_types),
    ("catalog.storeproduct.list", store_product_list),
    ("catalog.storeproduct.get", store_product_get),
    ("catalog.catalog.list", catalog_list),
    ("catalog.product.add", product_add),
    ("catalog.product.list", product_list),
    ("catalog.product.delete", product_delete),
    ("catalog.store.add", store_add),
    ("catalog.store.list", store_list),
    ("catalog.store.delete", store_delete),
)
