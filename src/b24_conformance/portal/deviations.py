"""`Deviations`: the typed switches a mutant turns on, read at named branch points; all off is faithful.

Each field is one way the portal can break a documented sentence. Domain fields are read by the
inventory domain (inventory.py) and the method handlers (methods/); wire fields by the middleware
in wire_deviations.py, which rewrites requests and responses around the unchanged app. Which
mutant turns which field on is declared in mutants.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

DOMAIN, WIRE = "domain", "wire"


def _domain() -> Any:
    return field(default=False, metadata={"layer": DOMAIN})


def _wire() -> Any:
    return field(default=False, metadata={"layer": WIRE})


@dataclass(frozen=True, slots=True, kw_only=True)
class Deviations:
    """The deviations switched on in one portal. `Deviations()` is the faithful portal."""

    # -- the domain: the cancel state machine, balances, rights, plans --------------------------
    cancel_keeps_balances: bool = _domain()
    cancel_sets_draft: bool = _domain()  # status N instead of C
    transfer_cancel_one_sided: bool = _domain()  # a transfer's outflow is not given back
    cancel_accepts_draft: bool = _domain()
    cancel_accepts_cancelled: bool = _domain()
    cancel_check_then_act: bool = _domain()  # status check and change in two transactions
    cancel_missing_says_delete: bool = _domain()  # a missing document gets delete's not-found key
    cancel_ignores_cancel_right: bool = _domain()
    cancel_right_any_type: bool = _domain()  # "may cancel some type" instead of this document's type
    cancel_checks_conduct_right: bool = _domain()  # the conduct right asked instead (the server source's check)
    cancel_ignores_store_right: bool = _domain()
    cancel_stores_receipts_only: bool = _domain()  # warehouses checked for receipts (A) only
    cancel_ignores_catalog_access: bool = _domain()
    cancel_ignores_inventory_access: bool = _domain()
    cancel_ignores_plan: bool = _domain()
    cancel_ignores_mode: bool = _domain()
    cancel_list_atomic: bool = _domain()  # one refusal cancels none of the list
    # -- issue 11, F2: conduct and conductList ---------------------------------------------------
    conduct_keeps_balances: bool = _domain()  # status Y, but no item moves stock
    conduct_accepts_conducted: bool = _domain()  # a conducted document is conducted again
    conduct_accepts_empty: bool = _domain()  # a document without items is conducted
    conduct_ignores_supplier: bool = _domain()  # a receipt without a supplier is conducted (require_contractor on)
    conduct_allows_negative: bool = _domain()  # a balance may drop below zero
    conduct_ignores_store_right: bool = _domain()
    conduct_list_atomic: bool = _domain()  # one refusal conducts none of the list
    conduct_ignores_plan: bool = _domain()
    conduct_ignores_mode: bool = _domain()
    conduct_ignores_access: bool = _domain()  # neither catalog nor inventory access asked
    conduct_missing_says_rights: bool = _domain()  # a missing document gets the rights error
    conduct_refuses_cancelled: bool = _domain()  # a cancelled document cannot be conducted again
    cancel_list_ignores_plan: bool = _domain()
    cancel_list_ignores_mode: bool = _domain()
    cancel_list_missing_says_single: bool = _domain()  # cancel's own not-found text in the list
    cancel_list_rights_untitled: bool = _domain()  # the rights refusal does not name the document
    bucket_never_drains: bool = _domain()  # the request counter never decreases: once over X, refused for ever
    # -- issue 11: add, update, delete, deleteList, getFields, mode.status, aliases --
    add_conducts: bool = _domain()  # the new document is conducted (status Y), not a draft
    add_drops_optional: bool = _domain()  # commentary and docNumber given to add are not stored
    add_stores_receipt: bool = _domain()  # every new document is a receipt (A) in USD, whatever was given
    add_accepts_unknown_type: bool = _domain()  # an unknown docType is stored as a receipt
    add_ignores_right: bool = _domain()
    add_ignores_plan: bool = _domain()
    add_fields_optional: bool = _domain()  # a missing `fields` is an empty object
    add_currency_default: bool = _domain()  # a missing currency becomes USD
    update_resets_unsent: bool = _domain()  # header fields not given are cleared (PUT, not PATCH)
    update_drops_doc_number: bool = _domain()  # a new docNumber is not stored
    update_missing_says_not_found: bool = _domain()  # the page's JSON sample text, not its table row
    update_ignores_right: bool = _domain()
    update_ignores_plan: bool = _domain()
    document_id_defaults_zero: bool = _domain()  # update/delete without id look up document 0
    delete_keeps_document: bool = _domain()  # answers true, removes nothing
    delete_removes_conducted: bool = _domain()  # a conducted document is deleted (true)
    delete_refuses_cancelled: bool = _domain()  # a cancelled document answers null like a conducted one
    delete_missing_succeeds: bool = _domain()  # a missing document answers true
    delete_ignores_delete_right: bool = _domain()
    delete_ignores_store_right: bool = _domain()
    delete_ignores_plan: bool = _domain()
    delete_list_atomic: bool = _domain()  # one refusal deletes none of the list
    delete_list_skips_conducted: bool = _domain()  # a conducted document is passed over silently
    delete_list_ignores_plan: bool = _domain()
    delete_list_ids_optional: bool = _domain()  # a missing documentIds is an empty list
    get_fields_requires_edit: bool = _domain()  # a document right asked besides the catalog view right
    get_fields_ignores_read: bool = _domain()
    get_fields_all_optional: bool = _domain()  # every field described as not required
    get_fields_immutable_editable: bool = _domain()  # currency and docType described as changeable
    get_fields_old_shape: bool = _domain()  # catalog.document.fields' array of descriptions
    mode_status_always_y: bool = _domain()  # "Y" whether inventory management is on or not
    mode_status_boolean: bool = _domain()  # JSON true/false instead of the strings 'Y'/'N'
    mode_status_requires_admin: bool = _domain()
    mode_status_ignores_read: bool = _domain()
    confirm_keeps_balances: bool = _domain()  # confirm sets Y but moves no stock
    confirm_ignores_plan: bool = _domain()
    confirm_ignores_access: bool = _domain()
    confirm_accepts_empty: bool = _domain()
    confirm_missing_says_rights: bool = _domain()
    unconfirm_keeps_balances: bool = _domain()  # unconfirm sets C but gives no stock back
    unconfirm_ignores_plan: bool = _domain()
    unconfirm_ignores_right: bool = _domain()
    unconfirm_accepts_draft: bool = _domain()
    unconfirm_missing_says_delete: bool = _domain()
    alias_id_defaults_zero: bool = _domain()  # confirm/unconfirm without id look up document 0
    fields_ignores_read: bool = _domain()
    fields_new_shape: bool = _domain()  # getFields' object instead of the documented object[]
    # -- issue 11: element.getFields and the deprecated element.fields --
    element_get_fields_requires_edit: bool = _domain()  # a document right asked besides the catalog view right
    element_get_fields_ignores_read: bool = _domain()
    element_get_fields_all_optional: bool = _domain()  # docId and elementId described as not required
    element_get_fields_immutable_editable: bool = _domain()  # docId and elementId described as changeable
    element_get_fields_old_shape: bool = _domain()  # element.fields' array of descriptions
    element_fields_ignores_read: bool = _domain()
    element_fields_new_shape: bool = _domain()  # element.getFields' object instead of the documented object[]
    # -- issue 11: element.add, update, delete and list --
    element_add_ignores_status: bool = _domain()  # an item is added to a conducted document
    element_update_ignores_status: bool = _domain()
    element_delete_ignores_status: bool = _domain()
    element_accepts_cancelled: bool = _domain()  # a cancelled document (C) takes item edits as a draft does
    element_ignores_edit_right: bool = _domain()  # the create-and-edit right of the type is not asked
    element_ignores_store_right: bool = _domain()  # view-and-select on the item's warehouses is not asked
    element_missing_says_denied: bool = _domain()  # a missing document or item answers the rights error
    element_add_drops_price: bool = _domain()  # purchasingPrice is not stored
    element_add_swaps_stores: bool = _domain()  # storeFrom stored as storeTo and back
    element_update_clears_unset: bool = _domain()  # a field left out is cleared instead of kept
    element_update_ignores_stores: bool = _domain()  # a new storeFrom/storeTo is not stored
    element_update_answers_old: bool = _domain()  # the answer shows the row as it was before the update
    element_delete_keeps_row: bool = _domain()  # true, but the row stays
    element_list_ignores_store_right: bool = _domain()  # rows on warehouses the user may not view are listed
    element_list_ignores_type_right: bool = _domain()  # rows of document types the user has no right on are listed
    element_list_ignores_read: bool = _domain()
    element_list_requires_edit: bool = _domain()  # a document right asked besides the catalog view right
    element_list_next_overlaps: bool = _domain()  # these five: the document list's deviation, in element.list
    element_list_total_of_page: bool = _domain()
    element_list_ignores_select: bool = _domain()
    element_list_ignores_order: bool = _domain()
    element_list_in_first_only: bool = _domain()
    element_list_greater_inclusive: bool = _domain()
    element_list_ignores_plain_filter: bool = _domain()
    element_params_optional: bool = _domain()  # a missing `fields` is an empty object, a missing `id` is 0
    # -- the envelope -----------------------------------------------------------------------------
    result_as_string: bool = _wire()
    no_time_block: bool = _wire()
    errors_as_200: bool = _wire()
    error_code_renamed: bool = _wire()
    error_text_lowercase: bool = _wire()
    # -- calling conventions ----------------------------------------------------------------------
    refuses_json_suffix: bool = _wire()
    case_sensitive_methods: bool = _wire()
    refuses_form_body: bool = _wire()
    refuses_multipart_body: bool = _wire()
    refuses_get: bool = _wire()
    ignores_query_auth: bool = _wire()
    ignores_body_auth: bool = _wire()
    rejects_unknown_params: bool = _wire()
    # -- issue 11: list, conduct rights --
    list_next_overlaps: bool = _domain()  # next = start + 49: a page's last row opens the next page too
    list_total_of_page: bool = _domain()  # total counts the rows of the page, not every matching row
    list_start_ignored: bool = _domain()  # every start gives the first page
    list_default_order_desc: bool = _domain()  # without order, newest id first
    list_ignores_order: bool = _domain()
    list_ignores_select: bool = _domain()
    list_ignores_plain_filter: bool = _domain()  # a key without prefix (`=`, the default) filters nothing
    list_not_equal_as_equal: bool = _domain()  # `!` / `!=` keep the equal rows
    list_in_first_only: bool = _domain()  # `@` matches the array's first value only
    list_not_in_ignored: bool = _domain()
    list_greater_inclusive: bool = _domain()  # `>` as `>=`, `<` as `<=`
    list_like_anchored: bool = _domain()  # `%` matches the whole value, not a substring anywhere in it
    list_not_like_ignored: bool = _domain()
    list_ignores_read_right: bool = _domain()  # the list answers a user without the view right
    list_empty_select_id_only: bool = _domain()  # an empty select gives the id alone, not every field
    conduct_right_any_type: bool = _domain()  # "may conduct some type" instead of this document's type
    conduct_right_every_type: bool = _domain()  # the conduct right asked for every type, not this document's
    conduct_list_missing_says_single: bool = _domain()  # conduct's own not-found text in the list
    # -- system errors ----------------------------------------------------------------------------
    auth_errors_403: bool = _wire()
    error_codes_uppercased: bool = _wire()
    invalid_credentials_as_no_auth: bool = _wire()
    unknown_method_400: bool = _wire()
    https_not_enforced: bool = _wire()
    no_rate_limit: bool = _wire()
    operating_limit_as_query_limit: bool = _wire()
    # -- batch ------------------------------------------------------------------------------------
    batch_error_aborts: bool = _wire()
    batch_halt_ignored: bool = _wire()
    batch_length_unlimited: bool = _wire()

    @classmethod
    def none(cls) -> Deviations:
        """The faithful portal: nothing switched on."""
        return FAITHFUL

    def on(self, layer: str | None = None) -> tuple[str, ...]:
        """The names of the fields switched on (in `layer` only, when given)."""
        return tuple(f.name for f in fields(self)
                     if getattr(self, f.name) != f.default and layer in (None, f.metadata["layer"]))


FAITHFUL = Deviations()
# Each field of Deviations -> where it is read (DOMAIN or WIRE).
LAYERS: dict[str, str] = {f.name: f.metadata["layer"] for f in fields(Deviations)}
