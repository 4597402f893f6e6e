"""The reference row: the suite's own httpx client (`target.client.PortalClient`) as a client adapter.

It can do every capability, because it is the client the clauses were written against: each
transport of `target.client.TRANSPORTS`, `batch`, and concurrent calls (PortalClient is
thread-safe). What the caller gets is the whole body with the real HTTP status:

- a body without `error` and a status below 400: `Envelope(body, status)`;
- a body with `error` (whatever the status, so an error sent with HTTP 200 is still an error):
  `ClientError("ErrorBody", code=str(error), description=error_description, status=..., body=body)`;
- no `error` but a status of 400 or more (an HTML page, an empty body): `ClientError("HTTPStatus",
  code=None, description=None, status=..., body=body)`.

Transport faults stay what PortalClient raises (`TargetUnreachable`, a `TargetError`): the engine
records them as a fault of the target, not of the client.

The keyword options of `call` (`transport`, `retry`, `local_address`, `pace`) mirror
`PortalClient.call`, so the engine can drive this row exactly as it drives its own calls today
(rate-limit clauses with `retry=False`, bursts and concurrent calls from their own source address
without pacing). Pass `client=` to share the engine's PortalClient, so the wire log and the
leaky bucket are one; otherwise `start` builds one from the PortalAccess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import TargetUnreachable, UsageError
from ..redact import Redactor
from ..target.client import PortalClient, Sent
from ..target.config import Credential, TargetConfig
from .base import AdapterBase, ClientError, Envelope, PortalAccess


class ReferenceAdapter(AdapterBase):
    """`reference`: every clause's request exactly as the suite itself sends it."""

    drives_like_the_suite = True  # the engine may hand it what it sent itself (the burst probe's last answer)

    def __init__(self, *, client: PortalClient | None = None) -> None:
        super().__init__(name="reference", cannot={})
        self._shared = client
        self.client: PortalClient | None = client
        self.last: Sent | None = None  # the last exchange, for a reproduction line (not thread-safe)

    def start(self, access: PortalAccess) -> None:
        self.access = access
        self._creds = {role: Credential(role=role, kind=ra.kind, webhook_url=ra.webhook_url,
                                        oauth_endpoint=ra.oauth_endpoint, token=ra.token)
                       for role, ra in access.roles.items()}
        if self._shared is None:
            config = TargetConfig(kind="adapter", name="reference-adapter", credentials=self._creds,
                                  verify=access.ca_path or True, plain_http_base=access.plain_origin)
            self.client = PortalClient(config, Redactor())

    def stop(self) -> None:
        if self._shared is None and self.client is not None:
            self.client.close()
            self.client = None

    def _cred(self, role: str) -> Credential:
        cred = self._creds.get(role)
        if cred is None and self._shared is not None:
            cred = self._shared.config.credential(role)
        if cred is None:
            raise UsageError(f"the reference adapter was given no credential for role {role!r}",
                             hint=f"known roles: {', '.join(sorted(self._creds))}")
        return cred

    def call(self, role: str, method: str, params: Mapping[str, Any], *, transport: str = "json",
             retry: bool = True, local_address: str | None = None, pace: bool = True) -> Any:
        assert self.client is not None, "start() first"
        sent = self.client.call(self._cred(role), method, params, transport=transport, retry=retry,
                                local_address=local_address, pace=pace)
        return self._outcome(sent)

    def batch(self, role: str, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool) -> Any:
        assert self.client is not None, "start() first"
        return self._outcome(self.client.batch(self._cred(role), commands, halt=halt))

    def wrap(self, sent: Sent) -> Envelope:
        """What this row's caller gets for a request the engine sent with the same client."""
        return self._outcome(sent)

    def _outcome(self, sent: Sent) -> Envelope:
        self.last = sent
        reply = sent.reply
        if reply.fault:  # no answer: the target's fault, never the client's
            raise TargetUnreachable(f"{sent.exchange.method} {sent.exchange.url}: {reply.fault}")
        body = reply.body
        if isinstance(body, dict) and "error" in body:
            description = body.get("error_description")
            raise ClientError("ErrorBody", code=str(body["error"]),
                              description=None if description is None else str(description),
                              status=reply.status, body=body)
        if reply.status is not None and reply.status >= 400:
            raise ClientError("HTTPStatus", code=None, description=None, status=reply.status, body=body,
                              message=f"HTTP {reply.status} without an error body")
        return Envelope(body, status=reply.status)


def reference(**options: Any) -> ReferenceAdapter:
    return ReferenceAdapter(**options)
