"""Reference-portal throughput over real loopback HTTP, against a bare uvicorn JSON endpoint as ceiling.

    .venv/bin/python bench/portal_throughput.py [--cycles 300] [--items 3]

(a) conduct -> cancel cycles of one document with items, through the full portal (routing, auth,
    limits, SQLite domain, envelope), with the rate limiter off;
(b) the same keep-alive httpx.Client POSTing the same JSON to a minimal ASGI app under uvicorn that
    answers {"result":true}.
The ratio compares HTTP requests per second, (a) / (b); the target is >= 0.3.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import uvicorn

from b24_conformance.portal.server import EmbeddedPortal
from b24_conformance.portal.settings import PortalSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


async def bare_app(
    scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
) -> None:
    """The ceiling: read the body, answer a fixed JSON document."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    body = b'{"result":true}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BareServer:
    """The bare app under uvicorn in a background thread, configured like the portal's listener."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        config = uvicorn.Config(
            bare_app, lifespan="off", log_config=None, log_level="warning", access_log=False, proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True)

    def __enter__(self) -> BareServer:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.005)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def portal_cycles(client: httpx.Client, cycles: int, items: int) -> tuple[float, int]:
    """(seconds, requests) for `cycles` conduct -> cancel rounds of one document with `items` items."""
    settings = PortalSettings(rate_threshold=0, operating_limit_s=0)
    with EmbeddedPortal(settings) as portal:
        base = portal.webhook_url("admin")
        fx = portal.fixtures

        def call(method: str, params: dict[str, Any]) -> Any:
            response = client.post(base + method, json=params)
            response.raise_for_status()
            return response.json()["result"]

        doc = call("catalog.document.add", {"fields": {"docType": "A", "currency": "USD", "responsibleId": 1}})
        doc_id = doc["document"]["id"]
        for n in range(items):
            product = fx["product_id"] if n % 2 == 0 else fx["second_product_id"]
            call(
                "catalog.document.element.add",
                {"fields": {"docId": doc_id, "elementId": product, "storeTo": fx["main_store_id"], "amount": 1 + n}},
            )
        for _ in range(20):  # warm-up
            call("catalog.document.conduct", {"id": doc_id})
            call("catalog.document.cancel", {"id": doc_id})
        began = time.perf_counter()
        for _ in range(cycles):
            assert call("catalog.document.conduct", {"id": doc_id}) is True
            assert call("catalog.document.cancel", {"id": doc_id}) is True
        return time.perf_counter() - began, 2 * cycles


def bare_requests(client: httpx.Client, requests: int) -> float:
    with BareServer() as bare:
        for _ in range(40):
            client.post(bare.url, json={"id": 1})
        began = time.perf_counter()
        for _ in range(requests):
            client.post(bare.url, json={"id": 1}).raise_for_status()
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=300, help="conduct -> cancel cycles to time (default 300)")
    parser.add_argument("--items", type=int, default=3, help="items in the benchmark document (default 3)")
    args = parser.parse_args()
    with httpx.Client(timeout=10) as client:
        portal_s, portal_n = portal_cycles(client, args.cycles, args.items)
        bare_s = bare_requests(client, portal_n)
    cycles_rate = args.cycles / portal_s
    portal_rate = portal_n / portal_s
    bare_rate = portal_n / bare_s
    print(f"reference portal: {cycles_rate:8.1f} conduct->cancel cycles/s  ({portal_rate:8.1f} requests/s, "
          f"{1000 / portal_rate:.2f} ms/request, {args.items} items)")
    print(f"bare uvicorn    : {bare_rate:8.1f} requests/s  ({1000 / bare_rate:.2f} ms/request)")
    print(f"ratio (requests/s, portal / bare): {portal_rate / bare_rate:.2f}  (target >= 0.30)")


if __name__ == "__main__":
    main()
