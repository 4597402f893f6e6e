"""The client-adapter protocol: how a Bitrix24 client library is driven through the clauses.

A clause's precondition is built and its after-state read back with the suite's own client; only
the clause's own request goes through the adapter. An adapter is small:

- `name`: the row name in the client × clause matrix, e.g. `b24pysdk.typed`;
- `cannot`: what its client does not let a caller choose, as {capability: reason}; a clause that
  needs one is SKIP with that reason. Capabilities are the transports of `target.client`
  (`json-suffix`, `form`, `multipart`, `get`, `oauth-body`, `oauth-query`, `upper-case-method`,
  `plain-http`) and `batch`, `concurrent`;
- `start(access)`: the portal's URLs, each role's credential and the CA bundle to trust;
- `call(role, method, params, *, transport="json")`: call like the client's user would, and return
  what the caller got: the bare `result` value, or `Envelope(body)` when the client hands the caller
  the whole body. `transport` is one of `target.client.TRANSPORTS`; the engine passes it only when
  it is not `json`, and never one the adapter lists in `cannot` (so an adapter that can do nothing
  but plain calls need not accept it).
  A documented error raised by the client is translated into one `ClientError` carrying the code,
  the description and the HTTP status as far as the client exposes them (None where it lost them).
  Anything else the client raises is left to propagate: the engine records it, with its
  traceback tail, as a crash of the client;
- `batch(role, commands, halt)`: the same for `batch`, when the client offers one;
- `stop()`.

`Unsupported(reason)` from `call` or `batch` means "this client cannot make this call at all"
(for example a typed API without the method), and the clause is SKIP with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

CAPABILITIES = ("json-suffix", "form", "multipart", "get", "oauth-body", "oauth-query", "upper-case-method",
                "plain-http", "batch", "concurrent")


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleAccess:
    """One role's credential, as a client needs it."""

    role: str
    kind: str  # webhook | oauth | anonymous
    webhook_url: str | None = None  # https://host:port/rest/<user id>/<code>/
    oauth_endpoint: str | None = None  # https://host:port/rest/
    token: str | None = None

    @property
    def user_id(self) -> int | None:
        if not self.webhook_url:
            return None
        parts = self.webhook_url.rstrip("/").split("/")
        return int(parts[-2]) if len(parts) >= 2 and parts[-2].isdigit() else None

    @property
    def code(self) -> str | None:
        return self.webhook_url.rstrip("/").split("/")[-1] if self.webhook_url else None


@dataclass(frozen=True, slots=True, kw_only=True)
class PortalAccess:
    """Everything an adapter is handed at start: where the portal is, who may call it, which CA to trust."""

    origin: str  # https://127.0.0.1:PORT
    roles: Mapping[str, RoleAccess]
    ca_path: str | None = None  # a PEM bundle to trust (the embedded portal's loopback CA), or None
    plain_origin: str | None = None  # http://host:port of a TLS portal's plain listener (reference portal only)

    @property
    def host(self) -> str:
        """host[:port], as clients that build `https://{domain}/rest/...` themselves want it."""
        return self.origin.split("://", 1)[-1].rstrip("/")


@dataclass(frozen=True, slots=True)
class Envelope:
    """The whole response body, for clients that return it to the caller (`{"result": ..., "time": ...}`).

    `status` is the HTTP status where the client shows it (the suite's own client does), else None.
    """

    body: Any
    status: int | None = None


class ClientError(Exception):
    """A documented error of the client, normalised: what its caller can read off it.

    `type_name` is the client's own exception class; `code`, `description` and `status` are None
    where the client did not expose them to its caller. `body` is the parsed error body (or, for a
    batch, the `result_error` map) when the client hands it over, else None. `notes` say, in one
    line each, where the client's own accessors failed or mangled a value and where the adapter
    found it instead (e.g. "`.error` raised ValueError on an integer code; read from .json_response").
    """

    def __init__(self, type_name: str, *, code: str | None, description: str | None, status: int | None,
                 message: str = "", body: Any = None, notes: tuple[str, ...] = (),
                 unreadable: tuple[str, ...] = ()) -> None:
        super().__init__(message or description or type_name)
        self.type_name = type_name
        self.code = code
        self.description = description
        self.status = status
        self.message = message or str(description or "")
        self.body = body
        self.notes = tuple(notes)
        # the client's own documented accessors that raised when read (e.g. ".error raised ValueError"):
        # a caller reading them crashes, which is a FAIL however well the adapter recovered the value
        self.unreadable = tuple(unreadable)

    def __repr__(self) -> str:
        return (f"ClientError({self.type_name!r}, code={self.code!r}, description={self.description!r}, "
                f"status={self.status!r})")


class Unsupported(Exception):
    """The client offers no way to make this call; the clause is SKIP with the reason."""


@runtime_checkable
class ClientAdapter(Protocol):
    name: str
    cannot: Mapping[str, str]

    def start(self, access: PortalAccess) -> None: ...

    def call(self, role: str, method: str, params: Mapping[str, Any]) -> Any: ...  # + `transport=` (see above)

    def batch(self, role: str, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool) -> Any: ...

    def stop(self) -> None: ...


@dataclass
class AdapterBase:
    """Defaults for adapters: nothing to start or stop, no batch."""

    name: str = "client"
    cannot: Mapping[str, str] = field(default_factory=dict)

    def start(self, access: PortalAccess) -> None:
        self.access = access

    def role_access(self, role: str) -> RoleAccess:
        """The started portal's credential for `role`; Unsupported when the target gives none."""
        ra = self.access.roles.get(role)
        if ra is None:
            raise Unsupported(f"the target gives no credential for role {role!r}")
        return ra

    def refuse(self, transport: str) -> None:
        """Unsupported, with the reason, for a transport the adapter lists in `cannot`."""
        if transport in self.cannot:
            raise Unsupported(self.cannot[transport])

    def secrets(self) -> set[str]:
        """Every webhook code and token of the started portal, for redacting messages."""
        return {s for ra in self.access.roles.values() for s in (ra.code, ra.token) if s}

    def batch(self, role: str, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool) -> Any:
        raise Unsupported(f"{self.name} offers no batch call")

    def stop(self) -> None:
        pass


DERIVED_ROLES = ("burst", "bogus-webhook", "anonymous")  # what `TargetConfig.credential` makes up


def access_for(config: Any) -> PortalAccess:
    """The PortalAccess of a TargetConfig (`target.config.TargetConfig`): every role, including the
    ones it derives (`burst`, `bogus-webhook`, `anonymous`), the CA, the origin, the plain listener."""
    creds = dict(config.credentials)
    for role in DERIVED_ROLES:
        if role not in creds:
            cred = config.credential(role)
            if cred is not None:
                creds[role] = cred
    roles = {}
    origin = ""
    for role, cred in creds.items():
        roles[role] = RoleAccess(role=role, kind=cred.kind, webhook_url=cred.webhook_url,
                                 oauth_endpoint=cred.oauth_endpoint, token=cred.token)
        base = cred.webhook_url or cred.oauth_endpoint or ""
        if base and not origin:
            origin = base.split("/rest/", 1)[0]
    ca = config.verify if isinstance(config.verify, str) else None
    return PortalAccess(origin=origin, roles=roles, ca_path=ca,
                        plain_origin=getattr(config, "plain_http_base", None))
