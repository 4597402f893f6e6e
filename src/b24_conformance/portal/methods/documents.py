"""The `catalog.document.*` handlers (add, update, list, getFields, mode.status, delete, conduct, cancel,
their list variants and the deprecated aliases) and the message keys each action uses."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
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
    dv = ctx.deviations
    fields = {} if dv.add_fields_optional and "fields" not in params else fields_param(params)
    if dv.add_currency_default:
        fields = {"currency": "USD", **fields}
    inv = ctx.inventory()
    if not dv.add_ignores_plan:
        inv.require_plan("add.plan")
    doc_type = fields.get("docType")
    if dv.add_accepts_unknown_type and doc_type not in DOC_TYPES:
        doc_type = "A"
    if not isinstance(doc_type, str) or doc_type not in DOC_TYPES:
        raise PortalError("add.bad-doc-type")
    if not inv.rights.may("edit", doc_type) and not dv.add_ignores_right:
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
    return {"document": inv.add_document(_deviant_new(dv, new)).to_api()}


def _deviant_new(dv: Any, new: NewDocument) -> NewDocument:
    """The new document as a mutant stores it (unchanged on a faithful portal)."""
    if dv.add_drops_optional:
        new = replace(new, commentary=None, doc_number=None)
    if dv.add_stores_receipt:
        new = replace(new, doc_type="A", currency="USD")
    return new


def _document_id(ctx: CallContext, params: Mapping[str, Any]) -> int | None:
    """The `id` of update and delete; the `document_id_defaults_zero` mutant looks up 0 when it is missing."""
    if ctx.deviations.document_id_defaults_zero and "id" not in params:
        return 0
    return int_param(params, "id")


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
    dv = ctx.deviations
    doc_id = _document_id(ctx, params)
    fields = fields_param(params)
    inv = ctx.inventory()
    if not dv.update_ignores_plan:
        inv.require_plan("update.plan")
    changes = {k: parse(fields[k], k) for k, parse in _UPDATE_PARSERS.items() if k in fields}
    if changes.get("dateModify") is None:
        changes.pop("dateModify", None)
    if dv.update_resets_unsent:
        changes = {**{k: None for k in ("commentary", "docNumber", "title", "total")}, **changes}
    if dv.update_drops_doc_number:
        changes.pop("docNumber", None)
    keys = replace(UPDATE, not_found="delete.not-found") if dv.update_missing_says_not_found else UPDATE
    return {"document": inv.update_document(doc_id, changes, keys).to_api()}


def document_list(ctx: CallContext, params: Mapping[str, Any]) -> ListResult:
    if not ctx.deviations.list_ignores_read_right:
        require_read(ctx, "read.no-rights")
    return list_result("documents", ctx.inventory().documents(), DOCUMENT_TYPES, params,
                       deviations=ctx.deviations)


def document_get_fields(ctx: CallContext, params: Mapping[str, Any]) -> dict[str, Any]:
    dv = ctx.deviations
    if not dv.get_fields_ignores_read:
        require_read(ctx, "read.no-rights")
    if dv.get_fields_requires_edit and not ctx.rights.may("edit", "A"):
        raise PortalError("read.no-rights")
    if dv.get_fields_old_shape:
        return {"document": deprecated_fields(DOCUMENT_FIELDS)}
    return {"document": {k: _deviant_field(dv, k, v) for k, v in DOCUMENT_FIELDS.items()}}


def _deviant_field(dv: Any, name: str, description: Mapping[str, Any]) -> dict[str, Any]:
    """One field's description as a mutant gives it (unchanged on a faithful portal)."""
    out = dict(description)
    if dv.get_fields_all_optional:
        out["isRequired"] = False
    if dv.get_fields_immutable_editable and name in ("currency", "docType"):
        out["isImmutable"] = False
    return out


