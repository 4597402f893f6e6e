"""Run the reference portal under uvicorn: `EmbeddedPortal` (tests, a background thread) and `serve`."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Iterable
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .database import CredentialRecord, PortalDB
from .settings import PortalSettings
from .tls import LoopbackTLS

STARTUP_TIMEOUT_S = 30.0


def bind_listener(host: str, port: int) -> socket.socket:
    """A bound, listening, non-blocking TCP socket for uvicorn (so the port is known before start)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only when the
    # socket says it is TCP; with proto 0, keep-alive responses stall ~40 ms on Nagle + delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _url(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class _PromptServer(uvicorn.Server):
    """uvicorn's server, stopping as soon as it is told to. uvicorn's main loop looks at
    `should_exit` once per 0.1 s tick, and its shutdown sleeps 0.1 s for open connections to
    finish even when none is open: up to 0.2 s of every embedded run and of every test portal.
    Here `wake` ends the tick at once (ticks still come every 0.1 s, for the Date header), and a
    shutdown with no connection and no task left skips that sleep; with either left it is
    uvicorn's own shutdown, waits and all."""

    _b24_loop: asyncio.AbstractEventLoop | None = None
    _b24_wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._b24_loop, self._b24_wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            try:
                await asyncio.wait_for(self._b24_wake.wait(), 0.1)
            except TimeoutError:
                pass
            should_exit = await self.on_tick(counter)

    def wake(self) -> None:
        """From any thread: let the main loop see `should_exit` now."""
        loop, event = self._b24_loop, self._b24_wake
        if loop is not None and event is not None:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop has closed already
                pass

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets=sockets)
            return
        for server in self.servers:  # what uvicorn's shutdown does when nothing is left open
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()


