"""Who is calling: resolve a webhook code or OAuth token to a credential, and check scope and HTTPS.

Order of checks (Bitrix checks authorisation before it looks the method up, so an anonymous caller
cannot probe method names): HTTPS for webhooks, then the credential (unknown, wrong user id in the
path, expired, deactivated user), then, in app.py, the rate limit, the method name, its scope and
its operating budget.
"""

from __future__ import annotations

from typing import Any

from .database import CredentialRecord, PortalDB
from .errors import PortalError
from .wire import RestPath

WEBHOOK = "webhook"
OAUTH = "oauth"


def authenticate(
    db: PortalDB, path: RestPath, auth: Any, *, over_https: bool, tls_enabled: bool, now: float
) -> CredentialRecord:
    """The credential behind a call, or a `system.*` PortalError. `auth` is the `auth` parameter."""
    if path.is_webhook:
        if tls_enabled and not over_https:
            raise PortalError("system.https-required")
        cred = _webhook(db, path)
        if cred.expires_at is not None and cred.expires_at <= now:
            # The docs only say "an authorization error"; expired_token is OAuth's code.
            raise PortalError("system.wrong-auth")
    else:
        cred = _oauth(db, auth)
        if cred.expires_at is not None and cred.expires_at <= now:
            raise PortalError("system.expired-token")
    if not cred.user_active:
        raise PortalError("system.invalid-credentials")
    return cred


def _webhook(db: PortalDB, path: RestPath) -> CredentialRecord:
    code = path.code or ""
    cred = db.credential(code) if code else None
    if cred is None or cred.kind != WEBHOOK or path.user_id != str(cred.user_id):
        raise PortalError("system.wrong-auth")
    return cred


def _oauth(db: PortalDB, auth: Any) -> CredentialRecord:
    if auth is None or auth == "":
        raise PortalError("system.no-auth")
    if not isinstance(auth, str):
        raise PortalError("system.wrong-auth")
    cred = db.credential(auth)
    if cred is None or cred.kind != OAUTH:
        raise PortalError("system.wrong-auth")
    return cred


def check_scope(cred: CredentialRecord, scope: str | None) -> None:
    """`scope` None: the method needs none beyond `basic` (batch)."""
    if scope is not None and scope not in cred.scopes:
        raise PortalError("system.insufficient-scope")
