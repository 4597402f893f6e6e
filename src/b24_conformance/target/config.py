"""Target configuration: which portal, which credentials play which role, what it can do.

A target config is a YAML file (see suites/targets/example-live.yaml). Secrets should come from
environment variables (`webhook_env`, `token_env`); literal values work but are never written
anywhere by this package. Roles are the names clauses use in `when.as`; a clause whose role the
target does not provide is skipped with the reason shown.
"""

from __future__ import annotations

import difflib
import os
import re
import secrets as _secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .. import _yaml
from ..errors import TargetConfigInvalid
from ..redact import redact_url

WEBHOOK_URL = re.compile(r"^(https?://[^/]+(?:/[^/]+)*?)/rest/(\d+)/([^/]+)/?$")
METHOD_AT_END = re.compile(r"^(https?://.+/rest/\d+/[^/]+)/([a-z][\w]*(?:\.[\w]+)+)/?$", re.IGNORECASE)


# The fixtures a live target may name: rows of the user's portal the suite uses but never makes.
# Warehouses a clause may name that the run does not create, by the label clauses use for them:
# `restricted` is one the store-restricted roles may not view and select, `visible` one they may.
FIXTURE_STORES = {"restricted": "restricted_store_id", "visible": "visible_store_id"}
SUPPLIER_FIXTURE = "supplier_contact_id"  # a CRM contact bound to receipts as their supplier
LIVE_FIXTURES = (*FIXTURE_STORES.values(), SUPPLIER_FIXTURE)

@dataclass(frozen=True, slots=True, kw_only=True)
class Credential:
    """One way of calling the portal. `webhook_url` ends with `/`; OAuth uses endpoint + token."""

    role: str
    kind: str  # webhook | oauth | anonymous
    webhook_url: str | None = None
    oauth_endpoint: str | None = None
    token: str | None = None

    @property
    def base(self) -> str:
        """What a method name is appended to."""
        return self.webhook_url if self.kind == "webhook" else self.oauth_endpoint  # type: ignore[return-value]

    @property
    def user_id(self) -> int | None:
        if self.webhook_url:
            match = WEBHOOK_URL.match(self.webhook_url)
            return int(match.group(2)) if match else None
        return None

    @property
    def secret(self) -> str | None:
        if self.kind == "webhook" and self.webhook_url:
            match = WEBHOOK_URL.match(self.webhook_url)
            return match.group(3) if match else None
        return self.token

    def __repr__(self) -> str:  # never show the secret
        where = redact_url(self.base or "")
        return f"Credential(role={self.role!r}, kind={self.kind!r}, base={where!r})"


