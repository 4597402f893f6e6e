"""The `catalog.document.*` handlers (add, update, list, getFields, mode.status, delete, conduct, cancel,
their list variants and the deprecated aliases) and the message keys each action uses."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..entities import DOC_TYPES, ActionKeys, DocumentRef, NewDocument
from ..errors import PortalError
from ..fields import DOCUMENT_FIELDS, DOCUMENT_TYPES, deprecated_fields
from ..inventory import Inventory
from ..listing import ListResult, list_result
from ..params import (
    fields_param,
    int_param,
    invalid,
    maybe_int,
    required,
    shown,
    to_array,
    to_datetime,
    to_double,
    to_id,
    to_present_id,
    to_text,
)
from .context import CallContext, Handler, require_read

_CURRENCY = re.compile(r"[A-Z]{3}")

CONDUCT = ActionKeys("conduct.not-found", "conduct.no-rights", "conduct.no-store-rights", "conduct.failed")
CONDUCT_LIST = ActionKeys(
    "conduct-list.not-found", "conduct-list.no-rights", "conduct-list.no-rights", "conduct-list.failed"
)
CANCEL = ActionKeys("cancel.not-found", "cancel.no-rights", "cancel.no-store-rights", "cancel.not-conducted")
CANCEL_LIST = ActionKeys(
    "cancel-list.not-found", "cancel-list.no-rights", "cancel-list.no-rights", "cancel-list.not-conducted"
)
DELETE = ActionKeys("delete.not-found", "delete.no-rights", "delete.no-rights", "")
DELETE_LIST = ActionKeys(
    "delete-list.not-found", "delete-list.no-rights", "delete-list.no-rights", "delete-list.conducted"
)
UPDATE = ActionKeys("update.not-found", "update.no-rights", "update.no-rights", "")


def document_add(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    fields = fields_param(params)
    inv = ctx.inventory()
    inv.require_plan("add.plan")
    doc_type = fields.get("docType")
    if not isinstance(doc_type, str) or doc_type not in DOC_TYPES:
        raise PortalError("add.bad-doc-type")
    if not inv.rights.may("edit", doc_type):
        raise PortalError("add.no-rights")
    currency = to_text(required(fields, "currency"), "currency")
    if not currency:
        raise PortalError("param.missing", param="currency")
    if not _CURRENCY.fullmatch(currency):
        raise invalid(currency, "currency", "string")
    new = NewDocument(
        doc_type=doc_type,
        currency=currency,
        responsible_id=to_present_id(required(fields, "responsibleId"), "responsibleId"),
        site_id=to_text(fields.get("siteId"), "siteId") or "s1",
        date_document=to_datetime(fields.get("dateDocument"), "dateDocument"),
        title=to_text(fields.get("title"), "title") or None,
        commentary=to_text(fields.get("commentary"), "commentary"),
        total=to_double(fields.get("total"), "total"),
        doc_number=to_text(fields.get("docNumber"), "docNumber") or None,
        created_by=to_id(fields.get("createdBy"), "createdBy"),
    )
    return {"document": inv.add_document(new).to_api()}


def _raise_missing(param: str) -> Any:
    raise PortalError("param.missing", param=param)


_UPDATE_PARSERS: Mapping[str, Callable[[Any, str], Any]] = {
    "responsibleId": lambda v, p: to_present_id(v, p) if v is not None else _raise_missing(p),
    "dateModify": lambda v, p: to_datetime(v, p),
    "dateDocument": to_datetime,
    "total": to_double,
    "commentary": to_text,
    "title": lambda v, p: to_text(v, p) or None,
    "docNumber": to_text,
    "modifiedBy": to_id,
}


def document_update(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    doc_id = int_param(params, "id")
    fields = fields_param(params)
    inv = ctx.inventory()
    inv.require_plan("update.plan")
    changes = {k: parse(fields[k], k) for k, parse in _UPDATE_PARSERS.items() if k in fields}
    if changes.get("dateModify") is None:
        changes.pop("dateModify", None)
    return {"document": inv.update_document(doc_id, changes, UPDATE).to_api()}


def document_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    if not ctx.deviations.list_ignores_read_right:
        require_read(ctx, "read.no-rights")
    return list_result("documents", ctx.inventory().documents(), DOCUMENT_TYPES, params,
                       deviations=ctx.deviations)


def document_get_fields(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    require_read(ctx, "read.no-rights")
    return {"document": {k: dict(v) for k, v in DOCUMENT_FIELDS.items()}}


def document_fields(ctx: CallContext, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Deprecated catalog.document.fields: getFields' descriptions in the old shape, with its rights."""
    require_read(ctx, "read.no-rights")
    return deprecated_fields(DOCUMENT_FIELDS)


