"""The `catalog.documentcontractor.*` handlers: CRM vendors (suppliers) bound to receipts (type A).

The portal knows a fixed set of CRM vendors (seed.py `VENDORS`); it implements no crm.* method.
With `require_contractor` on, a receipt conducts only with a binding (choice 9 in __init__.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..fields import CONTRACTOR_FIELDS, CONTRACTOR_TYPES
from ..listing import ListResult, list_result
from ..params import fields_param, int_param, required, to_int
from .context import CallContext, Handler, require_read


def contractor_add(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    fields = fields_param(params)
    doc_id = to_int(required(fields, "documentId"), "documentId")
    entity_type_id = to_int(required(fields, "entityTypeId"), "entityTypeId")
    entity_id = to_int(required(fields, "entityId"), "entityId")
    binding = ctx.inventory().bind_contractor(doc_id, entity_type_id, entity_id)
    return {"documentContractor": binding.to_api()}


def contractor_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    require_read(ctx, "contractor.denied")
    return list_result("documentContractor", ctx.inventory().contractors(), CONTRACTOR_TYPES, params)


def contractor_delete(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    ctx.inventory().unbind_contractor(int_param(params, "id"))
    return True


def contractor_get_fields(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    require_read(ctx, "contractor.denied")
    return {"documentContractor": dict(CONTRACTOR_FIELDS)}


HANDLERS: tuple[tuple[str, Handler], ...] = (
    ("catalog.documentcontractor.add", contractor_add),
    ("catalog.documentcontractor.list", contractor_list),
    ("catalog.documentcontractor.delete", contractor_delete),
    ("catalog.documentcontractor.getFields", contractor_get_fields),
)
