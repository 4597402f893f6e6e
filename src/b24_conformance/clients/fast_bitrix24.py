"""fast-bitrix24 (1.8.x) as two rows of the client × clause matrix, driven through `BitrixAsync`.

- `fast-bitrix24.raw`: `await b.call(method, params, raw=True)`, one POST of the JSON params to
  `{webhook}{method, lower-cased}`; the caller gets the whole body, so `Envelope(body)` (an error
  body that arrives with HTTP 200 is handed over as it is: fast-bitrix24 does not look at it).
  `batch` is `await b.call("batch", {"halt": 0|1, "cmd": {...}}, raw=True)`, also the whole body.
- `fast-bitrix24.call`: the default `await b.call(method, params)`, which wraps the call as the
  one command of a `batch` and unwraps its result (bare); a list method (`*.list`, …) goes
  through `await b.get_all(method, params)` instead, which pages and unwraps `{"documents": [...]}`
  into a list. `batch` is `await b.call_batch({"halt": …, "cmd": {...}})`, which returns only the
  per-command `result` map and raises when any command failed.

Each adapter keeps one `BitrixAsync` per role (as a program keeps its client) on one event loop
of its own, run in a background thread; calls from any thread are submitted to that loop, so
concurrent calls run concurrently on it, as they would under `asyncio.gather`. `verbose=False`
only turns off the progress bar; every other constructor option keeps its default, and the client
opens its own default `aiohttp.ClientSession(raise_for_status=True)` for each call: a custom
session would make 4xx bodies readable and stop 5xx retries, which is not what its users get.

TLS: fast-bitrix24 passes its `ssl` setting to aiohttp as the per-request `ssl=` argument
(`session.post(..., ssl=self.ssl)`), and aiohttp takes an `ssl.SSLContext` there. The constructor
annotates it as a bool (beartype-checked), so the adapter builds the client with the default
`ssl=True` and then sets `b.srh.ssl` to a context that trusts the portal's CA. The session, and
everything else about the client, stays the default. (`SSL_CERT_FILE` does not work here: aiohttp
builds its default context once, when it is imported.)

OAuth: `BitrixAsync("https://host/rest/", token_func=...)` puts `auth` in the body. fast-bitrix24
asks `token_func` for a token before the first request and again after every HTTP 401, with no
limit. The adapter's `token_func` hands out the role's token once; asked again it raises, because
the suite cannot refresh a token (so an expired token does not loop forever). That surfaces as
`ClientError("TokenRejectedError", status=401)`: the client never shows the caller the 401 body.

Errors, as the caller meets them with the default session:
- 4xx: `aiohttp.ClientResponseError` with `.status` only; the body (code, description) is lost:
  `ClientError("ClientResponseError", code=None, description=None, status=...)`.
- 5xx: retried (up to 11 attempts, back-off 0.15 s growing ×1.5, 16.8 s in all), then
  `RuntimeError("All attempts to get data from server exhausted")`, whose `__cause__.__cause__` is
  the last `ClientResponseError`: `ClientError("RuntimeError", code=None, description=None,
  status=<that status>)`.
- a failed batch command (non-raw call, call_batch): `ErrorInServerResponseException(result_error)`;
  the adapter reads code and description from it when it names one command (a single call), and
  hands the map over as `body`. The batch's own HTTP status (200) is not the sub-call's, so status
  is None.
The retry back-off uses `asyncio.sleep` in `fast_bitrix24.srh`; pass `retry_sleep_scale=` (e.g.
0.01) to scale it while this adapter is started. That patch of the module's `sleep` is the only
change made to the client, and it is off by default.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Coroutine, Mapping
from typing import Any

import aiohttp
import icontract
from fast_bitrix24 import BitrixAsync, srh
from fast_bitrix24.server_response import ErrorInServerResponseException
from fast_bitrix24.utils import http_build_query

from ..errors import TargetUnreachable
from ..redact import Redactor
from .base import AdapterBase, ClientError, Envelope, PortalAccess, RoleAccess, Unsupported

LIST_ENDINGS = (".list", ".getlist", ".fields", ".getavaliableforpayment", ".types")  # user_request.GET_ALL_ENDINGS
CALL_TIMEOUT_S = 120.0
EXHAUSTED = "All attempts to get data from server exhausted"

COMMON_CANNOT = {
    "form": "fast-bitrix24 always sends a JSON body",
    "multipart": "fast-bitrix24 always sends a JSON body",
    "get": "fast-bitrix24 always POSTs",
    "oauth-query": "fast-bitrix24 puts the OAuth token in the JSON body (token_func), never in the query string",
    "upper-case-method": "fast-bitrix24 lower-cases the method name of every request it sends",
}


class TokenRefreshUnavailable(Exception):
    """Raised by the adapter's token_func when fast-bitrix24 asks for a new token (after an HTTP 401)."""