def parse_webhook_url(url: str, role: str = "admin") -> Credential:
    """A webhook credential from its full URL, or a clear error for a wrong one."""
    url = url.strip()
    if not url.endswith("/"):
        url += "/"
    match = WEBHOOK_URL.match(url)
    method = METHOD_AT_END.match(url)
    if not match and method:
        raise TargetConfigInvalid(
            f"the webhook URL {_mask(url)!r} ends with a method name ({method.group(2)})",
            hint=f"remove {method.group(2)!r}: give the webhook as https://<portal>/rest/<user id>/<code>/",
        )
    if not match:
        raise TargetConfigInvalid(
            f"not a Bitrix24 webhook URL: {_mask(url)!r}",
            hint="expected https://<portal>/rest/<user id>/<webhook code>/ "
                 "(copy it from Developer resources → Inbound webhook)",
        )
    if urlsplit(url).scheme not in ("http", "https"):
        raise TargetConfigInvalid(f"webhook URL must be http(s): {_mask(url)!r}")
    return Credential(role=role, kind="webhook", webhook_url=url)


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    threshold: int = 50
    drain_per_s: float = 2.0

    def __post_init__(self) -> None:
        if self.threshold < 1 or not self.drain_per_s > 0:
            raise TargetConfigInvalid(
                f"rate: threshold {self.threshold} and drain_per_s {self.drain_per_s} must both be above 0",
                hint="limits.md: 50 requests, then 2 per second (Enterprise: 250 and 5)")


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetConfig:
    """Everything the runner needs to know about a target, with no live objects in it."""

    kind: str  # reference | live
    name: str
    credentials: Mapping[str, Credential]
    fixtures: Mapping[str, int] = field(default_factory=dict)
    capabilities: frozenset[str] = frozenset()
    rate: RateLimit = RateLimit()
    verify: bool | str = True  # TLS verification: True, False, or a CA bundle path
    plain_http_base: str | None = None  # the plain-HTTP origin of a TLS portal (reference portal)
    source_address: str | None = None  # a second loopback address for burst probes
    # a loopback address of its own for the suite's bookkeeping (set-up, observation, clean-up): the
    # portal keeps a request bucket per source address (limits.md), so the clauses' own calls keep
    # the default address's bucket to themselves however many batches the sandbox sends
    sandbox_address: str | None = None
    timeout_s: float = 30.0  # per request; a request past it is a fault, never a verdict

    def credential(self, role: str) -> Credential | None:
        if role in self.credentials:
            return self.credentials[role]
        admin = self.credentials.get("admin")
        if role == "burst":  # the rate-limit probe: its own webhook where one is given, else admin's
            return replace(admin, role=role) if admin else None
        if role == "bogus-webhook" and admin and admin.webhook_url:
            match = WEBHOOK_URL.match(admin.webhook_url)
            assert match
            code = _secrets.token_hex(max(4, len(match.group(3)) // 2))
            return Credential(role=role, kind="webhook",
                              webhook_url=f"{match.group(1)}/rest/{match.group(2)}/{code}/")
        if role == "anonymous":
            oauth = self.credentials.get("admin-oauth")
            endpoint = oauth.oauth_endpoint if oauth else _rest_endpoint(admin)
            return Credential(role=role, kind="anonymous", oauth_endpoint=endpoint) if endpoint else None
        return None

    def secrets(self) -> set[str]:
        return {c.secret for c in self.credentials.values() if c.secret}

    def describe(self) -> str:
        admin = self.credentials.get("admin")
        where = redact_url(admin.base) if admin and admin.base else "?"
        return f"{self.kind} portal {self.name} ({where})"


def _mask(url: str) -> str:
    """A malformed URL for an error message: any path segment that could be a secret is hidden; the
    host and port are kept, since a wrong port is a common mistake."""
    parts = urlsplit(url if "://" in url else f"//{url}")
    segments = [seg if seg in ("", "rest") or seg.isdigit() or METHOD_NAME.fullmatch(seg) else "***"
                for seg in parts.path.split("/")]
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme + '://' if parts.scheme else ''}{host}{'/'.join(segments)}"


METHOD_NAME = re.compile(r"[a-z][\w]*(?:\.[\w]+)+", re.IGNORECASE)


def _rest_endpoint(cred: Credential | None) -> str | None:
    if not cred or not cred.webhook_url:
        return None
    match = WEBHOOK_URL.match(cred.webhook_url)
    return f"{match.group(1)}/rest/" if match else None


def load_target_config(path: Path, environ: Mapping[str, str] | None = None) -> TargetConfig:
    """Read a target YAML file; every problem is a TargetConfigInvalid naming file and key."""
    environ = os.environ if environ is None else environ
    try:
        raw = _yaml.load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TargetConfigInvalid(f"cannot read target config {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise TargetConfigInvalid(f"{path}: not UTF-8 text (byte {exc.start})",
                                  hint="save the target config as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise TargetConfigInvalid(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(raw, dict):
        raise TargetConfigInvalid(f"{path}: a target config is a mapping")
    unknown = set(raw) - {"kind", "name", "credentials", "fixtures", "capabilities", "rate", "verify", "timeout"}
    if unknown:
        raise TargetConfigInvalid(f"{path}: unknown key(s) {sorted(unknown)}")
    creds_raw = raw.get("credentials")
    if not isinstance(creds_raw, dict) or "admin" not in creds_raw:
        raise TargetConfigInvalid(f"{path}: `credentials` must map roles to credentials and include `admin`")
    known = known_roles()
    for role in creds_raw:
        if role not in known:
            close = difflib.get_close_matches(str(role), sorted(known), n=1)
            raise TargetConfigInvalid(f"{path}: credentials.{role}: no clause uses the role {role!r}",
                                      hint=f"did you mean {close[0]!r}?" if close else
                                      f"known roles: {', '.join(sorted(known))}")
    credentials = {role: _credential(path, role, spec, environ) for role, spec in creds_raw.items()}
    credentials = {r: c for r, c in credentials.items() if c is not None}
    if "admin" not in credentials:
        raise TargetConfigInvalid(f"{path}: the `admin` credential is not set (check its environment variable)")
    rate = raw.get("rate") or {}
    try:
        fixtures = {str(k): int(v) for k, v in (raw.get("fixtures") or {}).items()}
        limit = RateLimit(threshold=int(rate.get("threshold", 50)), drain_per_s=float(rate.get("drain_per_s", 2.0)))
        timeout = float(raw.get("timeout", 30.0))
    except (TypeError, ValueError, AttributeError) as exc:
        raise TargetConfigInvalid(f"{path}: fixtures, rate and timeout must be numbers ({exc})") from None
    except TargetConfigInvalid as exc:
        raise TargetConfigInvalid(f"{path}: {exc.message}", hint=exc.hint) from None
    if not timeout > 0:
        raise TargetConfigInvalid(f"{path}: timeout must be above 0 seconds, not {timeout}")
    return TargetConfig(
        kind=str(raw.get("kind", "live")),
        name=str(raw.get("name", path.stem)),
        credentials=credentials,
        fixtures=fixtures,
        capabilities=frozenset(raw.get("capabilities") or ()),
        rate=limit,
        verify=raw.get("verify", True),
        timeout_s=timeout,
    )


def known_roles() -> set[str]:
    """The roles a target config may name: those the clauses use, and `admin`."""
    from ..contract.clause import load_clauses

    return {"admin", "admin-oauth"} | {c.when.role for c in load_clauses()}


def _credential(path: Path, role: str, spec: Any, environ: Mapping[str, str]) -> Credential | None:
    if not isinstance(spec, dict):
        raise TargetConfigInvalid(f"{path}: credentials.{role} must be a mapping")
    unknown = set(spec) - {"webhook", "webhook_env", "oauth_endpoint", "token", "token_env"}
    if unknown:
        raise TargetConfigInvalid(f"{path}: credentials.{role}: unknown key(s) {sorted(unknown)}")
    webhook = spec.get("webhook") or (environ.get(spec["webhook_env"]) if "webhook_env" in spec else None)
    if "webhook" in spec or "webhook_env" in spec:
        if not webhook:
            return None  # variable not set: the role is simply unavailable
        try:
            return replace(parse_webhook_url(webhook), role=role)
        except TargetConfigInvalid as exc:
            raise TargetConfigInvalid(f"{path}: credentials.{role}: {exc.message}", hint=exc.hint) from None
    token = spec.get("token") or (environ.get(spec["token_env"]) if "token_env" in spec else None)
    endpoint = spec.get("oauth_endpoint")
    if not endpoint:
        raise TargetConfigInvalid(f"{path}: credentials.{role} needs `webhook`/`webhook_env` or `oauth_endpoint`")
    if not token:
        return None
    if not endpoint.endswith("/"):
        endpoint += "/"
    return Credential(role=role, kind="oauth", oauth_endpoint=endpoint, token=token)


def single_webhook_target(webhook_url: str, *, oauth_token: str | None = None) -> TargetConfig:
    """A live target from one webhook URL (and optionally an OAuth token for the same portal)."""
    admin = parse_webhook_url(webhook_url)
    credentials: dict[str, Credential] = {"admin": admin}
    if oauth_token:
        credentials["admin-oauth"] = Credential(role="admin-oauth", kind="oauth",
                                                oauth_endpoint=_rest_endpoint(admin), token=oauth_token)
    return TargetConfig(kind="live", name=urlsplit(admin.webhook_url or "").hostname or "portal",
                        credentials=credentials)


def oauth_only_target(endpoint: str, token: str) -> TargetConfig:
    if not endpoint.endswith("/"):
        endpoint += "/"
    if not endpoint.rstrip("/").endswith("/rest"):
        raise TargetConfigInvalid(f"OAuth endpoint must end with /rest/: {redact_url(endpoint)!r}")
    cred = Credential(role="admin", kind="oauth", oauth_endpoint=endpoint, token=token)
    return TargetConfig(kind="live", name=urlsplit(endpoint).hostname or "portal",
                        credentials={"admin": cred, "admin-oauth": replace(cred, role="admin-oauth")})