class EmbeddedPortal:
    """A reference portal on loopback in a background thread; a context manager.

        with EmbeddedPortal(PortalSettings(profile="docs-ru")) as portal:
            httpx.post(portal.webhook_url("admin") + "catalog.document.cancel", json={"id": 1})

    Both listeners (plain, and HTTPS when `settings.tls`) are bound before the thread starts, so
    `base_url` is known at once; `__enter__` returns when uvicorn is accepting connections.
    """

    def __init__(self, settings: PortalSettings | None = None, db: PortalDB | None = None) -> None:
        self.settings = settings or PortalSettings()
        self._db = db
        self._tls: LoopbackTLS | None = None
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._sockets: list[socket.socket] = []
        self.app: Starlette | None = None
        self.base_url = ""
        self.tls_base_url: str | None = None

    # ---------------------------------------------------------------- what tests use

    @property
    def ca_path(self) -> str | None:
        return str(self._tls.ca_path) if self._tls else None

    @property
    def credentials(self) -> list[CredentialRecord]:
        return list(self._state("credentials"))

    @property
    def fixtures(self) -> dict[str, Any]:
        return dict(self._state("fixtures"))

    def credential(self, label: str) -> CredentialRecord:
        for cred in self._state("credentials"):
            if cred.label == label:
                return cred
        known = ", ".join(c.label for c in self._state("credentials"))
        raise KeyError(f"no seeded credential labelled {label!r}; known: {known}")

    def webhook_url(self, label: str, *, tls: bool | None = None) -> str:
        """`{base}/rest/{user_id}/{code}/`. Over HTTPS when TLS is on (plain HTTP would answer
        "Https required"), unless `tls=False` asks for the plain listener."""
        cred = self.credential(label)
        return f"{self._base(tls)}/rest/{cred.user_id}/{cred.secret}/"

    def oauth_url(self, *, tls: bool | None = None) -> str:
        """`{base}/rest/`: append the method and send `auth` in the query string or body."""
        return f"{self._base(tls)}/rest/"

    def _base(self, tls: bool | None) -> str:
        use_tls = self.tls_base_url is not None if tls is None else tls
        if use_tls:
            if self.tls_base_url is None:
                raise RuntimeError("this portal was started without TLS")
            return self.tls_base_url
        return self.base_url

    def _state(self, name: str) -> Any:
        if self.app is None:
            raise RuntimeError("the portal is not running; use it as a context manager")
        return getattr(self.app.state, name)

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        settings = self.settings
        self.app = create_app(settings, self._db)
        try:
            plain = bind_listener(settings.host, settings.port)
            self._sockets.append(plain)
            self.base_url = _url("http", settings.host, plain.getsockname()[1])
            self._servers.append(self._server(plain))
            if settings.tls:
                self._tls = LoopbackTLS.create()
                secure = bind_listener(settings.host, settings.tls_port)
                self._sockets.append(secure)
                self.tls_base_url = _url("https", settings.host, secure.getsockname()[1])
                self._servers.append(self._server(secure, self._tls))
        except BaseException:
            self._cleanup()
            raise
        started = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(started, failure), name="b24-reference-portal", daemon=True
        )
        self._thread.start()
        if not started.wait(STARTUP_TIMEOUT_S) or failure:
            self.stop()
            raise RuntimeError("the reference portal did not start") from (failure[0] if failure else None)

    async def _asgi(self, scope: dict, receive: Any, send: Any) -> None:
        """What uvicorn serves: the current app, so `reset` can swap it under running listeners."""
        await self.app(scope, receive, send)  # type: ignore[misc]

    def reset(self, settings: PortalSettings) -> None:
        """Serve a fresh portal (new database, new seed, `settings`' profile and mutants) on the same
        listeners, TLS material and thread: what a self-test run needs between mutants, without
        paying for a new server. Listener settings (host, ports, TLS) must stay as they are."""
        if self.app is None:
            raise RuntimeError("the portal is not running; start it before resetting it")
        kept = ("host", "port", "tls", "tls_port")
        changed = [k for k in kept if getattr(settings, k) != getattr(self.settings, k)]
        if changed:
            raise ValueError(f"reset cannot change the listeners ({', '.join(changed)}); start a new portal")
        fresh = create_app(settings, self._db)
        old, self.app, self.settings = self.app, fresh, settings
        self._dispose(old)

    def _server(self, sock: socket.socket, tls: LoopbackTLS | None = None) -> uvicorn.Server:
        config = uvicorn.Config(
            self._asgi,  # type: ignore[arg-type]
            interface="asgi3",
            lifespan="off",
            log_config=None,  # leave the host program's logging alone
            log_level="warning",
            access_log=False,  # the access log would print webhook codes
            proxy_headers=False,  # X-Forwarded-Proto must not turn plain HTTP into "https"
            server_header=False,
            ssl_certfile=str(tls.cert_path) if tls else None,
            ssl_keyfile=str(tls.key_path) if tls else None,
        )
        server = _PromptServer(config)
        server._b24_socket = sock  # type: ignore[attr-defined]
        return server

    def _run(self, started: threading.Event, failure: list[BaseException]) -> None:
        async def main() -> None:
            tasks = [asyncio.create_task(s.serve(sockets=[s._b24_socket])) for s in self._servers]  # type: ignore[attr-defined]
            while not all(s.started for s in self._servers):
                if any(t.done() for t in tasks):
                    break
                await asyncio.sleep(0.005)
            started.set()
            await asyncio.gather(*tasks)

        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            failure.append(exc)
            started.set()

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
            server.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._cleanup()

    def _cleanup(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
        self._servers.clear()
        if self._tls is not None:
            self._tls.remove()
        if self.app is not None:
            self._dispose(self.app)

    @staticmethod
    def _dispose(app: Starlette) -> None:
        if app.state.runtime.workers is not None:
            app.state.runtime.workers.shutdown(wait=True)
        if app.state.owns_db:
            app.state.db.close()


def describe(portal: EmbeddedPortal) -> list[str]:
    """One line per seeded credential: label, kind, where to call it, and what it is for."""
    lines = []
    for cred in portal.credentials:
        if cred.kind == "webhook":
            where = portal.webhook_url(cred.label)
        else:
            where = f"{portal.oauth_url()}  auth={cred.secret}"
        lines.append(f"{cred.label:<22} {cred.kind:<8} {where}  -- {cred.description}")
    if portal.ca_path:
        lines.append(
            f"TLS CA certificate: {portal.ca_path}  (httpx: verify=...; requests: REQUESTS_CA_BUNDLE)"
        )
    return lines


def target_config(portal: EmbeddedPortal, roles: Iterable[str] | None = None) -> dict[str, Any]:
    """A live target config (suites/targets/ format) naming the seeded credentials of the running
    portal (only `roles`, when given), over HTTPS when it has TLS: `run --target` then points the
    suite at it as at a live portal."""
    tls = portal.tls_base_url is not None
    origin = (portal.tls_base_url or portal.base_url).rstrip("/")
    credentials: dict[str, Any] = {}
    wanted = set(roles) if roles is not None else None
    for cred in portal.credentials:
        if wanted is not None and cred.label not in wanted:
            continue
        if cred.kind == "webhook":
            credentials[cred.label] = {"webhook": portal.webhook_url(cred.label, tls=tls)}
        else:
            credentials[cred.label] = {"oauth_endpoint": f"{origin}/rest/", "token": cred.secret}
    config: dict[str, Any] = {
        "kind": "live", "name": f"reference-{portal.settings.profile}-{origin.rsplit(':', 1)[-1]}",
        "credentials": credentials, "fixtures": dict(portal.fixtures),
        "rate": {"threshold": portal.settings.rate_threshold, "drain_per_s": portal.settings.rate_drain_per_s},
    }
    if portal.ca_path:
        config["verify"] = portal.ca_path
    return config


def serve(settings: PortalSettings, *, target_file: str | None = None, roles: Iterable[str] | None = None) -> None:
    """Run a portal until SIGINT/SIGTERM, after printing its credentials (they are test secrets)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with EmbeddedPortal(settings) as portal:
            print(
                f"reference portal: {portal.base_url}"
                + (f"  {portal.tls_base_url}" if portal.tls_base_url else "")
            )
            print(f"profile: {settings.profile}" + ("  (deterministic)" if settings.deterministic else ""))
            for line in describe(portal):
                print(line)
            if target_file:
                import yaml

                Path(target_file).write_text(yaml.safe_dump(target_config(portal, roles), sort_keys=False), encoding="utf-8")
                print(f"target config for `b24-conformance run --target`: {target_file}")
            print("Ctrl-C to stop.", flush=True)
            while not stop.wait(0.5):
                if portal._thread is None or not portal._thread.is_alive():
                    break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