class _FastBitrix24(AdapterBase):
    raw: bool = False

    def __init__(self, name: str, cannot: Mapping[str, str], *, retry_sleep_scale: float | None = None) -> None:
        super().__init__(name=name, cannot=dict(cannot))
        self.retry_sleep_scale = retry_sleep_scale
        self._clients: dict[tuple[str, bool], BitrixAsync] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._saved_sleep: Any = None

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self, access: PortalAccess) -> None:
        self.access = access
        self.ssl: ssl.SSLContext | bool = ssl.create_default_context(cafile=access.ca_path) if access.ca_path else True
        self.redactor = Redactor()
        self.redactor.add(*self.secrets())
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"{self.name}-loop", daemon=True)
        self._thread.start()
        if self.retry_sleep_scale is not None:
            scale = self.retry_sleep_scale
            self._saved_sleep = srh.sleep
            real = asyncio.sleep

            async def scaled(delay: float, *args: Any) -> Any:
                return await real(delay * scale, *args)

            srh.sleep = scaled

    def stop(self) -> None:
        if self._saved_sleep is not None:
            srh.sleep = self._saved_sleep
            self._saved_sleep = None
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            self._loop.close()
            self._loop = None
        self._clients.clear()

    # -- clients ----------------------------------------------------------------------------------
    def client(self, role: str, *, plain: bool = False) -> BitrixAsync:
        key = (role, plain)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._make(self.role_access(role), plain)
            return self._clients[key]

    def _make(self, ra: RoleAccess, plain: bool) -> BitrixAsync:
        url = ra.webhook_url if ra.kind == "webhook" else ra.oauth_endpoint
        if not url:
            raise Unsupported(f"role {ra.role!r} has no URL")
        if plain:
            if not self.access.plain_origin:
                raise Unsupported("the target has no plain-HTTP listener")
            url = self.access.plain_origin.rstrip("/") + "/rest/" + url.split("/rest/", 1)[1]
        token_func = _token_func(ra.token) if ra.kind == "oauth" and ra.token else None
        b = BitrixAsync(url, token_func=token_func, verbose=False)
        b.srh.ssl = self.ssl  # aiohttp's per-request ssl=: a context trusting the portal's CA
        return b

    def _forget(self, role: str) -> None:
        with self._lock:
            for key in [k for k in self._clients if k[0] == role]:
                del self._clients[key]

    # -- running ----------------------------------------------------------------------------------
    def _run(self, role: str, coro: Coroutine[Any, Any, Any], *, single: bool = False) -> Any:
        """Run one of the client's coroutines on the adapter's loop; `single`: it is one call that
        fast-bitrix24 sent as the only command of a batch (its error then names that one call)."""
        assert self._loop is not None, "start() first"
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout=CALL_TIMEOUT_S)
        except TokenRefreshUnavailable:
            self._forget(role)  # its token_received event stays cleared: the client would hang next time
            raise ClientError("TokenRejectedError", code=None, description=None, status=401,
                              message="fast-bitrix24 got HTTP 401 and asked token_func for a new token",
                              notes=(("the 401 body (code, description) is not shown to the caller; only "
                                     "that token_func was called again"),)) from None
        except aiohttp.ClientResponseError as exc:
            raise ClientError("ClientResponseError", code=None, description=None, status=exc.status,
                              message=f"HTTP {exc.status} {exc.message}",
                              notes=("the default session raises on 4xx before reading the body",)) from exc
        except RuntimeError as exc:
            if str(exc) != EXHAUSTED:
                raise
            last = _last_response_error(exc)
            if last is None:  # it retried a connection failure, not an answer: the target's fault
                cause = exc.__cause__
                raise TargetUnreachable(f"fast-bitrix24: {EXHAUSTED}: {type(cause).__name__}: "
                                        f"{self.redactor.text(str(cause))}",
                                        hint="is the portal up and its CA trusted?") from None
            raise ClientError("RuntimeError", code=None, description=None, status=last.status, message=str(exc),
                              notes=("after its retries; the last HTTP status is only on __cause__.__cause__",)
                              ) from exc
        except ErrorInServerResponseException as exc:
            raise batch_error(exc, single=single) from exc
        except aiohttp.ClientError as exc:  # connection-level: the target's fault
            raise TargetUnreachable(f"fast-bitrix24: {type(exc).__name__}: {self.redactor.text(str(exc))}",
                                    hint="is the portal up and its CA trusted?") from None


