"""Fixtures for the client-adapter tests: the embedded reference portal over TLS, the suite's own
client to build conducted documents with, and every built-in adapter started against the portal.

Nothing here mocks HTTP: each adapter drives its real client library over real TLS to the portal
(with its own loopback CA). Portal variants a client must survive come from the portal's own
mutants, or, for on-prem `time` blocks without `operating`, from `OnPremPortal` below, which
rewrites the portal's responses on the wire the same way the wire mutants do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from b24_conformance.clients import ADAPTERS, load_adapter
from b24_conformance.clients.base import ClientAdapter, access_for
from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings
from b24_conformance.redact import Redactor
from b24_conformance.target.client import PortalClient
from b24_conformance.target.config import TargetConfig
from b24_conformance.target.reference import reference_settings, target_for

ADAPTER_NAMES = tuple(ADAPTERS)


def adapter_params(*names: str) -> list[Any]:
    return [pytest.param(n, id=n) for n in (names or ADAPTER_NAMES)]


class Portal:
    """A running portal: its TargetConfig, the suite's own client, and document set-up."""

    def __init__(self, portal: EmbeddedPortal) -> None:
        self.portal = portal
        self.config: TargetConfig = target_for(portal)
        self.client = PortalClient(self.config, Redactor())
        self.admin = self.config.credentials["admin"]
        self._n = 0

    def conducted(self, count: int = 1, *, conduct: bool = True) -> list[int]:
        """Conducted stock adjustments (S) with one item each, made in one batch the way the
        sandbox makes them: a warehouse, a product, the document, its element, conduct."""
        self._n += 1
        tag = f"clients-{self._n}"
        iblock = self.config.fixtures["iblock_id"]
        commands: dict[str, tuple[str, dict[str, Any]]] = {
            "store": ("catalog.store.add", {"fields": {"title": f"b24c {tag}", "active": "Y",
                                                      "address": "b24-conformance client tests"}}),
            "product": ("catalog.product.add", {"fields": {"iblockId": iblock, "name": f"b24c {tag}"}}),
        }
        for i in range(count):
            commands[f"d{i}"] = ("catalog.document.add", {"fields": {
                "docType": "S", "currency": "USD", "responsibleId": 1, "title": f"b24c {tag} {i}"}})
            commands[f"e{i}"] = ("catalog.document.element.add", {"fields": {
                "docId": f"$result[d{i}][document][id]", "elementId": "$result[product][element][id]",
                "storeTo": "$result[store][store][id]", "amount": 3, "purchasingPrice": 10}})
            if conduct:
                commands[f"c{i}"] = ("catalog.document.conduct", {"id": f"$result[d{i}][document][id]"})
        body = self.client.batch(self.admin, commands, halt=True, phase="setup").reply.body
        result = body["result"]
        assert not result["result_error"], result["result_error"]
        return [int(result["result"][f"d{i}"]["document"]["id"]) for i in range(count)]

    def status(self, doc_id: int) -> str:
        body = self.client.call(self.admin, "catalog.document.list",
                                {"filter": {"id": doc_id}, "select": ["id", "status"]}).reply.body
        return body["result"]["documents"][0]["status"]

    def fill_bucket(self) -> None:
        """Spend the admin's request budget (the portal keys it by client IP) so the next call is refused."""
        for _ in range(self.portal.settings.rate_threshold + 5):
            sent = self.client.call(self.admin, "catalog.document.mode.status", {}, retry=False, pace=False)
            if sent.reply.status == 503:
                return
        raise AssertionError("the portal never refused")

    def close(self) -> None:
        self.client.close()


class StripOperating:
    """On-prem portals omit `time.operating` and `time.operating_reset_at` (b24jssdk #113): remove
    them from every JSON body, top-level and per batch command."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            payload = b"".join(chunks)
            try:
                doc = json.loads(payload)
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                _strip(doc)
                payload = json.dumps(doc).encode()
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({**start, "headers": headers + [(b"content-length", str(len(payload)).encode())]})
            await send({"type": "http.response.body", "body": payload})

        await self.app(scope, receive, capture)


def _strip(doc: dict[str, Any]) -> None:
    blocks = [doc.get("time")]
    result = doc.get("result")
    if isinstance(result, dict) and isinstance(result.get("result_time"), dict):
        blocks += list(result["result_time"].values())
    for block in blocks:
        if isinstance(block, dict):
            block.pop("operating", None)
            block.pop("operating_reset_at", None)


class OnPremPortal(EmbeddedPortal):
    """The reference portal answering with on-prem `time` blocks (no `operating` keys)."""

    def _server(self, sock: Any, tls: Any = None) -> Any:
        server = super()._server(sock, tls)
        server.config.app = StripOperating(server.config.app)
        return server


def running(settings: PortalSettings | None = None, *, portal_class: type[EmbeddedPortal] = EmbeddedPortal):
    """A context manager: a started portal as a `Portal`."""
    from contextlib import contextmanager

    @contextmanager
    def run() -> Iterator[Portal]:
        with portal_class(settings or reference_settings()) as embedded:
            portal = Portal(embedded)
            try:
                yield portal
            finally:
                portal.close()

    return run()


def started(name: str, portal: Portal, **options: Any) -> ClientAdapter:
    adapter = load_adapter(name, **options)
    adapter.start(access_for(portal.config))
    return adapter


@pytest.fixture(scope="module")
def portal() -> Iterator[Portal]:
    with running() as p:
        yield p


@pytest.fixture(scope="module")
def rate_limited() -> Iterator[Portal]:
    """A portal whose bucket holds 3 requests and drains one every five seconds: a refused call stays
    refused through any client's retries unless they wait that long."""
    settings = replace(reference_settings(), rate_threshold=3, rate_drain_per_s=0.2)
    with running(settings) as p:
        yield p


@pytest.fixture(scope="module")
def no_time_block() -> Iterator[Portal]:
    with running(reference_settings(mutants=("no-time-block",))) as p:
        yield p


@pytest.fixture(scope="module")
def errors_as_200() -> Iterator[Portal]:
    with running(reference_settings(mutants=("errors-as-200",))) as p:
        yield p


@pytest.fixture(scope="module")
def on_prem() -> Iterator[Portal]:
    with running(portal_class=OnPremPortal) as p:
        yield p


@pytest.fixture
def adapter(request: pytest.FixtureRequest, portal: Portal) -> Iterator[ClientAdapter]:
    a = started(request.param, portal)
    try:
        yield a
    finally:
        a.stop()
