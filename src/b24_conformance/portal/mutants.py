"""Mutants: the named, documented deviations the reference portal can switch on, one declaration each.

A suite that cannot fail is worthless. Each mutant breaks one sentence a doc page says (`breaks`,
quoted), names the clauses that must catch it (`killed_by`) and the field of `Deviations` it
switches on (`switch`); the field's branch point is in the domain or in the wire middleware
(deviations.py says which). Adding a mutant is one `_m(...)` line here, one field in deviations.py
and one branch point that reads it. `b24-conformance mutants` runs every clause against every
mutant and prints the kill matrix; the tests require each mutant to be caught by its clauses and
every clause to catch at least one mutant.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..errors import UsageError
from .deviations import FAITHFUL, LAYERS, Deviations


@dataclass(frozen=True, slots=True, kw_only=True)
class Mutant:
    """One named deviation: the sentence it breaks, the clauses that kill it, the switch it turns on."""

    name: str
    breaks: str  # the doc sentence (or documented behaviour) it violates
    killed_by: tuple[str, ...]
    switch: str  # a field of Deviations
    value: object = True  # what the field is set to (a variant, for a field that is not a flag)

    def __post_init__(self) -> None:
        if self.switch not in LAYERS:
            raise ValueError(f"mutant {self.name!r} switches {self.switch!r}, which is no field of Deviations")

    @property
    def layer(self) -> str:
        """`domain` or `wire`: where its deviation is read."""
        return LAYERS[self.switch]

    def apply(self, deviations: Deviations) -> Deviations:
        return replace(deviations, **{self.switch: self.value})


def _m(name: str, switch: str, breaks: str, *killed_by: str) -> Mutant:
    return Mutant(name=name, switch=switch, breaks=breaks, killed_by=killed_by)


SUCCESS_CLAUSES = ("cancel.receipt.succeeds", "cancel.adjustment.succeeds", "cancel.transfer.succeeds",
                   "cancel.return.succeeds", "cancel.write-off.succeeds")
# The warehouse rule for every type but the receipt (A), which cancel.no-store-right.rejected checks.
STORE_RIGHT_OTHER_TYPES = ("cancel.write-off-store-right.rejected", "cancel.adjustment-store-right.rejected",
                           "cancel.return-store-right.rejected", "cancel.transfer-source-store-right.rejected",
                           "cancel.transfer-destination-store-right.rejected")

MUTANTS: dict[str, Mutant] = {m.name: m for m in (
    # --- issue 11, F2: catalog.document.conduct and conductList --------------------------------
    _m("conduct-keeps-balances", "conduct_keeps_balances",
       "the warehouse stock of goods is updated according to the document's items",
       "conduct.receipt.succeeds", "conduct.adjustment.succeeds", "conduct.transfer.succeeds",
       "conduct.return.succeeds", "conduct.write-off.succeeds", "conduct-list.drafts.succeed"),
    _m("conduct-accepts-conducted", "conduct_accepts_conducted",
       'Document conducting error: "error text"', "conduct.already-conducted.rejected"),
    _m("conduct-accepts-empty", "conduct_accepts_empty",
       "The document contains incorrect data", "conduct.no-items.rejected",
       "conduct-list.partial-failure.keeps-successes"),
    _m("conduct-allows-negative", "conduct_allows_negative",
       "The document contains incorrect data", "conduct.insufficient-stock.rejected"),
    _m("conduct-ignores-store-right", "conduct_ignores_store_right",
       "No rights to work with the warehouse of the goods from the document", "conduct.no-store-right.rejected"),
    _m("conduct-list-atomic", "conduct_list_atomic",
       'Documents that were successfully processed will remain in the "Conducted" status',
       "conduct-list.partial-failure.keeps-successes"),
    _m("cancel-list-ignores-plan", "cancel_list_ignores_plan",
       "Inventory accounting is not available on your plan", "cancel-list.plan-without-inventory.rejected"),
    _m("cancel-list-ignores-mode", "cancel_list_ignores_mode",
       "To process the document, inventory accounting must be enabled", "cancel-list.inventory-off.rejected"),
    _m("cancel-list-missing-says-single", "cancel_list_missing_says_single",
       "Error canceling the document: Document not found", "cancel-list.missing-document.rejected"),
    _m("cancel-list-rights-untitled", "cancel_list_rights_untitled",
       'An error occurred while canceling the document "document name": Insufficient permissions to save the document',
       "cancel-list.no-rights.rejected"),
    _m("conduct-ignores-plan", "conduct_ignores_plan",
       "Warehouse accounting is not available on your plan",
       "conduct.plan-without-inventory.rejected", "conduct-list.plan-without-inventory.rejected"),
    _m("conduct-ignores-mode", "conduct_ignores_mode",
       "Warehouse accounting must be enabled to conduct the document",
       "conduct.inventory-off.rejected", "conduct-list.inventory-off.rejected"),
    _m("conduct-ignores-access", "conduct_ignores_access",
       "No rights to the product catalog, warehouse accounting, or no rights to conduct the document",
       "conduct.no-catalog-access.rejected", "conduct.no-inventory-access.rejected", "conduct-list.no-rights.rejected",
       "conduct-list.no-inventory-access.rejected"),
    _m("conduct-missing-says-rights", "conduct_missing_says_rights",
       "Document not found", "conduct.missing-document.rejected"),
    _m("conduct-refuses-cancelled", "conduct_refuses_cancelled",
       "the document status changes to `Y` — conducted", "conduct.cancelled.reconducts"),
    _m("conduct-ignores-supplier", "conduct_ignores_supplier",
       'The document contains incorrect data, for example, "Supplier not specified"',
       "conduct.receipt-without-supplier.rejected", "conduct-list.receipt-without-supplier.keeps-others"),
    # --- the domain: state machine, balances, rights, plans ------------------------------------
    _m("cancel-keeps-balances", "cancel_keeps_balances",
       "the inventory balances of products are updated according to the document items",
       *SUCCESS_CLAUSES, "cancel.in-batch.succeeds", "cancel-list.all-conducted.succeeds"),
    _m("cancel-sets-draft", "cancel_sets_draft",
       "the document status changes to `C` (the server source sets N)",
       *SUCCESS_CLAUSES, "cancel.json-suffix.succeeds"),
    _m("transfer-cancel-one-sided", "transfer_cancel_one_sided",
       "balances updated according to the items: a transfer moves stock back",
       "cancel.transfer.succeeds"),
    _m("cancel-draft-accepted", "cancel_accepts_draft",
       "Cannot cancel document execution if it is not in the executed status",
       "cancel.draft.rejected", "cancel.in-batch-draft.reported", "cancel.in-batch-halt.stops",
       "cancel-list.partial-failure.keeps-successes"),
    _m("cancel-twice-accepted", "cancel_accepts_cancelled",
       "Cannot cancel document execution if it is not in the executed status",
       "cancel.already-cancelled.rejected"),
    _m("racy-cancel", "cancel_check_then_act",
       "cancel only from conducted: two simultaneous cancels must not both revert",
       "cancel.concurrent.reverts-once"),
    _m("missing-document-not-found", "cancel_missing_says_delete",
       "or a non-existent document identifier is specified (the permissions error)",
       "cancel.missing-document.rejected"),
    _m("ignore-cancel-right", "cancel_ignores_cancel_right",
       "a user with the \"Cancel execution\" access permission for the document type",
       "cancel.no-cancel-right.rejected"),
    _m("cancel-right-any-type", "cancel_right_any_type",
       "the \"Cancel execution\" access permission for the document type in the request",
       "cancel.other-type-right.rejected"),
    _m("cancel-checks-conduct-right", "cancel_checks_conduct_right",
       "\"Cancel execution\" access permission (the server source's cancelAction asks the conduct right)",
       "cancel.own-type-right.succeeds", "cancel.no-cancel-right.rejected",
       "cancel-list.no-rights.rejected",  # cancelList asks the same right (issue 11, F2)
       "unconfirm.no-cancel-right.rejected"),  # and the deprecated unconfirm, which is cancel
    _m("ignore-store-right", "cancel_ignores_store_right",
       "and \"View and select inventory\" access permission",
       "cancel.no-store-right.rejected"),
    _m("store-right-receipts-only", "cancel_stores_receipts_only",
       "\"View and Select Warehouse\" permission for the incoming or outgoing warehouse",
       *STORE_RIGHT_OTHER_TYPES),
    _m("ignore-catalog-access", "cancel_ignores_catalog_access",
       "No access permission to the product catalog",
       "cancel.no-catalog-access.rejected",
       "cancel-list.no-catalog-access.rejected",  # and cancelList (issue 11, F2)
       "unconfirm.no-catalog-access.rejected"),  # and the deprecated unconfirm, which is cancel
    _m("ignore-inventory-access", "cancel_ignores_inventory_access",
       "No access permission to the product catalog, inventory management",
       "cancel.no-inventory-access.rejected", "cancel-list.no-inventory-access.rejected",
       "unconfirm.no-inventory-access.rejected"),  # and the deprecated unconfirm, which is cancel
    _m("ignore-plan", "cancel_ignores_plan",
       "Inventory accounting is not available on your plan",
       "cancel.plan-without-inventory.rejected"),
    _m("ignore-inventory-mode", "cancel_ignores_mode",
       "To process the document, inventory accounting must be enabled",
       "cancel.inventory-off.rejected"),
    _m("cancel-list-atomic", "cancel_list_atomic",
       "Documents that were successfully processed will remain in the \"Canceled\" status",
       "cancel-list.partial-failure.keeps-successes"),
    # --- issue 11: document add/update/delete/deleteList/getFields/mode.status/aliases ---------
    _m("add-conducts", "add_conducts", "The document is created with status `N` — draft.",
       "add.receipt.creates-draft", "add.write-off.creates-draft", "add.transfer.creates-draft"),
    _m("add-drops-optional", "add_drops_optional", "Document commentary", "add.receipt.creates-draft"),
    _m("add-stores-receipt", "add_stores_receipt", "Document type. Possible values",
       "add.write-off.creates-draft", "add.transfer.creates-draft"),
    _m("add-accepts-unknown-type", "add_accepts_unknown_type", "DOC_TYPE isn't available",
       "add.bad-doc-type.rejected"),
    _m("add-ignores-right", "add_ignores_right",
       "The user does not have permission to create the required document type", "add.no-rights.rejected"),
    _m("add-ignores-plan", "add_ignores_plan", "Inventory accounting is not available on your plan",
       "add.plan-without-inventory.rejected"),
    _m("add-fields-optional", "add_fields_optional", "Document fields ([detailed description](#fields))",
       "add.fields-missing.rejected"),
    _m("add-currency-default", "add_currency_default", "Document currency in ISO 4217 format",
       "add.currency-missing.rejected"),
    _m("update-resets-unsent", "update_resets_unsent",
       "The method `catalog.document.update` modifies the fields of an existing warehouse accounting document.",
       "update.draft.changes-given-fields", "update.responsible.changes-only-it"),
    _m("update-drops-doc-number", "update_drops_doc_number", "Internal document number",
       "update.draft.changes-given-fields"),
    _m("update-missing-says-not-found", "update_missing_says_not_found",
       "the document with that identifier does not exist", "update.missing-document.rejected"),
    _m("update-ignores-right", "update_ignores_right",
       "The user does not have permission to edit the document of the required type", "update.no-rights.rejected"),
    _m("update-ignores-plan", "update_ignores_plan", "Warehouse accounting is not available on your plan",
       "update.plan-without-inventory.rejected"),
    _m("document-id-defaults-zero", "document_id_defaults_zero",
       "Document identifier, can be obtained using the [catalog.document.list]",
       "update.id-missing.rejected", "delete.id-missing.rejected"),
    _m("delete-keeps-document", "delete_keeps_document", "contains `true` if the document has been deleted",
       "delete.draft.succeeds", "delete.cancelled.succeeds", "delete-list.drafts.succeed",
       "delete-list.partial-failure.keeps-successes", "delete-list.missing-document.rejected"),
    _m("delete-removes-conducted", "delete_removes_conducted",
       "If the response contains `null` — the document cannot be deleted because it has been processed",
       "delete.conducted.answers-null"),
    _m("delete-refuses-cancelled", "delete_refuses_cancelled",
       "First, cancel the processing of the document using the [catalog.document.cancel]",
       "delete.cancelled.succeeds", "delete-list.drafts.succeed"),
    _m("delete-missing-succeeds", "delete_missing_succeeds", "A non-existent document identifier was provided",
       "delete.missing-document.rejected"),
    _m("delete-ignores-delete-right", "delete_ignores_delete_right",
       'a user with the "Delete document" access permission for the document type in the request',
       "delete.no-delete-right.rejected", "delete-list.no-rights.rejected"),
    _m("delete-ignores-store-right", "delete_ignores_store_right",
       '"View and select warehouse" access permission for the incoming or outgoing warehouse',
       "delete.no-store-right.rejected", "delete-list.no-store-right.rejected"),
    _m("delete-ignores-plan", "delete_ignores_plan", "Inventory accounting is not available on your plan",
       "delete.plan-without-inventory.rejected"),
    _m("delete-list-atomic", "delete_list_atomic", "Access permissions are checked for each document in the request",
       "delete-list.partial-failure.keeps-successes", "delete-list.missing-document.rejected"),
    _m("delete-list-skips-conducted", "delete_list_skips_conducted",
       'You cannot delete document "Name" as it is processed',
       "delete-list.conducted.rejected", "delete-list.partial-failure.keeps-successes"),
    _m("delete-list-ignores-plan", "delete_list_ignores_plan", "Inventory management is not available on your plan",
       "delete-list.plan-without-inventory.rejected"),
    _m("delete-list-ids-optional", "delete_list_ids_optional", "List of document identifiers",
       "delete-list.ids-missing.rejected"),
    _m("get-fields-requires-edit", "get_fields_requires_edit",
       'Who can execute the method: user with the "View product catalog" access permission',
       "get-fields.reader.succeeds"),
    _m("get-fields-ignores-read", "get_fields_ignores_read", "User does not have view permission",
       "get-fields.no-read-right.rejected"),
    _m("get-fields-all-optional", "get_fields_all_optional", "Document type. Possible values",
       "get-fields.required-fields.marked"),
    _m("get-fields-immutable-editable", "get_fields_immutable_editable",
       "The value cannot be changed after creation.", "get-fields.currency.immutable"),
    _m("get-fields-old-shape", "get_fields_old_shape",
       "Object with the description of fields for the inventory document",
       "get-fields.admin.describes-fields", "get-fields.required-fields.marked", "get-fields.reader.succeeds"),
    _m("mode-status-always-y", "mode_status_always_y", "`'N'` — disabled",
       "mode-status.disabled.answers-n", "mode-status.plan-without-inventory.answers-n"),
    _m("mode-status-boolean", "mode_status_boolean", "`'Y'` — enabled",
       "mode-status.enabled.answers-y", "mode-status.reader.answers"),
    _m("mode-status-requires-admin", "mode_status_requires_admin",
       'Who can execute the method: user with the "View product catalog" access permission',
       "mode-status.reader.answers"),
    _m("mode-status-ignores-read", "mode_status_ignores_read",
       "The user does not have permission to read the product catalog", "mode-status.no-read-right.rejected"),
    _m("confirm-keeps-balances", "confirm_keeps_balances", "Returns `true` if the document has been processed",
       "confirm.draft-receipt.conducts"),
    _m("confirm-ignores-plan", "confirm_ignores_plan", "Inventory accounting is not available on your plan",
       "confirm.plan-without-inventory.rejected"),
    _m("confirm-ignores-access", "confirm_ignores_access",
       "No access permission to the product catalog or inventory accounting, or no permission to process the document",
       "confirm.no-catalog-access.rejected", "confirm.no-inventory-access.rejected"),
    _m("confirm-accepts-empty", "confirm_accepts_empty", "The document contains invalid data",
       "confirm.no-items.rejected"),
    _m("confirm-missing-says-rights", "confirm_missing_says_rights", "A non-existent document identifier was specified",
       "confirm.missing-document.rejected"),
    _m("unconfirm-keeps-balances", "unconfirm_keeps_balances",
       "Returns `true` if document processing has been canceled", "unconfirm.conducted-receipt.cancels"),
    _m("unconfirm-ignores-plan", "unconfirm_ignores_plan", "Inventory accounting is not available on your plan",
       "unconfirm.plan-without-inventory.rejected"),
    _m("unconfirm-ignores-right", "unconfirm_ignores_right", "no permission to cancel document processing",
       "unconfirm.no-cancel-right.rejected"),
    _m("unconfirm-accepts-draft", "unconfirm_accepts_draft", "has not been processed", "unconfirm.draft.rejected"),
    _m("unconfirm-missing-says-delete", "unconfirm_missing_says_delete",
       "The document was not found, has not been processed, or contains invalid data",
       "unconfirm.missing-document.rejected"),
    _m("alias-id-defaults-zero", "alias_id_defaults_zero", "The required parameter `id` was not provided",
       "confirm.id-missing.rejected", "unconfirm.id-missing.rejected"),
    _m("fields-ignores-read", "fields_ignores_read", "The user does not have view permission",
       "fields.no-read-right.rejected"),
    _m("fields-new-shape", "fields_new_shape", "Array with the document field descriptions",
       "fields.admin.lists-fields"),
    # --- issue 11: catalog.document.element.getFields and the deprecated element.fields ---------
    _m("element-get-fields-requires-edit", "element_get_fields_requires_edit",
       'Who can execute the method: users with the "View product catalog" access permission',
       "element-get-fields.reader.succeeds"),
    _m("element-get-fields-ignores-read", "element_get_fields_ignores_read",
       "Insufficient rights to read inventory documents", "element-get-fields.no-read-right.rejected"),
    _m("element-get-fields-all-optional", "element_get_fields_all_optional", "**docId***",
       "element-get-fields.required-fields.marked"),
    _m("element-get-fields-immutable-editable", "element_get_fields_immutable_editable",
       "modifies an existing item in the inventory document", "element-get-fields.doc-and-product.immutable"),
    _m("element-get-fields-old-shape", "element_get_fields_old_shape",
       "Object describing the fields of the document's product.",
       "element-get-fields.admin.describes-fields", "element-get-fields.required-fields.marked",
       "element-get-fields.doc-and-product.immutable", "element-get-fields.reader.succeeds"),
    _m("element-fields-ignores-read", "element_fields_ignores_read",
       "Insufficient permissions to read inventory documents", "element-fields.no-read-right.rejected"),
    _m("element-fields-new-shape", "element_fields_new_shape",
       "Array with descriptions of inventory document product fields", "element-fields.admin.lists-fields"),
    # --- the envelope --------------------------------------------------------------------------
    _m("result-as-string", "result_as_string",
       "contains `true` if the document execution is canceled (a boolean)",
       *SUCCESS_CLAUSES, "cancel.unknown-params.ignored", "cancel.form-body.succeeds",
       "cancel.in-batch.succeeds", "cancel-list.all-conducted.succeeds", "cancel.concurrent.reverts-once"),
    _m("no-time-block", "no_time_block",
       "time: Information about the request execution time",
       *SUCCESS_CLAUSES, "cancel.in-batch.succeeds"),
    _m("errors-as-200", "errors_as_200",
       "HTTP Code: **400**",
       "cancel.draft.rejected", "cancel.missing-document.rejected", "cancel.id-missing.rejected",
       "cancel.plan-without-inventory.rejected",
       "conduct.id-missing.rejected", "conduct-list.ids-missing.rejected"),  # issue 11, F2
    _m("error-code-renamed", "error_code_renamed",
       "`0` | … (the error code), and code 100 for parameters",
       "cancel.draft.rejected", "cancel.no-cancel-right.rejected", "cancel.id-missing.rejected",
       "cancel.id-not-integer.rejected"),
    _m("error-text-lowercase", "error_text_lowercase",
       "Error canceling document execution: Document is not yet executed",
       "cancel.draft.rejected", "cancel.no-store-right.rejected",
       "cancel-list.partial-failure.keeps-successes"),
    # --- calling conventions -------------------------------------------------------------------
    _m("no-json-suffix", "refuses_json_suffix",
       "`.json` — response format. This suffix can be omitted",
       "cancel.json-suffix.succeeds"),
    _m("no-form-body", "refuses_form_body",
       "POST application/x-www-form-urlencoded",
       "cancel.form-body.succeeds"),
    _m("no-multipart-body", "refuses_multipart_body",
       "All methods also accept GET and POST requests in multipart/form-data format",
       "cancel.multipart-body.succeeds"),
    _m("no-get", "refuses_get",
       "GET with query parameters is allowed",
       "cancel.get-query.succeeds"),
    _m("oauth-query-ignored", "ignores_query_auth",
       "/rest/method?auth=ACCESS_TOKEN",
       "cancel.oauth-query.succeeds"),
    _m("oauth-body-ignored", "ignores_body_auth",
       "-d '{\"id\":142,\"auth\":\"**put_access_token_here**\"}'",
       "cancel.oauth-body.succeeds", "cancel.expired-token.rejected"),
    _m("case-sensitive-methods", "case_sensitive_methods",
       "method names are matched case-insensitively",
       "cancel.method-case.succeeds"),
    _m("unknown-params-rejected", "rejects_unknown_params",
       "Bitrix24 ignores unknown field names",
       "cancel.unknown-params.ignored"),
    # --- issue 11: list, conduct rights ---------------------------------------------------------
    _m("list-next-overlaps", "list_next_overlaps",
       "Pass this value to the `start` parameter to get the next 50 records", "list.paging.every-row-once"),
    _m("list-total-of-page", "list_total_of_page",
       "The total number of documents", "list.paging.every-row-once", "list.start-formula.second-page"),
    _m("list-start-ignored", "list_start_ignored",
       "To select the second page of results, pass the value `50`", "list.start-formula.second-page",
       "list.paging.every-row-once"),
    _m("list-default-order-desc", "list_default_order_desc",
       "By default, documents are sorted in ascending order by `id`", "list.default-order.id-ascending",
       "list.start-formula.second-page"),
    _m("list-ignores-order", "list_ignores_order",
       "An object for sorting the selected documents", "list.order-desc.reverses", "list.order-title.ascending"),
    _m("list-ignores-select", "list_ignores_select",
       "An array of fields from [catalog_document](../data-types.md#catalog_document) that need to be selected.",
       "list.select.only-chosen"),
    _m("list-empty-select-id-only", "list_empty_select_id_only",
       "If the array is not provided or an empty array is passed, all available document fields will be selected.",
       "list.select-empty.all-fields"),
    _m("list-ignores-plain-filter", "list_ignores_plain_filter",
       "`=` — equal, exact match, used by default", "list.filter-equal.default"),
    _m("list-not-equal-as-equal", "list_not_equal_as_equal", "`!=`, `!` — not equal", "list.filter-not-equal.excludes"),
    _m("list-in-first-only", "list_in_first_only", "`@` — IN, an array is passed as the value",
       "list.filter-in.array", "list.filter-like.substring"),
    _m("list-not-in-ignored", "list_not_in_ignored", "`!@` — NOT IN, an array is passed as the value",
       "list.filter-not-in.array"),
    _m("list-greater-inclusive", "list_greater_inclusive", "`>` — greater than",
       "list.filter-range.strict-and-inclusive"),
    _m("list-like-anchored", "list_like_anchored",
       "The search looks for the substring in any position of the string.", "list.filter-like.substring",
       "list.paging.every-row-once"),
    _m("list-not-like-ignored", "list_not_like_ignored", "`!%` — NOT LIKE, substring search.",
       "list.filter-not-like.excludes"),
    _m("list-ignores-read-right", "list_ignores_read_right",
       "Who can execute the method: a user with the \"View product catalog\" access permission",
       "list.no-view-right.rejected"),
    _m("conduct-right-any-type", "conduct_right_any_type",
       "a user with the \"Conduct Document\" access permission for the document type in the request",
       "conduct.other-type-right.rejected", "conduct-list.other-type-right.rejected",
       "confirm.other-type-right.rejected"),  # and the deprecated confirm, which is conduct
    _m("conduct-right-every-type", "conduct_right_every_type",
       "a user with the \"Conduct Document\" access permission for the document type in the request",
       "conduct.own-type-right.succeeds"),
    _m("conduct-list-missing-says-single", "conduct_list_missing_says_single",
       "Document conducting error: Insufficient permissions to save the document",
       "conduct-list.missing-document.rejected"),
    # --- system errors -------------------------------------------------------------------------
    _m("auth-errors-403", "auth_errors_403",
       "401 NO_AUTH_FOUND / expired_token",
       "cancel.wrong-webhook-code.rejected", "cancel.no-auth.rejected", "cancel.expired-token.rejected"),
    _m("error-codes-uppercased", "error_codes_uppercased",
       "403 insufficient_scope, 401 expired_token (lower case)",
       "cancel.scope-missing.rejected", "cancel.expired-token.rejected"),
    _m("invalid-credentials-as-no-auth", "invalid_credentials_as_no_auth",
       "403 INVALID_CREDENTIALS Invalid request credentials",
       "cancel.inactive-user.rejected"),
    _m("unknown-method-400", "unknown_method_400",
       "ERROR_METHOD_NOT_FOUND with 404",
       "cancel.method-misspelt.rejected"),
    _m("https-not-enforced", "https_not_enforced",
       "400 INVALID_REQUEST Https required",
       "cancel.https-required.rejected"),
    _m("bucket-never-drains", "bucket_never_drains",
       "The counter value automatically decreases by `Y` once per second",
       "cancel.after-rate-limit.succeeds"),
    _m("no-rate-limit", "no_rate_limit",
       "the following request is blocked with status `503`",
       "cancel.rate-limit.rejected"),
    _m("operating-limit-as-query-limit", "operating_limit_as_query_limit",
       "returns the `429` status and error code `OPERATION_TIME_LIMIT`",
       "cancel.operating-limit.rejected"),
    # --- batch ---------------------------------------------------------------------------------
    _m("batch-error-aborts", "batch_error_aborts",
       "the batch method does not return a single error for the entire batch",
       "cancel.in-batch-draft.reported", "cancel.in-batch-halt.stops"),
    _m("batch-halt-ignored", "batch_halt_ignored",
       "`halt = 1` — execution of the chain is interrupted",
       "cancel.in-batch-halt.stops"),
    _m("batch-length-unlimited", "batch_length_unlimited",
       "The number of requests in a batch is limited to 50",
       "cancel.batch-too-long.rejected"),
)}


def check_names(names: Iterable[str]) -> tuple[str, ...]:
    """The names, or a UsageError with the closest known name."""
    names = tuple(names)
    for name in names:
        if name not in MUTANTS:
            close = difflib.get_close_matches(name, list(MUTANTS), n=1)
            raise UsageError(f"unknown mutant {name!r}",
                             hint=f"did you mean {close[0]!r}?" if close else "`b24-conformance mutants` lists them")
    return names


def deviations_for(names: Iterable[str]) -> Deviations:
    """The deviations the named mutants switch on (a UsageError for an unknown name)."""
    deviations = FAITHFUL
    for name in check_names(names):
        deviations = MUTANTS[name].apply(deviations)
    return deviations
