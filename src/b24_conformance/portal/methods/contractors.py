"""The `catalog.documentcontractor.*` handlers: CRM vendors (suppliers) bound to receipts (type A).

The portal knows a fixed set of CRM vendors (seed.py `VENDORS`); it implements no crm.* method.
With `require_contractor` on (the default), a receipt conducts only with a binding; the binding
rules, their order and the rights are choice 9 in __init__.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import PortalError
from ..fields import CONTRACTOR_FIELDS, CONTRACTOR_TYPES
from ..listing import ListResult, list_result
from ..params import fields_param, int_param, maybe_int
from .context import CallContext, Handler


def contractor_add(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    """A field that is absent or no integer is refused as its table row words it (choice 9)."""
    fields = fields_param(params)
    doc_id, entity_type_id, entity_id = (maybe_int(fields.get(name))
                                         for name in ("documentId", "entityTypeId", "entityId"))
    binding = ctx.inventory().bind_contractor(doc_id, entity_type_id, entity_id)
    return {"documentContractor": binding.to_api()}


def contractor_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    _require_view(ctx)
    return list_result("documentContractor", ctx.inventory().contractors(), CONTRACTOR_TYPES, params)


def contractor_delete(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    ctx.inventory().unbind_contractor(int_param(params, "id"))
    return True


def contractor_get_fields(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    _require_view(ctx)
    return {"documentContractor": {name: dict(description) for name, description in CONTRACTOR_FIELDS.items()}}


def _require_view(ctx: CallContext) -> None:
    """The list and getFields pages' rights: the product catalog and the inventory section (the
    portal models no per-type view right), else `contractor.denied`."""
    if not (ctx.rights.may_read and ctx.rights.may_use_inventory):
        raise PortalError("contractor.denied")


HANDLERS: tuple[tuple[str, Handler], ...] = (
    ("catalog.documentcontractor.add", contractor_add),
    ("catalog.documentcontractor.list", contractor_list),
    ("catalog.documentcontractor.delete", contractor_delete),
    ("catalog.documentcontractor.getFields", contractor_get_fields),
)
