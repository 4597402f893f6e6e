"""The `catalog.document.element.*` handlers: a document's items (add, update, delete, list, getFields)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from ..deviations import FAITHFUL
from ..entities import NewElement
from ..errors import PortalError
from ..fields import ELEMENT_FIELDS, ELEMENT_TYPES, deprecated_fields
from ..listing import ListResult, list_result
from ..params import fields_param, int_param, required, to_decimal, to_double, to_id, to_int
from .context import CallContext, Handler, require_read

_CHANGE_PARSERS: Mapping[str, Callable[[Any, str], Any]] = {
    "storeFrom": to_id,
    "storeTo": to_id,
    "amount": lambda v, p: Decimal(0) if v is None else to_decimal(v, p),
    "purchasingPrice": to_double,
}


def _element_changes(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: parse(fields[k], k) for k, parse in _CHANGE_PARSERS.items() if k in fields}


def _fields(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    if ctx.deviations.element_params_optional and params.get("fields") is None:
        return {}
    return fields_param(params)


def _id(ctx: CallContext, params: Mapping[str, Any]) -> int:
    if ctx.deviations.element_params_optional and params.get("id") is None:
        return 0
    return int_param(params, "id")


def element_add(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    fields = _fields(ctx, params)
    doc_id = to_int(required(fields, "docId"), "docId")
    product_id = to_int(required(fields, "elementId"), "elementId")
    changes = _element_changes(fields)
    item = NewElement(
        doc_id=doc_id,
        element_id=product_id,
        store_from=changes.get("storeFrom"),
        store_to=changes.get("storeTo"),
        amount=changes.get("amount", Decimal(0)),
        purchasing_price=changes.get("purchasingPrice"),
    )
    return {"documentElement": ctx.inventory().add_element(item).to_api()}


def element_update(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    element_id = _id(ctx, params)
    changes = _element_changes(_fields(ctx, params))
    return {"documentElement": ctx.inventory().update_element(element_id, changes).to_api()}


def element_delete(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    ctx.inventory().delete_element(_id(ctx, params))
    return True


# element.list's own switches for deviations the document list has too (listing.py reads those)
_LIST_DEVIATIONS = {"element_list_next_overlaps": "list_next_overlaps",
                    "element_list_total_of_page": "list_total_of_page",
                    "element_list_ignores_select": "list_ignores_select",
                    "element_list_ignores_order": "list_ignores_order",
                    "element_list_in_first_only": "list_in_first_only",
                    "element_list_greater_inclusive": "list_greater_inclusive",
                    "element_list_ignores_plain_filter": "list_ignores_plain_filter"}


def element_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    dv = ctx.deviations
    if not dv.element_list_ignores_read:
        require_read(ctx, "element.denied")
    if dv.element_list_requires_edit and not ctx.rights.may("edit", "A"):
        raise PortalError("element.denied")
    listing = replace(FAITHFUL, **{shared: True for own, shared in _LIST_DEVIATIONS.items() if getattr(dv, own)})
    return list_result("documentElements", ctx.inventory().visible_elements(), ELEMENT_TYPES, params,
                       deviations=listing)


def element_get_fields(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    dv = ctx.deviations
    if not dv.element_get_fields_ignores_read:
        require_read(ctx, "element.denied")
    if dv.element_get_fields_requires_edit and not ctx.rights.may("edit", "A"):
        raise PortalError("element.denied")
    if dv.element_get_fields_old_shape:
        return {"documentElement": deprecated_fields(ELEMENT_FIELDS)}
    return {"documentElement": {k: _deviant_field(dv, k, v) for k, v in ELEMENT_FIELDS.items()}}


def _deviant_field(dv: Any, name: str, description: Mapping[str, Any]) -> dict[str, Any]:
    """One item field's description as a mutant gives it (unchanged on a faithful portal)."""
    out = dict(description)
    if dv.element_get_fields_all_optional:
        out["isRequired"] = False
    if dv.element_get_fields_immutable_editable and name in ("docId", "elementId"):
        out["isImmutable"] = False
    return out


def element_fields(ctx: CallContext, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Deprecated catalog.document.element.fields: element.getFields' descriptions in the old shape."""
    dv = ctx.deviations
    if dv.element_fields_new_shape:
        return element_get_fields(ctx, params)  # type: ignore[return-value]
    if not dv.element_fields_ignores_read:
        require_read(ctx, "element.denied")
    return deprecated_fields(ELEMENT_FIELDS)


HANDLERS: tuple[tuple[str, Handler], ...] = (
    ("catalog.document.element.add", element_add),
    ("catalog.document.element.update", element_update),
    ("catalog.document.element.delete", element_delete),
    ("catalog.document.element.list", element_list),
    ("catalog.document.element.getFields", element_get_fields),
    ("catalog.document.element.fields", element_fields),
)