def document_fields(ctx: CallContext, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Deprecated catalog.document.fields: getFields' descriptions in the old shape, with its rights."""
    require_read(ctx, "read.no-rights")
    return deprecated_fields(DOCUMENT_FIELDS)


def mode_status(ctx: CallContext, params: Mapping[str, Any]) -> str | bool:
    dv = ctx.deviations
    if not dv.mode_status_ignores_read:
        require_read(ctx, "mode-status.denied")
    if dv.mode_status_requires_admin and not ctx.rights.is_admin:
        raise PortalError("mode-status.denied")
    enabled = ctx.inventory().mode_enabled or dv.mode_status_always_y
    if dv.mode_status_boolean:
        return enabled
    return "Y" if enabled else "N"


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
    dv = ctx.deviations
    doc_id = _document_id(ctx, params)
    inv = ctx.inventory()
    if not dv.delete_ignores_plan:
        inv.require_plan("delete.plan")  # delete does not check the mode
    if dv.delete_missing_succeeds and inv.document(doc_id) is None:
        return True
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
    dv = ctx.deviations
    if dv.delete_list_ids_optional and "documentIds" not in params:
        params = {**params, "documentIds": []}
    if dv.delete_list_ignores_plan:
        ids = to_array(required(params, "documentIds"), "documentIds")
        inv, refs = ctx.inventory(), [DocumentRef(maybe_int(raw), shown(raw)) for raw in ids]
    else:
        inv, refs = _for_each_document(ctx, params, "delete-list.plan", None)  # delete does not check the mode
    inv.delete_list(refs, replace(DELETE_LIST, refused="") if dv.delete_list_skips_conducted else DELETE_LIST)
    return True


# The deprecated aliases answer as the methods they stand for, in their own pages' words where those
# differ (CONFIRM, UNCONFIRM); a mutant of an alias switches on its method's deviation for the
# alias's calls only.
CONFIRM = ActionKeys("conduct.not-found", "confirm.no-rights", "conduct.no-store-rights", "confirm.failed")
UNCONFIRM = ActionKeys("unconfirm.not-found", "cancel.no-rights", "cancel.no-store-rights", "unconfirm.not-conducted")
_CONFIRM_AS_CONDUCT = {"confirm_keeps_balances": "conduct_keeps_balances",
                       "confirm_ignores_access": "conduct_ignores_access", "confirm_accepts_empty": "conduct_accepts_empty",
                       "confirm_missing_says_rights": "conduct_missing_says_rights"}
_UNCONFIRM_AS_CANCEL = {"unconfirm_keeps_balances": "cancel_keeps_balances",
                        "unconfirm_ignores_right": "cancel_ignores_cancel_right",
                        "unconfirm_accepts_draft": "cancel_accepts_draft"}


def _as_alias(ctx: CallContext, params: Mapping[str, Any], mapping: Mapping[str, str]) -> tuple[CallContext, Mapping[str, Any]]:
    dv = ctx.deviations
    on = {target: True for name, target in mapping.items() if getattr(dv, name)}
    if dv.alias_id_defaults_zero and "id" not in params:
        params = {**params, "id": 0}
    return (replace(ctx, deviations=replace(dv, **on)) if on else ctx), params


def _alias_document(ctx: CallContext, params: Mapping[str, Any], plan_key: str, mode_key: str,
                    skip_plan: bool) -> tuple[Inventory, int]:
    doc_id = int_param(params, "id")
    inv = ctx.inventory()
    if not skip_plan:
        inv.require_plan(plan_key)
    inv.require_mode(mode_key)
    return inv, doc_id


def document_confirm(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    """Deprecated catalog.document.confirm: catalog.document.conduct under its old name."""
    ctx, params = _as_alias(ctx, params, _CONFIRM_AS_CONDUCT)
    inv, doc_id = _alias_document(ctx, params, "confirm.plan", "conduct.mode-disabled",
                                  ctx.deviations.confirm_ignores_plan)
    inv.conduct(doc_id, CONFIRM, shown_id=shown(doc_id))
    return True


def document_unconfirm(ctx: CallContext, params: Mapping[str, Any]) -> bool:
    """Deprecated catalog.document.unconfirm: catalog.document.cancel under its old name."""
    ctx, params = _as_alias(ctx, params, _UNCONFIRM_AS_CANCEL)
    dv = ctx.deviations
    inv, doc_id = _alias_document(ctx, params, "cancel.plan", "cancel.mode-disabled", dv.unconfirm_ignores_plan)
    keys = replace(UNCONFIRM, not_found="delete.not-found") if dv.unconfirm_missing_says_delete else UNCONFIRM
    inv.cancel(doc_id, keys, shown_id=shown(doc_id))
    return True


def document_fields_alias(ctx: CallContext, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    dv = ctx.deviations
    if dv.fields_ignores_read:
        ctx = replace(ctx, deviations=replace(dv, get_fields_ignores_read=True))
        return deprecated_fields(document_get_fields(ctx, params)["document"])
    if dv.fields_new_shape:
        return document_get_fields(ctx, params)  # type: ignore[return-value]
    return document_fields(ctx, params)


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
    ("catalog.document.confirm", document_confirm),
    ("catalog.document.unconfirm", document_unconfirm),
    ("catalog.document.fields", document_fields_alias),
)
