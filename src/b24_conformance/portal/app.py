"""The reference portal's Starlette app: `/rest/...` routing, the call pipeline, Bitrix envelopes.

One request, in order: parse the path (`.json` suffix, webhook or OAuth form), read and parse the
body and query string, resolve the credential (auth.py), count the request in the leaky bucket,
then run `batch` or one method: look it up (case-insensitive), check its scope and operating budget,
call the handler, and wrap the result or the PortalError in the envelope. Requests run side by side
on `settings.workers` threads, as PHP-FPM workers run them, so conduct and cancel are atomic by
their database transactions; `workers=0` runs them one at a time on the event loop instead.

Choices where the docs are silent:
 1. Unreadable requests (malformed or non-object JSON, NaN/Infinity, nesting over 32 levels, a body
    over 1 MiB, more than 20 000 parameters, a broken multipart body, a `.xml` suffix) answer 400
    `{"error": "INVALID_REQUEST", "error_description": <what was wrong>}`, before auth. The texts are
    the portal's own (no profile has keys for them).
 2. A body whose content type is not JSON, urlencoded or multipart (or that has none) is ignored,
    as PHP ignores it; the query string still counts. Query parameters sit beneath body parameters
    (shallow merge, like $_REQUEST). Non-UTF-8 bytes in query or form values become U+FFFD.
 3. `/rest/` paths with neither one segment (OAuth) nor three (webhook) are `system.method-not-found`,
    before auth. Otherwise auth comes first, then the rate limit, then the method name.
 4. An expired webhook is `system.wrong-auth` (the docs say only "an authorization error");
    `system.expired-token` is for OAuth tokens. A webhook code sent as an OAuth `auth` (or an OAuth
    token in a webhook path) is `system.wrong-auth`.
 5. The leaky bucket counts only authenticated requests, keyed by (portal id, client IP).
 6. A handler's execution time is added to the operating budget whether it succeeded or raised a
    PortalError. The outer `batch` reports `operating` 0 and `operating_reset_at` start + 600.
 7. A bug in a handler answers 500 `INTERNAL_SERVER_ERROR` "Internal server error" (inside a batch:
    that command's `result_error`); the log names the method and exception, never a credential.
 8. Non-REST paths answer JSON `NOT_FOUND` (404); on `/rest/`, HTTP verbs other than GET and POST
    answer JSON `METHOD_NOT_ALLOWED` (405).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from ..contract.profile import Profile, load_profile
from . import seed as seeding
from .auth import authenticate, check_scope
from .batch import BATCH, run_batch
from .database import CredentialRecord, PortalDB
from .deviations import FAITHFUL, WIRE, Deviations
from .entities import PortalRecord
from .envelope import (
    JSON_MEDIA_TYPE,
    OPERATING_WINDOW_S,
    CallOutcome,
    Clock,
    FixedClock,
    Timing,
    encode,
    error,
    time_block,
    wall_clock,
)
from .errors import PortalError
from .limits import LeakyBucket, LogicalLeakyBucket, OperatingBudget, OperatingState
from .listing import ListResult
from .methods import METHODS, CallContext, MethodSpec
from .mutants import deviations_for
from .settings import PortalSettings
from .wire import MAX_BODY_BYTES, WireError, merge_params, parse_body, parse_query, parse_rest_path
from .wire_deviations import MutantMiddleware

logger = logging.getLogger("b24_conformance.portal")

EXHAUSTED_LABEL = "operating-exhausted"
EXHAUSTED_METHOD = "catalog.document.cancel"
INTERNAL = CallOutcome.failure(500, "INTERNAL_SERVER_ERROR", "Internal server error")


@dataclass(slots=True)
class PortalRuntime:
    """Everything one app instance keeps between requests (on `app.state.runtime`)."""

    settings: PortalSettings
    db: PortalDB
    profile: Profile
    clock: Clock
    limiter: LeakyBucket
    budget: OperatingBudget
    methods: Mapping[str, MethodSpec] = field(default_factory=lambda: METHODS)
    deviations: Deviations = FAITHFUL  # from settings.mutants; the handlers read the domain ones
    # Requests run side by side on worker threads (settings.workers), as PHP-FPM workers do, so
    # conduct and cancel are atomic by the database transaction, not by the accident of one event
    # loop. A plain executor costs less per call than anyio's to_thread. None: on the event loop.
    workers: ThreadPoolExecutor | None = None

    @property
    def deterministic(self) -> bool:
        return self.settings.deterministic

    def fail(self, exc: PortalError) -> CallOutcome:
        http, code, text = exc.render(self.profile)
        return CallOutcome.failure(http, code, text)

    def invoke(
        self, cred: CredentialRecord, portal: PortalRecord, name: str, params: dict[str, Any]
    ) -> CallOutcome:
        """One method call (top level or inside a batch); never raises for a documented failure."""
        key = name.lower()
        spec = self.methods.get(key)
        try:
            if spec is None:
                raise PortalError("system.method-not-found")
            check_scope(cred, spec.scope)
            if self.budget.blocked(cred.secret, key):
                raise PortalError("system.operation-time-limit")
        except PortalError as exc:
            return self.fail(exc)
        start = self.clock()
        ctx = CallContext(db=self.db, settings=self.settings, portal=portal, user_id=cred.user_id, now=start,
                          deviations=self.deviations)
        began = time.perf_counter()
        try:
            value = spec.handler(ctx, params)
        except PortalError as exc:
            self._account(cred, key, time.perf_counter() - began)
            return self.fail(exc)
        except Exception as exc:  # a bug in a handler: log it (no secrets: params hold no auth), answer 500
            logger.error("unexpected %s in %s", type(exc).__name__, key, exc_info=exc)
            return INTERNAL
        elapsed = time.perf_counter() - began
        state = self._account(cred, key, elapsed)
        timing = Timing(start, self.clock(), 0.0 if self.deterministic else elapsed)
        block = time_block(timing, state.operating, state.reset_at, on_prem=self.settings.on_prem)
        if isinstance(value, ListResult):
            return CallOutcome(200, value.result, block, total=value.total, next=value.next)
        return CallOutcome(200, value, block)

    def _account(self, cred: CredentialRecord, key: str, elapsed: float) -> OperatingState:
        return self.budget.record(cred.secret, key, 0.0 if self.deterministic else elapsed)

    def batch(self, cred: CredentialRecord, portal: PortalRecord, params: Mapping[str, Any]) -> CallOutcome:
        start = self.clock()
        began = time.perf_counter()
        result = run_batch(
            params,
            lambda name, sub: self.invoke(cred, portal, name, sub),
            lambda key: self.fail(PortalError(key)),
        )
        elapsed = 0.0 if self.deterministic else time.perf_counter() - began
        # The outer batch is not counted in `operating` (limits.md); its nested calls are.
        block = time_block(Timing(start, self.clock(), elapsed), 0.0, int(start) + OPERATING_WINDOW_S,
                           on_prem=self.settings.on_prem)
        return CallOutcome(200, result, block)

    def handle(
        self, tail: str, query: bytes, body: bytes, content_type: str | None, over_https: bool, client: str
    ) -> CallOutcome:
        """A whole `/rest/{tail}` request, already read off the socket."""
        try:
            path = parse_rest_path(tail)
            if path is None:
                raise PortalError("system.method-not-found")
            params = merge_params(parse_query(query), parse_body(body, content_type))
            auth = params.pop("auth", None)
            cred = authenticate(
                self.db, path, auth, over_https=over_https, tls_enabled=self.settings.tls, now=self.clock()
            )
            if not self.limiter.admit((cred.portal_id, client)):
                raise PortalError("system.query-limit")
            portal = self.db.portal(cred.portal_id)
            if path.method.lower() == BATCH:
                return self.batch(cred, portal, params)
            return self.invoke(cred, portal, path.method, params)
        except WireError as exc:
            return CallOutcome.failure(exc.http, exc.error, exc.description)
        except PortalError as exc:
            return self.fail(exc)


JSON_MEDIA_TYPE_HEADER = JSON_MEDIA_TYPE.encode("latin-1")


class RestFastPath:
    """Every `/rest/...` request, straight off the ASGI scope: read the body, run `PortalRuntime.handle`
    on a worker thread, answer JSON. It skips the router and the Request/Response objects, which
    cost more than the domain does. Other paths (`/`, `/health`, 404s) fall through to Starlette."""

    def __init__(self, app: Any, runtime: PortalRuntime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/rest/"):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "POST"):
            await _send_json(send, 405, error("METHOD_NOT_ALLOWED", "Method Not Allowed"))
            return
        runtime = self.runtime
        headers = dict(scope.get("headers") or ())
        ctype = headers.get(b"content-type")
        try:
            body = b"" if scope["method"] == "GET" else await _receive_body(receive, headers.get(b"content-length"))
            client = scope.get("client")
            args = (path[len("/rest/"):], scope.get("query_string", b""), body,
                    ctype.decode("latin-1") if ctype is not None else None, scope.get("scheme") == "https",
                    client[0] if client else "")
            if runtime.workers is None:
                outcome = runtime.handle(*args)
            else:
                outcome = await asyncio.get_running_loop().run_in_executor(runtime.workers, runtime.handle, *args)
        except WireError as exc:
            outcome = CallOutcome.failure(exc.http, exc.error, exc.description)
        except ClientDisconnect:  # nobody is left to read an answer
            await send({"type": "http.response.start", "status": 400, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        except Exception as exc:  # the last line of defence: a bug, never a documented answer
            logger.error("unexpected %s outside a handler", type(exc).__name__, exc_info=exc)
            outcome = INTERNAL
        await _send_json(send, outcome.http, outcome.body())


async def _send_json(send: Any, status: int, document: Any) -> None:
    payload = encode(document)
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", JSON_MEDIA_TYPE_HEADER), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


async def _receive_body(receive: Any, declared: bytes | None) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise WireError(f"Request body exceeds {MAX_BODY_BYTES} bytes")
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        body += message.get("body", b"")
        if len(body) > MAX_BODY_BYTES:
            raise WireError(f"Request body exceeds {MAX_BODY_BYTES} bytes")
        if not message.get("more_body"):
            return bytes(body)


async def health_endpoint(request: Request) -> Response:
    runtime: PortalRuntime = request.app.state.runtime
    body = {"status": "ok", "profile": runtime.profile.name, "tls": runtime.settings.tls}
    return Response(encode(body), media_type=JSON_MEDIA_TYPE)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "INVALID_REQUEST")
    text = exc.detail if isinstance(exc, HTTPException) else "Internal server error"
    return Response(encode(error(code, text)), status_code=status, media_type=JSON_MEDIA_TYPE)


def create_app(settings: PortalSettings, db: PortalDB | None = None) -> Starlette:
    """A reference portal app. Creates and seeds an SQLite database unless `db` is given (then not seeded)."""
    profile = load_profile(settings.profile)
    owns_db = db is None
    if db is None:
        db = PortalDB(settings.db_path)
        seeded = seeding.seed(db, settings)
        credentials, fixtures = list(seeded.credentials), dict(seeded.fixtures)
    else:
        credentials, fixtures = db.credentials(), {}
    clock: Clock = FixedClock(settings.fixed_clock) if settings.deterministic else wall_clock
    deviations = deviations_for(settings.mutants)
    runtime = PortalRuntime(
        settings=settings,
        db=db,
        profile=profile,
        clock=clock,
        limiter=(LogicalLeakyBucket if settings.deterministic else LeakyBucket)(
            settings.rate_threshold, 0.0 if deviations.bucket_never_drains else settings.rate_drain_per_s),
        budget=OperatingBudget(settings.operating_limit_s, clock=clock),
        deviations=deviations,
        workers=ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="b24-portal")
        if settings.workers > 0 else None,
    )
    for cred in credentials:
        if cred.label == EXHAUSTED_LABEL:
            runtime.budget.exhaust(cred.secret, EXHAUSTED_METHOD)
    # Wire deviations rewrite requests/responses around the unchanged app; domain deviations are
    # read by the handlers (runtime.deviations). No middleware at all when none is on (the hot path).
    middleware = (
        [Middleware(MutantMiddleware, deviations=deviations)] if deviations.on(WIRE) else []
    ) + [Middleware(RestFastPath, runtime=runtime)]
    app = Starlette(
        middleware=middleware,
        routes=[
            Route("/", health_endpoint, methods=["GET"]),
            Route("/health", health_endpoint, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.profile = profile
    app.state.db = db
    app.state.owns_db = owns_db
    app.state.credentials = credentials
    app.state.fixtures = fixtures
    return app
