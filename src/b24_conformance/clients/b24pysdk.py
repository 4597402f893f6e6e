"""b24pysdk (the official Python SDK, 1.3.x) as two rows of the client × clause matrix.

- `b24pysdk.typed`: the typed API, as its README shows it: `client.catalog.document.cancel(
  bitrix_id=N).result`, `…cancel_list(document_ids=[…]).result` (and conduct/delete and their
  list forms, add, update, list, getFields, mode.status and the element methods), and `client.call_batch({key: <typed request>}, halt=…).result` for `batch`. It
  returns the bare `result` (for a batch, the SDK's `B24APIBatchResult.to_dict()`). A method or a
  parameter the typed API has no wrapper for is `Unsupported`; so is a call its wrappers refuse
  before sending (they type-check: `cancel(bitrix_id="abc")` raises TypeError, nothing is sent).
- `b24pysdk.call_method`: `token.call_method(method, params)` and `token.call_batch({key: (method,
  params)}, halt=…)`, both returning the whole body, so the caller gets `Envelope(body)`.

Credentials: a webhook role is `BitrixWebhook(domain=host[:port], webhook_token="<user>/<code>")`;
an OAuth role is `BitrixToken(domain=…, auth_token=…, bitrix_app=BitrixApp(…))`, which makes the
SDK send `auth` in the JSON body (without `bitrix_app` the SDK would take the token for a webhook
and put it in the URL path). The client id and secret are placeholders: the SDK only uses them to
refresh, and a token without `refresh_token` is never refreshed (it is "one-off"), so an expired
token is raised to the caller as `BitrixAPIExpiredToken`. The SDK has no anonymous mode.

TLS: the SDK calls the module-level `requests.post` with no `verify`, so requests takes the CA
bundle from `REQUESTS_CA_BUNDLE` on every request. The adapter sets that variable to the portal's
CA only while one of its own calls runs (and restores it after; reference-counted across threads),
so nothing else in the process trusts the loopback CA. Another thread that uses requests at that
very moment would see it too; the suite runs no such thread.

Retries: the SDK retries HTTP 503 only, with real `time.sleep`. The adapter keeps the SDK's own
attempt count (3, `Config().default_max_retries`) and its linear back-off, but starts it at 0.1 s
and adds 0.1 s per retry (the SDK default is 1 s + 1 s), so a rate-limited clause costs 0.3 s, not
3 s. What is observed is still the SDK's own loop: retry on 503, then raise the last answer as
`BitrixAPIQueryLimitExceeded`. Pass `max_retries=`, `initial_retry_delay=` and
`retry_delay_increment=` to the factory to change that (None keeps the SDK's default). Zero is
not "no delay": the SDK treats falsy values as "use the default".

Errors: every `b24pysdk.errors.BitrixAPIError` (and any other `BitrixResponseError`, such as a
non-JSON answer) becomes a `ClientError` with the class name, `.error`, `.error_description` and
`.status_code` as the SDK exposes them, and `.json_response` as `body`. Where an accessor raises
(`.error` and `.error_description` both raise ValueError when the portal sends the code as a
number, e.g. `"error": 100` for a missing parameter), the value is read from `.json_response`
instead and a note says so. Transport failures (`BitrixRequestError`) are the target's fault and
become `TargetUnreachable`, redacted.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from b24pysdk import BitrixApp, BitrixToken, BitrixWebhook, Client
from b24pysdk.errors import BitrixRequestError, BitrixResponseError

from ..errors import TargetUnreachable
from ..redact import Redactor
from .base import AdapterBase, ClientError, Envelope, PortalAccess, RoleAccess, Unsupported

MAX_BATCH_SIZE = 50  # b24pysdk._constants.MAX_BATCH_SIZE: call_batch raises ValueError above it
APP_ID = "b24-conformance"  # placeholders: used only to refresh, which a one-off token never does
APP_SECRET = "not-used"

COMMON_CANNOT = {
    "form": "b24pysdk always sends a JSON body",
    "multipart": "b24pysdk always sends a JSON body",
    "get": "b24pysdk always POSTs",
    "oauth-query": "b24pysdk puts the OAuth token in the JSON body, never in the query string",
    "plain-http": "b24pysdk builds https://{domain}/rest/... itself",
}

# method -> (attribute path on client.catalog.document, {wire param: keyword})
TYPED = {
    "catalog.document.cancel": ("cancel", {"id": "bitrix_id"}),
    "catalog.document.conduct": ("conduct", {"id": "bitrix_id"}),
    "catalog.document.delete": ("delete", {"id": "bitrix_id"}),
    "catalog.document.cancelList": ("cancel_list", {"documentIds": "document_ids"}),
    "catalog.document.conductList": ("conduct_list", {"documentIds": "document_ids"}),
    "catalog.document.deleteList": ("delete_list", {"documentIds": "document_ids"}),
    "catalog.document.mode.status": ("mode.status", {}),
    "catalog.document.list": ("list", {k: k for k in ("select", "filter", "order", "start")}),
    "catalog.document.add": ("add", {"fields": "fields"}),
    "catalog.document.update": ("update", {"id": "bitrix_id", "fields": "fields"}),
    "catalog.document.getFields": ("get_fields", {}),
    "catalog.document.element.add": ("element.add", {"fields": "fields"}),
    "catalog.document.element.update": ("element.update", {"id": "bitrix_id", "fields": "fields"}),
    "catalog.document.element.delete": ("element.delete", {"id": "bitrix_id"}),
    "catalog.document.element.list": ("element.list", {k: k for k in ("select", "filter", "order", "start")}),
    "catalog.document.element.getFields": ("element.get_fields", {}),
    # the deprecated aliases (confirm, unconfirm, fields, element.fields) have no typed wrapper
}

# -- the CA bundle, for this adapter's calls only -------------------------------------------------
_env_lock = threading.Lock()
_env_depth = 0
_env_saved: str | None = None


@contextmanager
def trusting(ca_path: str | None) -> Iterator[None]:
    """REQUESTS_CA_BUNDLE=ca_path while the block runs (nested and concurrent uses share it)."""
    global _env_depth, _env_saved
    if not ca_path:
        yield
        return
    with _env_lock:
        if _env_depth == 0:
            _env_saved = os.environ.get("REQUESTS_CA_BUNDLE")
            os.environ["REQUESTS_CA_BUNDLE"] = ca_path
        elif os.environ.get("REQUESTS_CA_BUNDLE") != ca_path:
            raise RuntimeError("two b24pysdk adapters with different CAs are calling at the same time")
        _env_depth += 1
    try:
        yield
    finally:
        with _env_lock:
            _env_depth -= 1
            if _env_depth == 0:
                if _env_saved is None:
                    os.environ.pop("REQUESTS_CA_BUNDLE", None)
                else:
                    os.environ["REQUESTS_CA_BUNDLE"] = _env_saved


@dataclass
class _Retry:
    max_retries: int | None = None
    initial_retry_delay: float | None = 0.1
    retry_delay_increment: float | None = 0.1

    def kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


class _B24PySDK(AdapterBase):
    def __init__(self, name: str, cannot: Mapping[str, str], retry: _Retry) -> None:
        super().__init__(name=name, cannot=dict(cannot))
        self.retry = retry
        self._tokens: dict[str, Any] = {}
        self._lock = threading.Lock()

    def start(self, access: PortalAccess) -> None:
        self.access = access
        self.redactor = Redactor()
        self.redactor.add(*self.secrets())

    def token(self, role: str) -> Any:
        with self._lock:
            if role not in self._tokens:
                self._tokens[role] = _token(self.access, self.role_access(role))
            return self._tokens[role]

    def _run(self, thunk: Callable[[], Any]) -> Any:
        with trusting(self.access.ca_path):
            try:
                return thunk()
            except BitrixResponseError as exc:
                raise client_error(exc) from exc
            except BitrixRequestError as exc:
                raise TargetUnreachable(f"b24pysdk: {self.redactor.text(str(exc))}",
                                        hint="is the portal up and its CA trusted?") from None
            except ValueError as exc:
                if "batch size" in str(exc):
                    raise Unsupported(f"b24pysdk refuses a batch of more than {MAX_BATCH_SIZE} commands before "
                                      f"sending it (ValueError: {exc}); the portal's answer is never seen") from None
                raise


def _token(access: PortalAccess, ra: RoleAccess) -> Any:
    base = ra.webhook_url or ra.oauth_endpoint or ""
    if not base.startswith(f"https://{access.host}/rest/"):
        raise Unsupported(f"b24pysdk only calls https://<domain>/rest/...; role {ra.role!r} is not at such a URL")
    if ra.kind == "webhook":
        if ra.user_id is None or not ra.code:
            raise Unsupported(f"role {ra.role!r} is not a <user id>/<code> webhook")
        return BitrixWebhook(domain=access.host, webhook_token=f"{ra.user_id}/{ra.code}")
    if ra.kind == "oauth" and ra.token:
        return BitrixToken(domain=access.host, auth_token=ra.token,
                           bitrix_app=BitrixApp(client_id=APP_ID, client_secret=APP_SECRET))
    raise Unsupported("b24pysdk has no anonymous call: every request carries a webhook path or an OAuth `auth`")


class TypedAdapter(_B24PySDK):
    """`b24pysdk.typed`: `Client(token).catalog.document.<wrapper>(...).result`."""

    def __init__(self, **retry: Any) -> None:
        cannot = dict(COMMON_CANNOT)
        cannot["upper-case-method"] = "the typed API derives the method name from the attribute path"
        super().__init__("b24pysdk.typed", cannot, _Retry(**retry))
        self._clients: dict[str, Any] = {}

    def client(self, role: str) -> Any:
        token = self.token(role)
        with self._lock:
            if role not in self._clients:
                self._clients[role] = Client(token, **self.retry.kwargs())
            return self._clients[role]

    def request(self, role: str, method: str, params: Mapping[str, Any]) -> Any:
        """The typed request object for one call (lazy: nothing is sent until `.result`)."""
        spec = TYPED.get(method)
        if spec is None:
            raise Unsupported(f"b24pysdk's typed API has no wrapper for {method!r}")
        path, keywords = spec
        extra = sorted(set(params) - set(keywords))
        if extra:
            raise Unsupported(f"b24pysdk's typed {path}() has no parameter for {', '.join(map(repr, extra))}")
        wrapper: Any = self.client(role).catalog.document
        for part in path.split("."):
            wrapper = getattr(wrapper, part)
        kwargs = {keywords[k]: v for k, v in params.items()}
        try:
            return wrapper(**kwargs)
        except TypeError as exc:  # its run-time type check, or a required argument left out
            raise Unsupported(f"b24pysdk's typed {path}() refuses these arguments before sending: "
                              f"TypeError: {exc}") from None

    def call(self, role: str, method: str, params: Mapping[str, Any], *, transport: str = "json") -> Any:
        self.refuse(transport)  # json-suffix needs nothing: the SDK always sends <method>.json
        request = self.request(role, method, params)
        return self._run(lambda: request.result)

    def batch(self, role: str, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool) -> Any:
        requests = {key: self.request(role, method, params) for key, (method, params) in commands.items()}
        client = self.client(role)
        return self._run(lambda: client.call_batch(requests, halt=halt).result.to_dict())


class CallMethodAdapter(_B24PySDK):
    """`b24pysdk.call_method`: `token.call_method(method, params)` and `token.call_batch(...)`."""

    def __init__(self, **retry: Any) -> None:
        super().__init__("b24pysdk.call_method", COMMON_CANNOT, _Retry(**retry))

    def call(self, role: str, method: str, params: Mapping[str, Any], *, transport: str = "json") -> Any:
        self.refuse(transport)
        if transport == "upper-case-method":
            method = method.upper()
        # json-suffix needs nothing: the SDK itself always sends <method>.json
        token = self.token(role)
        body = self._run(lambda: token.call_method(method, dict(params), **self.retry.kwargs()))
        return Envelope(body)

    def batch(self, role: str, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool) -> Any:
        token = self.token(role)
        methods = {key: (method, dict(params)) for key, (method, params) in commands.items()}
        return Envelope(self._run(lambda: token.call_batch(methods, halt=halt, **self.retry.kwargs())))


def client_error(exc: BitrixResponseError) -> ClientError:
    """What a caller can read off a b24pysdk response error, with a note wherever an accessor failed."""
    notes: list[str] = []
    body = getattr(exc, "json_response", None)
    status = _status(exc)
    if body is None:  # not JSON (BitrixResponseJSONDecodeError and its 302/403/500 forms)
        return ClientError(type(exc).__name__, code=None, description=None, status=status,
                           message=str(exc.message) if hasattr(exc, "message") else "", notes=())
    code = _read(exc, "error", body, notes)
    description = _read(exc, "error_description", body, notes)
    return ClientError(type(exc).__name__, code=code, description=description, status=status, body=body,
                       message=_message(exc), notes=tuple(notes),
                       unreadable=tuple(n.split(";")[0] for n in notes if " raised " in n))


def _status(exc: BitrixResponseError) -> int | None:
    try:
        return int(exc.status_code)
    except Exception:  # noqa: BLE001 - the accessor itself failing is what is recorded
        return None


def _read(exc: Any, accessor: str, body: Any, notes: list[str]) -> str | None:
    try:
        value = getattr(exc, accessor)
    except Exception as err:  # noqa: BLE001 - recorded, and the value read from the body instead
        raw = body.get(accessor) if isinstance(body, dict) else None
        notes.append(f".{accessor} raised {type(err).__name__} ({err}); read {raw!r} from .json_response")
        return None if raw is None else str(raw)
    if isinstance(body, dict) and accessor not in body and value == "":
        notes.append(f".{accessor} is '' for a body without {accessor!r}")
    return None if value is None else str(value)


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception as err:  # noqa: BLE001
        return f"str() raised {type(err).__name__}"


def typed(**options: Any) -> TypedAdapter:
    return TypedAdapter(**options)


def call_method(**options: Any) -> CallMethodAdapter:
    return CallMethodAdapter(**options)
