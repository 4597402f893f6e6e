"""A fault-injecting HTTP proxy on loopback, in front of a real reference portal.

Requests pass through to the portal unchanged unless the proxy's `plan` names a fault for them:

- `502` / `html`: answer 502 with an HTML page (a gateway's error), without forwarding;
- `502-after` / `html-after`: forward (the portal runs the request), then answer 502 / a 200 HTML page;
- `stall`: never answer (the client times out); `stall-after`: forward first, then never answer;
- `reset` / `reset-after`: abort the connection (RST) before / after forwarding;
- `hold` / `hold-after`: keep the client waiting until `release()`, before / after forwarding (for
  kill tests: the test kills the client while it waits).

`plan(n, body)` gets the 1-based request number and the request body, and returns a fault name or
None. The proxy speaks HTTP/1.1 with `Connection: close`, which every client here handles.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Self

import httpx

HTML = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>nginx</body></html>"
Plan = Callable[[int, bytes], str | None]


class FaultyProxy:
    def __init__(self, upstream: str, plan: Plan | None = None, *, stall_s: float = 5.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.plan: Plan = plan or (lambda n, body: None)
        self.stall_s = stall_s
        self.count = 0
        self.injected: list[tuple[int, str]] = []
        self.held = threading.Event()
        self._release = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.base_url = ""

    # -- life cycle -----------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def release(self) -> None:
        self._release.set()

    def url(self, portal_url: str) -> str:
        """A portal URL (webhook or endpoint) rewritten to go through the proxy."""
        return self.base_url + portal_url[len(self.upstream):]

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._client = httpx.AsyncClient(timeout=60)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.run_until_complete(self._client.aclose())
            self._loop.close()

    # -- one request ----------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip()] = value.strip()
        length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
        body = await reader.readexactly(length) if length else b""
        self.count += 1
        fault = self.plan(self.count, body)
        if fault:
            self.injected.append((self.count, fault))
        if fault in ("502", "html"):
            await self._answer(writer, 502, HTML, "text/html")
            return
        if fault == "stall":
            await self._stall(writer)
            return
        if fault == "reset":
            writer.transport.abort()
            return
        if fault == "hold":
            await self._hold(writer)
            return
        forward = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length", "connection")}
        upstream = await self._client.request(method, self.upstream + target, headers=forward, content=body)
        if fault == "502-after":
            await self._answer(writer, 502, HTML, "text/html")
        elif fault == "html-after":
            await self._answer(writer, 200, HTML, "text/html")
        elif fault == "stall-after":
            await self._stall(writer)
        elif fault == "reset-after":
            writer.transport.abort()
        elif fault == "hold-after":
            await self._hold(writer)
        else:
            await self._answer(writer, upstream.status_code, upstream.content,
                               upstream.headers.get("content-type", "application/json"))

    async def _hold(self, writer: asyncio.StreamWriter) -> None:
        self.held.set()
        while not self._release.is_set():
            await asyncio.sleep(0.05)
        writer.transport.abort()

    async def _stall(self, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(self.stall_s)
        writer.transport.abort()

    @staticmethod
    async def _answer(writer: asyncio.StreamWriter, status: int, body: bytes, ctype: str) -> None:
        head = (f"HTTP/1.1 {status} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n").encode("latin-1")
        try:
            writer.write(head + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