def _token_func(token: str) -> Any:
    handed = [False]

    async def token_func() -> str:
        if handed[0]:
            raise TokenRefreshUnavailable("the suite cannot refresh an OAuth token")
        handed[0] = True
        return token

    return token_func


def _last_response_error(exc: BaseException) -> aiohttp.ClientResponseError | None:
    seen = exc.__cause__
    while seen is not None:
        if isinstance(seen, aiohttp.ClientResponseError):
            return seen
        seen = seen.__cause__
    return None


def batch_error(exc: ErrorInServerResponseException, *, single: bool) -> ClientError:
    """The exception carries `result_error` as the portal sent it (a map, or a list for list-style cmd).
    For a single call sent as a batch of one, its one entry is that call's code and description."""
    errors = exc.args[0] if exc.args else None
    code = description = None
    entries = list(errors.values()) if isinstance(errors, Mapping) else errors if isinstance(errors, list) else []
    if single and len(entries) == 1 and isinstance(entries[0], Mapping):
        only = entries[0]
        code = None if only.get("error") is None else str(only["error"])
        description = None if only.get("error_description") is None else str(only["error_description"])
    return ClientError("ErrorInServerResponseException", code=code, description=description, status=None,
                       body=errors, message=description or "a batch command failed",
                       notes=(("raised from the batch's result_error; the batch answered HTTP 200 and the "
                              "results of the commands that succeeded are not returned"),))


def _command(method: str, params: Mapping[str, Any]) -> str:
    return f"{method}?{http_build_query(dict(params))}"


class RawAdapter(_FastBitrix24):
    """`fast-bitrix24.raw`: `call(method, params, raw=True)`, the whole body."""

    def __init__(self, **options: Any) -> None:
        super().__init__("fast-bitrix24.raw", COMMON_CANNOT, **options)

    def call(self, role: str, method: str, params: Mapping[str, Any], *, transport: str = "json") -> Any:
        self.refuse(transport)
        if transport == "json-suffix":
            method += ".json"
        b = self.client(role, plain=transport == "plain-http")
        return Envelope(self._run(role, b.call(method, dict(params), raw=True)))

    def batch(self, role: str, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool) -> Any:
        b = self.client(role)
        cmd = {key: _command(method, params) for key, (method, params) in commands.items()}
        return Envelope(self._run(role, b.call("batch", {"halt": 1 if halt else 0, "cmd": cmd}, raw=True)))


class CallAdapter(_FastBitrix24):
    """`fast-bitrix24.call`: the default `call` (through batch), `get_all` for list methods."""

    def __init__(self, **options: Any) -> None:
        cannot = dict(COMMON_CANNOT)
        for transport in ("json-suffix", "plain-http"):
            cannot[transport] = "fast-bitrix24's call() always sends the request as a command of a batch"
        super().__init__("fast-bitrix24.call", cannot, **options)

    def call(self, role: str, method: str, params: Mapping[str, Any], *, transport: str = "json") -> Any:
        self.refuse(transport)
        b = self.client(role)
        try:
            if method.lower().strip().endswith(LIST_ENDINGS):
                coro = b.get_all(method, dict(params))
            else:
                coro = b.call(method, dict(params))
        except icontract.ViolationError as exc:
            raise Unsupported(f"fast-bitrix24 refuses this call before sending it: {_first_line(exc)}") from None
        try:
            return self._run(role, coro, single=not method.lower().strip().endswith(LIST_ENDINGS))
        except icontract.ViolationError as exc:
            raise Unsupported(f"fast-bitrix24 refuses this call before sending it: {_first_line(exc)}") from None

    def batch(self, role: str, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool) -> Any:
        b = self.client(role)
        cmd = {key: _command(method, params) for key, (method, params) in commands.items()}
        return self._run(role, b.call_batch({"halt": 1 if halt else 0, "cmd": cmd}))


def _first_line(exc: BaseException) -> str:
    """icontract's message starts with a `File ..., line N in ...:` line; the condition follows."""
    lines = [line for line in str(exc).strip().splitlines() if line and not line.startswith("File ")]
    return lines[0] if lines else type(exc).__name__


def raw(**options: Any) -> RawAdapter:
    return RawAdapter(**options)


def call(**options: Any) -> CallAdapter:
    return CallAdapter(**options)
