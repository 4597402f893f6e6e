"""The client-adapter protocol: how a Bitrix24 client library is driven through the clauses.

A clause's precondition is built and its after-state read back with the suite's own client; only
the clause's own request goes through the adapter. An adapter is small:

- `name`: the row name in the client × clause matrix, e.g. `b24pysdk.typed`;
- `cannot`: what its client does not let a caller choose, as {capability: reason}; a clause that
  needs one is SKIP with that reason. Capabilities are the transports of `target.client`
  (`json-suffix`, `form`, `multipart`, `get`, `oauth-body`, `oauth-query`, `upper-case-method`,
  `plain-http`) and `batch`, `concurrent`;
- `start(access)`: the portal's URLs, each role's credential and the CA bundle to trust;
- `call(role, method, params)`: call like the client's user would, and return what the caller got:
  the bare `result` value, or `Envelope(body)` when the client hands the caller the whole body.
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

    @property
    def host(self) -> str:
        """host[:port], as clients that build `https://{domain}/rest/...` themselves want it."""
        return self.origin.split("://", 1)[-1].rstrip("/")


@dataclass(frozen=True, slots=True)
class Envelope:
    """The whole response body, for clients that return it to the caller (`{"result": ..., "time": ...}`)."""

    body: Any


class ClientError(Exception):
    """A documented error of the client, normalised: what its caller can read off it.

    `type_name` is the client's own exception class; `code`, `description` and `status` are None
    where the client did not expose them to its caller.
    """

    def __init__(self, type_name: str, *, code: str | None, description: str | None, status: int | None,
                 message: str = "") -> None:
        super().__init__(message or description or type_name)
        self.type_name = type_name
        self.code = code
        self.description = description
        self.status = status
        self.message = message or str(description or "")


class Unsupported(Exception):
    """The client offers no way to make this call; the clause is SKIP with the reason."""


@runtime_checkable
class ClientAdapter(Protocol):
    name: str
    cannot: Mapping[str, str]

    def start(self, access: PortalAccess) -> None: ...

    def call(self, role: str, method: str, params: Mapping[str, Any]) -> Any: ...

    def batch(self, role: str, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool) -> Any: ...

    def stop(self) -> None: ...


@dataclass
class AdapterBase:
    """Defaults for adapters: nothing to start or stop, no batch."""

    name: str = "client"
    cannot: Mapping[str, str] = field(default_factory=dict)

    def start(self, access: PortalAccess) -> None:
        self.access = access

    def batch(self, role: str, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool) -> Any:
        raise Unsupported(f"{self.name} offers no batch call")

    def stop(self) -> None:
        pass


def access_for(config: Any) -> PortalAccess:
    """The PortalAccess of a TargetConfig (`target.config.TargetConfig`): every role, the CA, the origin."""
    roles = {}
    origin = ""
    for role, cred in config.credentials.items():
        roles[role] = RoleAccess(role=role, kind=cred.kind, webhook_url=cred.webhook_url,
                                 oauth_endpoint=cred.oauth_endpoint, token=cred.token)
        base = cred.webhook_url or cred.oauth_endpoint or ""
        if base and not origin:
            origin = base.split("/rest/", 1)[0]
    ca = config.verify if isinstance(config.verify, str) else None
    return PortalAccess(origin=origin, roles=roles, ca_path=ca)
