"""Reference portals posing as live ones, reached through a fault-injecting proxy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings

from .proxy import FaultyProxy, Plan

DOCUMENTED_RATE = {"threshold": 50, "drain_per_s": 2.0}  # limits.md


def inspector() -> httpx.Client:
    """The test's own look at a portal, from a loopback address of its own: the portal keys its rate
    bucket by client address, so looking never spends the run's budget (nor is refused by it)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.3"), timeout=30)


@contextmanager
def live_portal(**settings) -> Iterator[EmbeddedPortal]:
    """A reference portal at the documented rate, on plain HTTP (no Https-required listener)."""
    values = {"tls": False, "rate_threshold": 50, "rate_drain_per_s": 2.0, **settings}
    with EmbeddedPortal(PortalSettings(**values)) as portal:
        yield portal


def target_file(portal: EmbeddedPortal, tmp: Path, *, via: FaultyProxy | None = None, timeout: float = 30.0,
                name: str = "target.yaml") -> Path:
    """A live target config naming every role the portal seeds, optionally through a proxy."""
    def where(url: str) -> str:
        return via.url(url) if via else url

    credentials = {}
    for cred in portal.credentials:
        if cred.kind == "webhook":
            credentials[cred.label] = {"webhook": where(portal.webhook_url(cred.label))}
        else:
            credentials[cred.label] = {"oauth_endpoint": where(portal.base_url + "/rest/"), "token": cred.secret}
    known = _known_roles()
    config = {
        "kind": "live", "name": "faulty", "rate": DOCUMENTED_RATE, "timeout": timeout,
        "credentials": {role: spec for role, spec in credentials.items() if role in known},
        "fixtures": dict(portal.fixtures),
    }
    path = tmp / name
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _known_roles() -> set[str]:
    from b24_conformance.target.config import known_roles
    return known_roles()


def leftovers(portal: EmbeddedPortal) -> dict[str, list[str]]:
    """Every row on the portal whose title says the suite made it."""
    admin = portal.webhook_url("admin")
    found = {}
    http = inspector()
    for kind, method, key, field in (("documents", "catalog.document.list", "documents", "title"),
                                     ("stores", "catalog.store.list", "stores", "title"),
                                     ("products", "catalog.product.list", "products", "name")):
        params: dict = {"filter": {f"%{field}": "b24c "}, "select": ["id", field]}
        if kind == "products":
            catalogs = http.post(admin + "catalog.catalog.list", json={}).json()["result"]["catalogs"]
            params["filter"]["iblockId"] = catalogs[0]["iblockId"]
        rows = http.post(admin + method, json=params).json()["result"][key]
        found[kind] = [r[field] for r in rows]
    return found


def rows(portal: EmbeddedPortal) -> dict[str, list[dict]]:
    """Everything a portal holds (for proving a run touched nothing of it)."""
    admin = portal.webhook_url("admin")
    http = inspector()
    catalogs = http.post(admin + "catalog.catalog.list", json={}).json()["result"]["catalogs"]
    out = {}
    for kind, method, key, extra in (("documents", "catalog.document.list", "documents", {}),
                                     ("stores", "catalog.store.list", "stores", {}),
                                     ("products", "catalog.product.list", "products",
                                      {"filter": {"iblockId": catalogs[0]["iblockId"]}})):
        got, start = [], 0
        while start is not None:
            body = http.post(admin + method, json={**extra, "start": start}).json()
            got += body["result"][key]
            start = body.get("next")
        out[kind] = sorted(got, key=lambda r: r["id"])
    return out


def manifests(directory: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(directory.glob("sandbox-*.json"))]


__all__ = ["FaultyProxy", "Plan", "leftovers", "live_portal", "manifests", "rows", "target_file"]
