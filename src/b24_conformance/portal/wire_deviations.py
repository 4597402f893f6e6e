"""The wire deviations: an ASGI middleware that rewrites requests and responses around the unchanged app.

It reads the wire fields of `Deviations` (deviations.py); the app installs it only when one is on.
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .deviations import WIRE, Deviations
from .methods import METHODS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class MutantMiddleware:
    """Rewrites requests and responses for the wire deviations that are switched on."""

    def __init__(self, app: Callable[..., Awaitable[None]], deviations: Deviations) -> None:
        self.app = app
        self.deviations = deviations
        self.active = bool(deviations.on(WIRE))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.active:
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
        d = self.deviations
        not_found = (404, _error("ERROR_METHOD_NOT_FOUND", "Method not found!"))
        bad = (400, _error("INVALID_REQUEST", "Unsupported request format"))
        if d.refuses_json_suffix and method.lower().endswith(".json"):
            return not_found
        if d.case_sensitive_methods:
            name = method.removesuffix(".json")
            spec = METHODS.get(name.lower())
            if spec is not None and name != spec.name:  # only the canonical spelling is found
                return not_found
        if d.refuses_form_body and ctype.startswith("application/x-www-form-urlencoded"):
            return bad
        if d.refuses_multipart_body and ctype.startswith("multipart/form-data"):
            return bad
        if d.refuses_get and scope["method"] == "GET" and method not in ("", "health"):
            return (405, _error("INVALID_REQUEST", "Method Not Allowed"))
        if d.rejects_unknown_params and method.lower().startswith("catalog.document.cancel") \
                and ctype.startswith("application/json"):
            doc = _json(body)
            extra = set(doc) - {"id", "auth"} if isinstance(doc, dict) else set()
            if extra:
                return (400, _error("INVALID_ARG_VALUE", f"Unknown parameter {min(extra)}"))
        return None

    def _rewrite_request(self, scope: Scope, method: str, ctype: str, body: bytes) -> tuple[Scope, bytes]:
        d = self.deviations
        if d.ignores_query_auth and scope.get("query_string"):
            pairs = [(k, v) for k, v in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
                     if k != "auth"]
            scope["query_string"] = urlencode(pairs).encode("latin-1")
        if d.https_not_enforced:
            scope["scheme"] = "https"
        if d.no_rate_limit:  # every request seems to come from a fresh address: no bucket fills
            scope["client"] = (f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}", 1)
        doc = _json(body) if ctype.startswith("application/json") else None
        if isinstance(doc, dict):
            changed = False
            if d.ignores_body_auth and "auth" in doc:
                doc.pop("auth")
                changed = True
            if method.lower().startswith("batch"):
                if d.batch_halt_ignored and doc.get("halt"):
                    doc["halt"] = 0
                    changed = True
                cmd = doc.get("cmd")
                if d.batch_length_unlimited and isinstance(cmd, dict) and len(cmd) > 50:
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
        d = self.deviations
        if "error" in doc:
            status, doc = self._rewrite_error(status, doc)
        else:
            if d.result_as_string:
                doc = _stringify_true(doc)
            if d.no_time_block:
                doc.pop("time", None)
            if method.lower().startswith("batch") and d.batch_error_aborts:
                errors = (doc.get("result") or {}).get("result_error") if isinstance(doc.get("result"), dict) else None
                if isinstance(errors, dict) and errors:
                    first = next(iter(errors.values()))
                    status, doc = 400, {"error": first.get("error"), "error_description": first.get("error_description")}
        return status, json.dumps(doc, ensure_ascii=False).encode()

    def _rewrite_error(self, status: int, doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        d = self.deviations
        code = doc.get("error")
        if d.errors_as_200:
            status = 200
        if d.error_code_renamed and code in ("0", 0, 100, "100"):
            doc["error"] = "ERROR_DOCUMENT" if str(code) == "0" else "INVALID_ARG_VALUE"
        if d.error_text_lowercase and isinstance(doc.get("error_description"), str):
            doc["error_description"] = doc["error_description"][:1].lower() + doc["error_description"][1:]
        if d.auth_errors_403 and code in ("NO_AUTH_FOUND", "expired_token", "INVALID_CREDENTIALS"):
            status = 403
        if d.error_codes_uppercased and isinstance(code, str):
            doc["error"] = code.upper()
        if d.invalid_credentials_as_no_auth and code == "INVALID_CREDENTIALS":
            status, doc = 401, {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}
        if d.unknown_method_400 and code == "ERROR_METHOD_NOT_FOUND":
            status = 400
        if d.operating_limit_as_query_limit and code == "OPERATION_TIME_LIMIT":
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