def mode_status(ctx: CallContext, params: Mapping[str, Any]) -> str:
    require_read(ctx, "mode-status.denied")
    return "Y" if ctx.inventory().mode_enabled else "N"


def _one_document(
    ctx: CallContext, params: Mapping[str, Any], plan_key: str, mode_key: str | None
) -> tuple[Inventory, int]:
    """A per-document action's `id`, then its plan and mode checks."""
    doc_id = int_param(params, "id")
    inv = ctx.inventory()
    inv.require_plan(plan_key)
    if mode_key is not None:
        inv.require_mode(mode_key)
    return inv, doc_id


def document_delete(ctx: CallContext, params: Mapping[str, Any]) -> bool | None:
    inv, doc_id = _one_document(ctx, params, "delete.plan", None)  # delete does not check the mode
    return inv.delete_document(doc_id, DELETE, shown_id=shown(doc_id))


def document_conduct(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    inv, doc_id = _one_document(ctx, params, "conduct.plan", "conduct.mode-disabled")
    inv.conduct(doc_id, CONDUCT, shown_id=shown(doc_id))
    return True


def document_cancel(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    inv, doc_id = _one_document(ctx, params, "cancel.plan", "cancel.mode-disabled")
    inv.cancel(doc_id, CANCEL, shown_id=shown(doc_id))
    return True


def _for_each_document(
    ctx: CallContext, params: Mapping[str, Any], plan_key: str, mode_key: str | None
) -> tuple[Inventory, list[DocumentRef]]:
    """A list variant's `documentIds` as given (an item that is no integer names no document and is
    shown as sent), then its plan and mode checks, once for the whole list."""
    ids = to_array(required(params, "documentIds"), "documentIds")
    inv = ctx.inventory()
    inv.require_plan(plan_key)
    if mode_key is not None:
        inv.require_mode(mode_key)
    return inv, [DocumentRef(maybe_int(raw), shown(raw)) for raw in ids]


def document_conduct_list(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    inv, refs = _for_each_document(ctx, params, "conduct-list.plan", "conduct-list.mode-disabled")
    inv.conduct_list(refs, CONDUCT_LIST)
    return True


def document_cancel_list(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    inv, refs = _for_each_document(ctx, params, "cancel-list.plan", "cancel-list.mode-disabled")
    inv.cancel_list(refs, CANCEL_LIST)
    return True


def document_delete_list(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    inv, refs = _for_each_document(ctx, params, "delete-list.plan", None)  # delete does not check the mode
    inv.delete_list(refs, DELETE_LIST)
    return True


HANDLERS: tuple[tuple[str, Handler], ...] = (
    ("catalog.document.add", document_add),
    ("catalog.document.update", document_update),
    ("catalog.document.list", document_list),
    ("catalog.document.getFields", document_get_fields),
    ("catalog.document.mode.status", mode_status),
    ("catalog.document.delete", document_delete),
    ("catalog.document.deleteList", document_delete_list),
    ("catalog.document.conduct", document_conduct),
    ("catalog.document.conductList", document_conduct_list),
    ("catalog.document.cancel", document_cancel),
    ("catalog.document.cancelList", document_cancel_list),
    ("catalog.document.confirm", document_conduct),
    ("catalog.document.unconfirm", document_cancel),
    ("catalog.document.fields", document_fields),
)
