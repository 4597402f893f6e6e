"""The preflight: one cheap call before the first clause, so that a typo is not read as non-conformance.

`catalog.document.mode.status` with the admin credential tells, in one request, whether the portal
is reachable, whether it takes the credential, whether the credential has the `catalog` scope, and
whether inventory management is on. A refused credential is a usage error (exit 2) that names the
portal's own reason; an unreachable portal, or one that does not answer like Bitrix24, is an
infrastructure error (exit 3). No clause is graded in either case.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from .client import PortalClient
from .config import Credential

PROBE = "catalog.document.mode.status"
REFUSED = {"NO_AUTH_FOUND", "INVALID_CREDENTIALS", "EXPIRED_TOKEN", "INVALID_TOKEN", "WRONG_AUTH_TYPE",
           "ACCESS_DENIED", "AUTHORIZATION_ERROR", "USER_ACCESS_ERROR", "PAYMENT_REQUIRED", "INVALID_REQUEST"}


@dataclass(frozen=True, slots=True)
class Preflight:
    """What the probe learnt: `inventory` is True/False from mode.status, None when the portal
    refused the question for a reason the clauses themselves test (a plan without inventory)."""

    inventory: bool | None
    note: str = ""


def preflight(client: PortalClient, admin: Credential) -> Preflight:
    sent = client.call(admin, PROBE, {}, phase="run")  # faults, 5xx and non-JSON raise TargetError
    reply = sent.reply
    what = "webhook" if admin.kind == "webhook" else "OAuth token"
    code = reply.error_code
    if code is None:
        result = reply.body.get("result") if isinstance(reply.body, dict) else None
        # the page: 'Y' = enabled, 'N' = disabled (a boolean is read the same way)
        inventory = {"Y": True, "N": False, True: True, False: False}.get(result) if not isinstance(result, dict) else None
        return Preflight(inventory=inventory)
    description = str(reply.body.get("error_description", "")) if isinstance(reply.body, dict) else ""
    said = f"{reply.status} {code}" + (f": {description}" if description else "")
    if code.upper() == "INSUFFICIENT_SCOPE":
        raise UsageError(f"the portal refused this {what} ({said})",
                         hint="the webhook or app needs the `catalog` scope")
    if code.upper() in REFUSED or reply.status in (401, 403):
        raise UsageError(f"the portal refused this {what} ({said})",
                         hint="check the code" if admin.kind == "webhook" else "check the token; it may have expired")
    if code.upper() == "ERROR_METHOD_NOT_FOUND":
        raise UsageError(f"the portal does not know {PROBE} ({said})",
                         hint="is the URL a complete webhook (…/rest/<user id>/<code>/) of a portal with the "
                              "catalog module?")
    return Preflight(inventory=None, note=f"{PROBE} was refused ({said})")
