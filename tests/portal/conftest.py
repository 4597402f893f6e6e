"""Fixtures that start real reference portals on loopback (EmbeddedPortal) and talk to them with httpx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from b24_conformance.contract.profile import Profile, load_profile
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings

PROFILES = ("seed", "docs-ru")
TIME_KEYS = (
    "start",
    "finish",
    "duration",
    "processing",
    "date_start",
    "date_finish",
    "operating_reset_at",
    "operating",
)
RELAXED = {"rate_threshold": 100_000, "rate_drain_per_s": 1000.0}


@dataclass
class Api:
    """A portal plus a keep-alive client, with the few calls the HTTP tests repeat."""

    portal: EmbeddedPortal
    client: httpx.Client
    profile: Profile

    def url(self, method: str, label: str = "admin") -> str:
        return self.portal.webhook_url(label) + method

    def call(self, method: str, params: dict[str, Any] | None = None, label: str = "admin") -> httpx.Response:
        return self.client.post(self.url(method, label), json=params or {})

    def ok(self, method: str, params: dict[str, Any] | None = None, label: str = "admin") -> Any:
        response = self.call(method, params, label)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    def expected(self, key: str, **params: Any) -> tuple[int, dict[str, Any]]:
        http, code, text = self.profile.render(key, **params)
        return http, {"error": code, "error_description": text}

    def assert_error(self, response: httpx.Response, key: str, **params: Any) -> None:
        http, body = self.expected(key, **params)
        assert (response.status_code, response.json()) == (http, body), response.text
        assert "time" not in response.json()

    def new_document(self, amount: int = 5, conduct: bool = False) -> int:
        """A receipt (A) with its supplier (the seeded vendor contact) and one item into the main
        warehouse, as a real portal needs it to conduct; conducted when asked."""
        fx = self.portal.fixtures
        doc = self.ok(
            "catalog.document.add", {"fields": {"docType": "A", "currency": "USD", "responsibleId": 1}}
        )
        doc_id = int(doc["document"]["id"])
        supplier = {"documentId": doc_id, "entityTypeId": 3, "entityId": fx["supplier_contact_id"]}
        self.ok("catalog.documentcontractor.add", {"fields": supplier})
        self.ok(
            "catalog.document.element.add",
            {
                "fields": {
                    "docId": doc_id,
                    "elementId": fx["product_id"],
                    "storeTo": fx["main_store_id"],
                    "amount": amount,
                    "purchasingPrice": 10,
                }
            },
        )
        if conduct:
            assert self.ok("catalog.document.conduct", {"id": doc_id}) is True
        return doc_id

    def status(self, doc_id: int) -> str:
        docs = self.ok("catalog.document.list", {"filter": {"id": doc_id}, "select": ["id", "status"]})[
            "documents"
        ]
        return docs[0]["status"]


def _start(stack: ExitStack, **overrides: Any) -> EmbeddedPortal:
    settings = PortalSettings(**{**RELAXED, **overrides})
    return stack.enter_context(EmbeddedPortal(settings))


@pytest.fixture(scope="session")
def portals() -> Iterator[dict[str, EmbeddedPortal]]:
    """One long-lived portal per profile under test (generous rate limit)."""
    with ExitStack() as stack:
        yield {name: _start(stack, profile=name) for name in PROFILES}


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture(params=PROFILES)
def api(request: pytest.FixtureRequest, portals: dict[str, EmbeddedPortal], http: httpx.Client) -> Api:
    """The same test against a portal speaking each profile."""
    return Api(portals[request.param], http, load_profile(request.param))


@pytest.fixture
def seed_api(portals: dict[str, EmbeddedPortal], http: httpx.Client) -> Api:
    """The seed-profile portal only."""
    return Api(portals["seed"], http, load_profile("seed"))


@pytest.fixture
def start_portal() -> Iterator[Callable[..., EmbeddedPortal]]:
    """A factory for portals with special settings (tiny rate limit, TLS, deterministic), stopped after."""
    with ExitStack() as stack:
        yield lambda **overrides: _start(stack, **overrides)


@pytest.fixture(scope="session")
def tls_portal() -> Iterator[EmbeddedPortal]:
    with ExitStack() as stack:
        yield _start(stack, tls=True)
