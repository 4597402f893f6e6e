"""Secret scrubbing for everything that leaves memory: reports, logs, reproductions, cassettes.

Bitrix secrets sit in three places: the webhook code in the URL path (`/rest/{user}/{code}/...`),
the OAuth `auth` parameter in the query string, and `auth` in a JSON or form body. A `Redactor`
also knows the literal secrets of the run, so any other occurrence (a portal echoing a token in
an error text) is replaced too. Every function is idempotent: scrubbing twice changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

PLACEHOLDER = "REDACTED"
WEBHOOK_PATH = re.compile(r"(/rest/\d+/)([^/?#]+)(?=/)")
SECRET_KEYS = frozenset({"auth", "access_token", "refresh_token", "application_token", "client_secret"})


def redact_url(url: str) -> str:
    """The URL with the webhook code and any `auth`-like query value replaced."""
    parts = urlsplit(url)
    path = WEBHOOK_PATH.sub(rf"\1{PLACEHOLDER}", parts.path)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_is_secret_key(k) for k, _ in pairs):
            query = urlencode([(k, PLACEHOLDER if _is_secret_key(k) else v) for k, v in pairs])
    netloc = parts.netloc
    if "@" in netloc:  # userinfo
        netloc = f"{PLACEHOLDER}@{netloc.rsplit('@', 1)[1]}"
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))


def redact_body(body: str, content_type: str = "") -> str:
    """A request body with `auth`-like values replaced (JSON, form, or left as text)."""
    if not body:
        return body
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/json" or body.lstrip().startswith(("{", "[")):
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if doc is not None:
            scrubbed = _scrub_json(doc)
            return body if scrubbed == doc else json.dumps(scrubbed, ensure_ascii=False)
    if ctype in ("application/x-www-form-urlencoded", "") and "=" in body and "\n" not in body:
        pairs = parse_qsl(body, keep_blank_values=True)
        if any(_is_secret_key(k) for k, _ in pairs):
            return urlencode([(k, PLACEHOLDER if _is_secret_key(k) else v) for k, v in pairs])
    return body


def _is_secret_key(key: str) -> bool:
    base = key.split("[", 1)[0].lower()
    return base in SECRET_KEYS


def scrub_json(doc: object) -> object:
    """A parsed JSON document with every `auth`-like value and webhook code replaced."""
    return _scrub_json(doc)


def _scrub_json(doc: object) -> object:
    if isinstance(doc, dict):
        return {k: (PLACEHOLDER if _is_secret_key(str(k)) and v not in (None, "") else _scrub_json(v))
                for k, v in doc.items()}
    if isinstance(doc, list):
        return [_scrub_json(v) for v in doc]
    if isinstance(doc, str) and "/rest/" in doc:
        return WEBHOOK_PATH.sub(rf"\1{PLACEHOLDER}", doc)
    return doc


@dataclass
class Redactor:
    """Scrubs the run's known secrets wherever they appear, on top of the structural rules."""

    secrets: set[str] = field(default_factory=set)

    def add(self, *values: str | None) -> None:
        # short values would shred ordinary text; real webhook codes and tokens are long
        self.secrets.update(v for v in values if v and len(v) >= 6 and v != PLACEHOLDER)

    def text(self, value: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, PLACEHOLDER)
        return value

    def url(self, url: str) -> str:
        return self.text(redact_url(url))

    def body(self, body: str, content_type: str = "") -> str:
        return self.text(redact_body(body, content_type))

    def leaks(self, value: str) -> bool:
        return any(s in value for s in self.secrets)


def find_leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """Which of `secrets` occur in `text` (returns masked hints, never the secret itself)."""
    return [f"{s[:2]}…({len(s)} chars)" for s in secrets if s and s in text]
