"""Mutants: named, documented deviations the reference portal can switch on, one clause-killer each.

A suite that cannot fail is worthless. Each mutant breaks one thing a doc page says, quotes that
sentence, and names the clauses that must catch it (`killed_by`). Domain mutants are read at named
branch points in inventory.py and methods.py (`"racy-cancel" in mutants`); wire mutants live in
`MutantMiddleware` below, which rewrites requests or responses around the unchanged app.
`b24-conformance mutants` runs every clause against every mutant and prints the kill matrix; the
tests require each mutant to be caught by its clauses and every clause to catch at least one mutant.
"""

from __future__ import annotations

import difflib
import json
import random
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ..errors import UsageError
from .methods import METHODS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Mutant:
    name: str
    breaks: str  # the doc sentence (or documented behaviour) it violates
    killed_by: tuple[str, ...]
    layer: str  # domain | wire


def _m(name: str, layer: str, breaks: str, *killed_by: str) -> Mutant:
    return Mutant(name=name, layer=layer, breaks=breaks, killed_by=killed_by)


SUCCESS_CLAUSES = ("cancel.receipt.succeeds", "cancel.adjustment.succeeds", "cancel.transfer.succeeds",
                   "cancel.return.succeeds", "cancel.write-off.succeeds")

MUTANTS: dict[str, Mutant] = {m.name: m for m in (
    # --- the domain: state machine, balances, rights, plans ------------------------------------
    _m("cancel-keeps-balances", "domain", "the inventory balances of products are updated according to the document items",
       *SUCCESS_CLAUSES, "cancel.in-batch.succeeds", "cancel-list.all-conducted.succeeds"),
    _m("cancel-sets-draft", "domain", "the document status changes to `C` (the server source sets N)",
       *SUCCESS_CLAUSES, "cancel.json-suffix.succeeds"),
    _m("transfer-cancel-one-sided", "domain", "balances updated according to the items: a transfer moves stock back",
       "cancel.transfer.succeeds"),
    _m("cancel-draft-accepted", "domain", "Cannot cancel document execution if it is not in the executed status",
       "cancel.draft.rejected", "cancel.in-batch-draft.reported", "cancel.in-batch-halt.stops",
       "cancel-list.partial-failure.keeps-successes"),
    _m("cancel-twice-accepted", "domain", "Cannot cancel document execution if it is not in the executed status",
       "cancel.already-cancelled.rejected"),
    _m("racy-cancel", "domain", "cancel only from conducted: two simultaneous cancels must not both revert",
       "cancel.concurrent.reverts-once"),
    _m("missing-document-not-found", "domain", "or a non-existent document identifier is specified (the permissions error)",
       "cancel.missing-document.rejected"),
    _m("ignore-cancel-right", "domain", "a user with the \"Cancel execution\" access permission for the document type",
       "cancel.no-cancel-right.rejected"),
    _m("ignore-store-right", "domain", "and \"View and select inventory\" access permission",
       "cancel.no-store-right.rejected"),
    _m("ignore-plan", "domain", "Inventory accounting is not available on your plan",
       "cancel.plan-without-inventory.rejected"),
    _m("ignore-inventory-mode", "domain", "To process the document, inventory accounting must be enabled",
       "cancel.inventory-off.rejected"),
    _m("cancel-list-atomic", "domain", "Documents that were successfully processed will remain in the \"Canceled\" status",
       "cancel-list.partial-failure.keeps-successes"),
    # --- the envelope --------------------------------------------------------------------------
    _m("result-as-string", "wire", "contains `true` if the document execution is canceled (a boolean)",
       *SUCCESS_CLAUSES, "cancel.unknown-params.ignored", "cancel.form-body.succeeds", "cancel.in-batch.succeeds",
       "cancel-list.all-conducted.succeeds", "cancel.concurrent.reverts-once"),
    _m("no-time-block", "wire", "time: Information about the request execution time",
       *SUCCESS_CLAUSES, "cancel.in-batch.succeeds"),
    _m("errors-as-200", "wire", "HTTP Code: **400**",
       "cancel.draft.rejected", "cancel.missing-document.rejected", "cancel.id-missing.rejected",
       "cancel.plan-without-inventory.rejected"),
    _m("error-code-renamed", "wire", "`0` | … (the error code), and code 100 for parameters",
       "cancel.draft.rejected", "cancel.no-cancel-right.rejected", "cancel.id-missing.rejected",
       "cancel.id-not-integer.rejected"),
    _m("error-text-lowercase", "wire", "Error canceling document execution: Document is not yet executed",
       "cancel.draft.rejected", "cancel.no-store-right.rejected", "cancel-list.partial-failure.keeps-successes"),
    # --- calling conventions -------------------------------------------------------------------
    _m("no-json-suffix", "wire", "`.json` — response format. This suffix can be omitted", "cancel.json-suffix.succeeds"),
    _m("no-form-body", "wire", "POST application/x-www-form-urlencoded", "cancel.form-body.succeeds"),
    _m("no-multipart-body", "wire", "All methods also accept GET and POST requests in multipart/form-data format",
       "cancel.multipart-body.succeeds"),
    _m("no-get", "wire", "GET with query parameters is allowed", "cancel.get-query.succeeds"),
    _m("oauth-query-ignored", "wire", "/rest/method?auth=ACCESS_TOKEN", "cancel.oauth-query.succeeds"),
    _m("oauth-body-ignored", "wire", "-d '{\"id\":142,\"auth\":\"**put_access_token_here**\"}'",
       "cancel.oauth-body.succeeds", "cancel.expired-token.rejected"),
    _m("case-sensitive-methods", "wire", "method names are matched case-insensitively", "cancel.method-case.succeeds"),
    _m("unknown-params-rejected", "wire", "Bitrix24 ignores unknown field names", "cancel.unknown-params.ignored"),
    # --- system errors -------------------------------------------------------------------------
    _m("auth-errors-403", "wire", "401 NO_AUTH_FOUND / expired_token",
       "cancel.wrong-webhook-code.rejected", "cancel.no-auth.rejected", "cancel.expired-token.rejected"),
    _m("error-codes-uppercased", "wire", "403 insufficient_scope, 401 expired_token (lower case)",
       "cancel.scope-missing.rejected", "cancel.expired-token.rejected"),
    _m("invalid-credentials-as-no-auth", "wire", "403 INVALID_CREDENTIALS Invalid request credentials",
       "cancel.inactive-user.rejected"),
    _m("unknown-method-400", "wire", "ERROR_METHOD_NOT_FOUND with 404", "cancel.method-misspelt.rejected"),
    _m("https-not-enforced", "wire", "400 INVALID_REQUEST Https required", "cancel.https-required.rejected"),
    _m("no-rate-limit", "wire", "the following request is blocked with status `503`", "cancel.rate-limit.rejected"),
    _m("operating-limit-as-query-limit", "wire", "returns the `429` status and error code `OPERATION_TIME_LIMIT`",
       "cancel.operating-limit.rejected"),
    # --- batch ---------------------------------------------------------------------------------
    _m("batch-error-aborts", "wire", "the batch method does not return a single error for the entire batch",
       "cancel.in-batch-draft.reported", "cancel.in-batch-halt.stops"),
    _m("batch-halt-ignored", "wire", "`halt = 1` — execution of the chain is interrupted", "cancel.in-batch-halt.stops"),
    _m("batch-length-unlimited", "wire", "The number of requests in a batch is limited to 50",
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


class MutantMiddleware:
    """Rewrites requests and responses for the wire mutants that are switched on."""

    def __init__(self, app: Callable[..., Awaitable[None]], mutants: Iterable[str]) -> None:
        self.app = app
        self.on = frozenset(mutants) & {n for n, m in MUTANTS.items() if m.layer == "wire"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.on:
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        body = await _read_body(receive)
        method = scope["path"].rstrip("/").rsplit("/", 1)[-1]
        ctype = dict(scope.get("headers") or []).get(b"content-type", b"").decode("latin-1").lower()
        refusal = self._refuse(scope, method, ctype, body)
        if refusal is not None:
            await _respond(send, *refusal)
            return
        scope, body = self._rewrite_request(scope, method, ctype, body)
        captured: dict[str, Any] = {}

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["start"] = message
            elif message["type"] == "http.response.body":
                captured["body"] = captured.get("body", b"") + message.get("body", b"")
                if not message.get("more_body"):
                    status, payload = self._rewrite_response(method, captured["start"]["status"], captured["body"])
                    await _respond(send, status, payload, captured["start"].get("headers", []))

        await self.app(scope, replay, capture)

    # -- requests -------------------------------------------------------------------------------
    def _refuse(self, scope: Scope, method: str, ctype: str, body: bytes) -> tuple[int, bytes] | None:
        on = self.on
        not_found = (404, _error("ERROR_METHOD_NOT_FOUND", "Method not found!"))
        bad = (400, _error("INVALID_REQUEST", "Unsupported request format"))
        if "no-json-suffix" in on and method.lower().endswith(".json"):
            return not_found
        if "case-sensitive-methods" in on:
            name = method.removesuffix(".json")
            spec = METHODS.get(name.lower())
            if spec is not None and name != spec.name:  # only the canonical spelling is found
                return not_found
        if "no-form-body" in on and ctype.startswith("application/x-www-form-urlencoded"):
            return bad
        if "no-multipart-body" in on and ctype.startswith("multipart/form-data"):
            return bad
        if "no-get" in on and scope["method"] == "GET" and method not in ("", "health"):
            return (405, _error("INVALID_REQUEST", "Method Not Allowed"))
        if "unknown-params-rejected" in on and method.lower().startswith("catalog.document.cancel") \
                and ctype.startswith("application/json"):
            doc = _json(body)
            extra = set(doc) - {"id", "auth"} if isinstance(doc, dict) else set()
            if extra:
                return (400, _error("INVALID_ARG_VALUE", f"Unknown parameter {min(extra)}"))
        return None

    def _rewrite_request(self, scope: Scope, method: str, ctype: str, body: bytes) -> tuple[Scope, bytes]:
        on = self.on
        if "oauth-query-ignored" in on and scope.get("query_string"):
            pairs = [(k, v) for k, v in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
                     if k != "auth"]
            scope["query_string"] = urlencode(pairs).encode("latin-1")
        if "https-not-enforced" in on:
            scope["scheme"] = "https"
        if "no-rate-limit" in on:  # every request seems to come from a fresh address: no bucket fills
            scope["client"] = (f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}", 1)
        doc = _json(body) if ctype.startswith("application/json") else None
        if isinstance(doc, dict):
            changed = False
            if "oauth-body-ignored" in on and "auth" in doc:
                doc.pop("auth")
                changed = True
            if method.lower().startswith("batch"):
                if "batch-halt-ignored" in on and doc.get("halt"):
                    doc["halt"] = 0
                    changed = True
                cmd = doc.get("cmd")
                if "batch-length-unlimited" in on and isinstance(cmd, dict) and len(cmd) > 50:
                    doc["cmd"] = dict(list(cmd.items())[:50])
                    changed = True
            if changed:
                body = json.dumps(doc).encode()
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"content-length"] + \
                    [(b"content-length", str(len(body)).encode())]
        return scope, body

    # -- responses ------------------------------------------------------------------------------
    def _rewrite_response(self, method: str, status: int, payload: bytes) -> tuple[int, bytes]:
        doc = _json(payload)
        if not isinstance(doc, dict):
            return status, payload
        on = self.on
        if "error" in doc:
            status, doc = self._rewrite_error(status, doc)
        else:
            if "result-as-string" in on:
                doc = _stringify_true(doc)
            if "no-time-block" in on:
                doc.pop("time", None)
            if method.lower().startswith("batch") and "batch-error-aborts" in on:
                errors = (doc.get("result") or {}).get("result_error") if isinstance(doc.get("result"), dict) else None
                if isinstance(errors, dict) and errors:
                    first = next(iter(errors.values()))
                    status, doc = 400, {"error": first.get("error"), "error_description": first.get("error_description")}
        return status, json.dumps(doc, ensure_ascii=False).encode()

    def _rewrite_error(self, status: int, doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        on = self.on
        code = doc.get("error")
        if "errors-as-200" in on:
            status = 200
        if "error-code-renamed" in on and code in ("0", 0, 100, "100"):
            doc["error"] = "ERROR_DOCUMENT" if str(code) == "0" else "INVALID_ARG_VALUE"
        if "error-text-lowercase" in on and isinstance(doc.get("error_description"), str):
            doc["error_description"] = doc["error_description"][:1].lower() + doc["error_description"][1:]
        if "auth-errors-403" in on and code in ("NO_AUTH_FOUND", "expired_token", "INVALID_CREDENTIALS"):
            status = 403
        if "error-codes-uppercased" in on and isinstance(code, str):
            doc["error"] = code.upper()
        if "invalid-credentials-as-no-auth" in on and code == "INVALID_CREDENTIALS":
            status, doc = 401, {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}
        if "unknown-method-400" in on and code == "ERROR_METHOD_NOT_FOUND":
            status = 400
        if "operating-limit-as-query-limit" in on and code == "OPERATION_TIME_LIMIT":
            status, doc = 503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
        return status, doc


def _stringify_true(value: Any) -> Any:
    if value is True:
        return "true"
    if isinstance(value, dict):
        return {k: (v if k == "time" else _stringify_true(v)) for k, v in value.items()}
    return value


def _error(code: str, text: str) -> bytes:
    return json.dumps({"error": code, "error_description": text}).encode()


def _json(payload: bytes) -> Any:
    try:
        return json.loads(payload) if payload else None
    except ValueError:
        return None


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _respond(send: Send, status: int, payload: bytes, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
    await send({"type": "http.response.start", "status": status,
                "headers": kept + [(b"content-type", b"application/json"),
                                   (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
