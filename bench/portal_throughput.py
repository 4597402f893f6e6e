"""Reference-portal throughput over real loopback HTTP, against a bare uvicorn JSON endpoint as ceiling.

    .venv/bin/python bench/portal_throughput.py [--cycles 300] [--items 3]

(a) conduct -> cancel cycles of one document with items, through the full portal (routing, auth,
    limits, SQLite domain, envelope), with the rate limiter off;
(b) the same keep-alive httpx.Client POSTing the same JSON to a minimal ASGI app under uvicorn that
    answers {"result":true}.
The portal is measured in both dispatch modes: requests side by side on worker threads (the
default, as PHP-FPM runs them) and one at a time on the event loop (`--workers 0`); the handoff to
a thread costs about 0.2 ms a request on this machine.
The load runs in a second process, as a real client would (and as wrk would): a client thread in
the server's own process would compete with it for the GIL and measure the two together.
Two ratios are printed: requests/s against requests/s (target >= 0.8 with worker threads), and
the stricter cycles/s (two portal requests each) against bare requests/s.
Where the rest goes: the same cycles are then driven straight into the portal's ASGI app (no
socket, no uvicorn) under cProfile, and the app's own time per request is split by where it is
spent (our wire/auth/limits layer, the domain and its SQLite, Starlette, the JSON envelope).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Self

import httpx
import uvicorn

from b24_conformance.portal.server import EmbeddedPortal, bind_listener
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
        self.sock = bind_listener("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        config = uvicorn.Config(
            bare_app,
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])), daemon=True
        )

    def __enter__(self) -> Self:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.005)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _load(urls: list[tuple[str, dict[str, Any]]], rounds: int, out: Any) -> None:
    """In the load process: warm up, then time `rounds` passes over `urls` on one keep-alive client."""
    with httpx.Client(timeout=10) as client:
        for _ in range(20):
            for url, body in urls:
                client.post(url, json=body)
        began = time.perf_counter()
        for _ in range(rounds):
            for url, body in urls:
                response = client.post(url, json=body)
                if response.status_code != 200 or response.json().get("result") is not True:
                    out.put(("error", f"{url.rsplit('/', 1)[-1]}: {response.status_code} {response.text[:200]}"))
                    return
        out.put(("ok", time.perf_counter() - began))


def _timed(urls: list[tuple[str, dict[str, Any]]], rounds: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_load, args=(urls, rounds, out))
    proc.start()
    status, value = out.get(timeout=300)
    proc.join()
    if status != "ok":
        raise SystemExit(f"benchmark request failed: {value}")
    return float(value)


def portal_cycles(cycles: int, items: int, workers: int) -> tuple[float, int]:
    """(seconds, requests) for `cycles` conduct -> cancel rounds of one document with `items` items."""
    settings = PortalSettings(rate_threshold=0, operating_limit_s=0, workers=workers)
    with EmbeddedPortal(settings) as portal, httpx.Client(timeout=10) as client:
        base = portal.webhook_url("admin")
        fx = portal.fixtures

        def call(method: str, params: dict[str, Any]) -> Any:
            response = client.post(base + method, json=params)
            response.raise_for_status()
            return response.json()["result"]

        doc = call(
            "catalog.document.add", {"fields": {"docType": "A", "currency": "USD", "responsibleId": 1}}
        )
        doc_id = doc["document"]["id"]
        # a receipt conducts only with a supplier, as on real portals
        call("catalog.documentcontractor.add", {"fields": {
            "documentId": doc_id, "entityTypeId": 3, "entityId": fx["supplier_contact_id"]}})
        for n in range(items):
            product = fx["product_id"] if n % 2 == 0 else fx["second_product_id"]
            call(
                "catalog.document.element.add",
                {
                    "fields": {
                        "docId": doc_id,
                        "elementId": product,
                        "storeTo": fx["main_store_id"],
                        "amount": 1 + n,
                    }
                },
            )
        urls = [(base + "catalog.document.conduct", {"id": doc_id}), (base + "catalog.document.cancel", {"id": doc_id})]
        return _timed(urls, cycles), 2 * cycles


_BUCKETS = (  # module path fragment -> where a request's time goes, first match wins
    ("sqlite3", "SQLite (the domain's queries and transactions)"),
    ("portal/sqlite_repository", "SQLite (the domain's queries and transactions)"),
    ("portal/repository", "the domain (documents, items, balances)"),
    ("portal/inventory", "the domain (documents, items, balances)"),
    ("portal/methods", "method handlers and parameter binding"),
    ("portal/params", "method handlers and parameter binding"),
    ("portal/wire", "wire: body parsing, auth, limits, routing, envelope"),
    ("portal/auth", "wire: body parsing, auth, limits, routing, envelope"),
    ("portal/limits", "wire: body parsing, auth, limits, routing, envelope"),
    ("portal/envelope", "wire: body parsing, auth, limits, routing, envelope"),
    ("portal/app", "wire: body parsing, auth, limits, routing, envelope"),
    ("json", "JSON encode/decode"),
    ("starlette", "Starlette"),
)


def where_time_goes(cycles: int, items: int) -> tuple[float, list[tuple[str, float]]]:
    """ms per request inside the app (no network, no uvicorn) and its split by bucket (tottime)."""
    import cProfile
    import pstats

    settings = PortalSettings(rate_threshold=0, operating_limit_s=0, workers=0, tls=False)
    with EmbeddedPortal(settings) as portal:
        app, base = portal.app, portal.webhook_url("admin").split("://", 1)[1].split("/", 1)[1]

        async def drive() -> float:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
                async def call(method: str, params: dict[str, Any]) -> Any:
                    return (await client.post(f"/{base}{method}", json=params)).json()["result"]

                fx = portal.fixtures
                doc = await call("catalog.document.add",
                                 {"fields": {"docType": "A", "currency": "USD", "responsibleId": 1}})
                doc_id = doc["document"]["id"]
                await call("catalog.documentcontractor.add", {"fields": {
                    "documentId": doc_id, "entityTypeId": 3, "entityId": fx["supplier_contact_id"]}})
                for n in range(items):
                    await call("catalog.document.element.add", {"fields": {
                        "docId": doc_id, "elementId": fx["product_id"], "storeTo": fx["main_store_id"],
                        "amount": 1 + n}})
                profiler = cProfile.Profile()
                started = time.perf_counter()
                profiler.enable()
                for _ in range(cycles):
                    await call("catalog.document.conduct", {"id": doc_id})
                    await call("catalog.document.cancel", {"id": doc_id})
                profiler.disable()
                elapsed = time.perf_counter() - started
                stats = pstats.Stats(profiler)
                split: dict[str, float] = {}
                def bucket(filename: str) -> str:
                    return next((label for frag, label in _BUCKETS if frag in filename),
                                "httpx test client, asyncio, other")

                for (filename, _, _), (_, _, tottime, _, callers) in stats.stats.items():  # type: ignore[attr-defined]
                    if filename == "~":  # a builtin (a sqlite3 execute, a json dumps): its callers' time
                        for (caller_file, _, _), (_, _, caller_tt, _) in callers.items():
                            split[bucket(caller_file)] = split.get(bucket(caller_file), 0.0) + caller_tt
                    else:
                        split[bucket(filename)] = split.get(bucket(filename), 0.0) + tottime
                total = sum(split.values()) or 1.0
                shares = sorted(((k, v / total) for k, v in split.items()), key=lambda kv: -kv[1])
                return elapsed, shares

        elapsed, shares = asyncio.run(drive())
    return 1000 * elapsed / (2 * cycles), shares


def bare_requests(requests: int) -> float:
    with BareServer() as bare:
        return _timed([(bare.url, {"id": 1})], requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cycles", type=int, default=300, help="conduct -> cancel cycles to time (default 300)"
    )
    parser.add_argument("--items", type=int, default=3, help="items in the benchmark document (default 3)")
    args = parser.parse_args()
    runs = [(f"reference portal, {w} worker threads" if w else "reference portal, on the event loop",
             portal_cycles(args.cycles, args.items, w)) for w in (8, 0)]
    requests = runs[0][1][1]
    bare_rate = requests / bare_requests(requests)
    print(f"bare uvicorn JSON endpoint: {bare_rate:8.1f} requests/s  ({1000 / bare_rate:.2f} ms/request)")
    for label, (seconds, count) in runs:
        cycles_rate, rate = args.cycles / seconds, count / seconds
        print(f"{label}: {cycles_rate:7.1f} conduct->cancel cycles/s = {rate:7.1f} requests/s "
              f"({1000 / rate:.2f} ms/request, {args.items} items)")
        print(f"    ratio to bare: requests/s {rate / bare_rate:.2f} (target >= 0.80); "
              f"cycles/s {cycles_rate / bare_rate:.2f}")
    per_request, shares = where_time_goes(min(args.cycles, 200), args.items)
    print(f"inside the app, no socket (profiled, so slower than live): {per_request:.2f} ms/request; its time goes to")
    for label, share in shares:
        print(f"    {share:6.1%}  {label}")


if __name__ == "__main__":
    main()
