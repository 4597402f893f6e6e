"""The HTTP client every clause goes through: calling conventions, pacing, retries, wire log.

`PortalClient.call` builds the request for one of the transports a clause may ask for (JSON,
`.json` suffix, form, multipart, GET, OAuth `auth` in body or query, ...), paces it through the
leaky bucket, retries rate-limit refusals when asked to, and records a redacted `Exchange`.
"""

from __future__ import annotations

import json
import shlex
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..errors import TargetError, TargetUnreachable
from ..observation import Exchange, Reply
from ..redact import Redactor
from .cassette import is_cassette_miss
from .config import Credential, TargetConfig
from .encoding import build_multipart, build_query
from .ratelimit import LeakyBucket, RetryPolicy

TRANSPORTS = ("json", "json-suffix", "form", "multipart", "get", "oauth-body", "oauth-query",
              "upper-case-method", "plain-http")
RETRYABLE = {"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT"}
USER_AGENT = "b24-conformance/0.1"


@dataclass(frozen=True, slots=True)
class Sent:
    reply: Reply
    exchange: Exchange
    curl: str


class PortalClient:
    """One per run. Thread-safe: concurrency clauses call it from several threads."""

    def __init__(self, config: TargetConfig, redactor: Redactor, *, retry: RetryPolicy | None = None,
                 timeout_s: float = 30.0) -> None:
        self.config = config
        self.redactor = redactor
        self.retry = retry or RetryPolicy()
        self.bucket = LeakyBucket(config.rate.threshold, config.rate.drain_per_s)
        self.timeout_s = timeout_s
        self._clients: dict[str | None, httpx.Client] = {}
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        redactor.add(*config.secrets())

    # -- public API -----------------------------------------------------------------------------
    def call(self, cred: Credential, method: str, params: Mapping[str, Any], *, transport: str = "json",
             retry: bool = True, local_address: str | None = None, pace: bool = True, phase: str = "call") -> Sent:
        request = self.build(cred, method, params, transport)
        attempt = 0
        while True:
            attempt += 1
            sent = self._send(request, local_address=local_address, pace=pace, phase=phase)
            code = sent.reply.error_code
            if not retry or code not in RETRYABLE or attempt >= self.retry.attempts:
                return sent
            reset_at = None
            if code == "OPERATION_TIME_LIMIT":
                reset_at = self._last_reset_at
            delay = self.retry.delay(attempt, reset_at=reset_at)
            if delay >= self.retry.max_delay_s and code == "OPERATION_TIME_LIMIT":
                raise TargetError(f"{method} is blocked by the operating-time limit for longer than "
                                  f"{self.retry.max_delay_s:.0f}s", hint="wait for operating_reset_at")
            time.sleep(delay)

    def batch(self, cred: Credential, commands: Mapping[str, tuple[str, Mapping[str, Any]]], *,
              halt: bool = False, phase: str = "call") -> Sent:
        """`batch` with PHP-encoded sub-requests; `$result[...]` references pass through."""
        cmd = {key: f"{method}?{build_query(params)}" for key, (method, params) in commands.items()}
        return self.call(cred, "batch", {"halt": 1 if halt else 0, "cmd": cmd}, phase=phase)

    @property
    def request_count(self) -> int:
        return len(self.exchanges)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    # -- building -------------------------------------------------------------------------------
    def build(self, cred: Credential, method: str, params: Mapping[str, Any], transport: str) -> httpx.Request:
        if transport not in TRANSPORTS:
            raise TargetError(f"unknown transport {transport!r}")
        base = cred.base
        if not base:
            raise TargetError(f"credential {cred.role!r} has no URL")
        name = method.upper() if transport == "upper-case-method" else method
        if transport == "json-suffix":
            name += ".json"
        if transport == "plain-http":
            if not self.config.plain_http_base:
                raise TargetError("this target has no plain-HTTP listener")
            parts = urlsplit(base)
            plain = urlsplit(self.config.plain_http_base)
            base = urlunsplit((plain.scheme, plain.netloc, parts.path, "", ""))
        url = base + name
        body_params = dict(params)
        query = ""
        if cred.kind == "oauth" and cred.token:
            if transport == "oauth-query":
                query = build_query({"auth": cred.token})
            else:
                body_params["auth"] = cred.token
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if transport == "get":
            qs = build_query(body_params)
            query = f"{query}&{qs}" if query and qs else (query or qs)
            return httpx.Request("GET", _with_query(url, query), headers=headers)
        if transport == "form":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return httpx.Request("POST", _with_query(url, query), headers=headers,
                                 content=build_query(body_params).encode())
        if transport == "multipart":
            content, ctype = build_multipart(body_params)
            headers["Content-Type"] = ctype
            return httpx.Request("POST", _with_query(url, query), headers=headers, content=content)
        headers["Content-Type"] = "application/json"
        return httpx.Request("POST", _with_query(url, query), headers=headers,
                             content=json.dumps(body_params, ensure_ascii=False).encode())

    # -- sending --------------------------------------------------------------------------------
    _last_reset_at: float | None = None

    def _client(self, local_address: str | None) -> httpx.Client:
        with self._lock:
            client = self._clients.get(local_address)
            if client is None:
                verify = self.config.verify
                if isinstance(verify, str):  # a CA bundle, e.g. the reference portal's loopback CA
                    verify = ssl.create_default_context(cafile=verify)
                transport = httpx.HTTPTransport(verify=verify, local_address=local_address)
                client = httpx.Client(transport=transport, timeout=self.timeout_s, follow_redirects=False)
                self._clients[local_address] = client
            return client

    def _send(self, request: httpx.Request, *, local_address: str | None, pace: bool, phase: str) -> Sent:
        # a recording is not a portal: pacing a replay would only slow it down
        if pace and local_address is None and self.config.kind != "cassette":
            self.bucket.acquire()
        started = time.perf_counter()
        try:
            raw = self._client(local_address).send(request)
        except Exception as exc:
            if not isinstance(exc, httpx.HTTPError) and not is_cassette_miss(exc):
                raise
            where = self.redactor.url(str(request.url))
            if is_cassette_miss(exc):
                raise TargetError(f"the cassette has no recorded response for {request.method} {where}",
                                  hint="the clause or the client changed since recording; re-record") from None
            raise TargetUnreachable(f"{request.method} {where}: {type(exc).__name__}: "
                                    f"{self.redactor.text(str(exc))}",
                                    hint="is the portal URL right and the portal up?") from None
        elapsed = (time.perf_counter() - started) * 1000
        text = raw.text
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("time"), dict):
            reset = body["time"].get("operating_reset_at")
            if isinstance(reset, (int, float)):
                self._last_reset_at = float(reset)
        reply = Reply(status=raw.status_code, body=body, text=text, content_type=raw.headers.get("content-type", ""))
        exchange = self._exchange(request, raw, text, elapsed, phase)
        with self._lock:
            self.exchanges.append(exchange)
        return Sent(reply=reply, exchange=exchange, curl=self.curl(request))

    def _exchange(self, request: httpx.Request, raw: httpx.Response, text: str, elapsed: float,
                  phase: str) -> Exchange:
        r = self.redactor
        ctype = request.headers.get("content-type", "")
        body = request.content.decode("utf-8", "replace") if request.content else ""
        return Exchange(
            method=request.method,
            url=r.url(str(request.url)),
            request_headers={k: r.text(v) for k, v in request.headers.items()
                             if k.lower() not in ("authorization", "cookie")},
            request_body=r.body(body, ctype),
            status=raw.status_code,
            response_headers={k: r.text(v) for k, v in raw.headers.items() if k.lower() != "set-cookie"},
            response_body=r.text(text),
            elapsed_ms=elapsed,
            phase=phase,
        )

    def curl(self, request: httpx.Request) -> str:
        """A copy-paste reproduction with every secret redacted."""
        r = self.redactor
        parts = ["curl", "-X", request.method]
        for header in ("Content-Type", "Accept"):
            if header in request.headers:
                parts += ["-H", f"{header}: {request.headers[header]}"]
        if request.content:
            body = r.body(request.content.decode("utf-8", "replace"), request.headers.get("content-type", ""))
            parts += ["--data-binary", body]
        parts.append(r.url(str(request.url)))
        return " ".join(shlex.quote(p) for p in parts)


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url
