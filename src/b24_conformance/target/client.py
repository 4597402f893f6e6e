"""The HTTP client every clause goes through: calling conventions, pacing, retries, wire log.

`PortalClient.call` builds the request for one of the transports a clause may ask for (JSON,
`.json` suffix, form, multipart, GET, OAuth `auth` in body or query, ...), paces it through the
leaky bucket, retries rate-limit refusals when asked to, and records a redacted `Exchange`.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import ssl
import threading
import time
from collections.abc import Callable, Mapping
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


class Sent:
    """One request's answer, its wire-log entry and its curl reproduction. The reproduction is
    written when asked for (a clause shows one; a run sends hundreds of requests): `curl` may be
    given as a function that writes it."""

    __slots__ = ("_curl", "exchange", "never_sent", "reply")

    def __init__(self, reply: Reply, exchange: Exchange, curl: str | Callable[[], str],
                 never_sent: bool = False) -> None:
        self.reply = reply
        self.exchange = exchange
        self._curl = curl
        self.never_sent = never_sent  # a transport fault before the request left: nothing can have run

    @property
    def curl(self) -> str:
        if not isinstance(self._curl, str):
            self._curl = self._curl()
        return self._curl


class PortalClient:
    """One per run. Thread-safe: concurrency clauses call it from several threads."""

    def __init__(self, config: TargetConfig, redactor: Redactor, *, retry: RetryPolicy | None = None,
                 timeout_s: float | None = None) -> None:
        self.config = config
        self.redactor = redactor
        self.retry = retry or RetryPolicy()
        self.bucket = LeakyBucket(config.rate.threshold, config.rate.drain_per_s)  # the default address's
        self._sandbox_bucket = LeakyBucket(config.rate.threshold, config.rate.drain_per_s)
        self.timeout_s = config.timeout_s if timeout_s is None else timeout_s
        self._clients: dict[str | None, httpx.Client] = {}
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        redactor.add(*config.secrets())

    # -- public API -----------------------------------------------------------------------------
    def call(self, cred: Credential, method: str, params: Mapping[str, Any], *, transport: str = "json",
             retry: bool = True, local_address: str | None = None, pace: bool = True, phase: str = "call") -> Sent:
        """Send one request and return what came back, retrying only what is safe to retry.

        Rate-limit refusals (QUERY_LIMIT_EXCEEDED, OPERATION_TIME_LIMIT) ran nothing, so with `retry`
        they are waited out and sent again; the pacer learns from a 503 that the portal's bucket is
        fuller than it thought. A request that never left (connection refused) is sent again; one
        that may have run (a timeout, a reset, a 5xx, a proxy's HTML page) only when it is read-only.
        For the clause's own request (`phase="call"`) the last answer, fault included, is returned
        as it is: grading decides what it means. For the suite's own bookkeeping (every other phase)
        a fault, a 5xx or a non-JSON answer raises TargetError, and the clause is ERROR.
        """
        request = self.build(cred, method, params, transport)
        read_only = is_read_only(method, params)
        if phase != "call" and local_address is None and self.config.sandbox_address:
            local_address = self.config.sandbox_address  # the suite's bookkeeping has a bucket of its own
        attempt = 0
        while True:
            attempt += 1
            sent = self._send(request, local_address=local_address, pace=pace, phase=phase)
            delay = self._retry_delay(sent, attempt, retry=retry, read_only=read_only,
                                      bucket=self._bucket(local_address))
            if delay is None:
                break
            if self.config.kind != "cassette":  # a recording plays back at once: waiting changes nothing
                time.sleep(delay)
        if phase != "call":
            self._require_answer(sent, method)
        return sent

    def _retry_delay(self, sent: Sent, attempt: int, *, retry: bool, read_only: bool,
                     bucket: LeakyBucket | None = None) -> float | None:
        """Seconds to wait before sending `sent`'s request again, or None to keep its answer.

        `bucket` is the pacer of the address the request came from, if it has one (Bitrix keeps one
        bucket per source address, limits.md): a refusal says that bucket is full.
        """
        reply = sent.reply
        code = reply.error_code
        if reply.fault:
            may_have_run = not sent.never_sent
            if attempt >= self.retry.attempts or (may_have_run and not read_only):
                return None
            return self.retry.delay(attempt)
        if code in RETRYABLE:
            if not retry or attempt >= self.retry.rate_attempts:
                return None
            if code == "QUERY_LIMIT_EXCEEDED":
                if bucket is not None:
                    bucket.saturate()  # someone else is using the bucket: it is fuller than we counted
                # one slot drains in 1/Y s: wait that (never less than the floor, in case the
                # configured Y is not the portal's), doubling per attempt ("retry calls with
                # increasing delay", limits.md)
                slot = max(1.0 / max(self.config.rate.drain_per_s, 0.01), self.retry.rate_floor_s)
                return min(self.retry.max_delay_s, slot * (2 ** (attempt - 1)))
            delay = self.retry.delay(attempt, reset_at=self._last_reset_at)
            if delay >= self.retry.max_delay_s:
                return None  # blocked for longer than a run should wait: grading says so
            return delay
        broken = (reply.status is not None and reply.status >= 500) or reply.body is None
        if broken and read_only and attempt < self.retry.attempts:
            return self.retry.delay(attempt)
        return None

    def _require_answer(self, sent: Sent, method: str) -> None:
        """The suite's own requests need a Bitrix answer; anything else stops the clause as ERROR."""
        reply, where = sent.reply, f"{sent.exchange.method} {sent.exchange.url}"
        if reply.fault:
            raise TargetUnreachable(f"{where}: {reply.fault}", hint="is the portal URL right and the portal up?")
        if reply.error_code in RETRYABLE:
            raise TargetError(f"{method} was refused by the portal's limit ({reply.status} {reply.error_code}) "
                              f"after {self.retry.rate_attempts} attempts", hint="another integration may be "
                              "using the portal's request budget; run again later")
        if reply.status is not None and reply.status >= 500:
            raise TargetError(f"{where} answered HTTP {reply.status} ({reply.describe_body()})")
        if reply.body is None:
            raise TargetError(f"{where} answered HTTP {reply.status} with no JSON ({reply.describe_body()})")

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

    def _bucket(self, local_address: str | None) -> LeakyBucket | None:
        """The pacer of requests from this address: the default one's, the sandbox's, or none (the
        probes' and the concurrent callers' addresses are never paced)."""
        if local_address is None:
            return self.bucket
        return self._sandbox_bucket if local_address == self.config.sandbox_address else None

    def _client(self, local_address: str | None) -> httpx.Client:
        with self._lock:
            client = self._clients.get(local_address)
            if client is None:
                # a replay never connects (vcrpy answers inside the transport, and the network is
                # blocked): its client trusts no certificate at all rather than load a CA bundle
                verify = _trusts_nothing() if self.config.kind == "cassette" else ssl_context(self.config.verify)
                transport = httpx.HTTPTransport(verify=verify, local_address=local_address)
                client = httpx.Client(transport=transport, timeout=self.timeout_s, follow_redirects=False)
                client._cookies = _SetCookieOnly()  # what httpx's `cookies` setter sets, our kind of store
                self._clients[local_address] = client
            return client

    def _send(self, request: httpx.Request, *, local_address: str | None, pace: bool, phase: str) -> Sent:
        # a recording is not a portal: pacing a replay would only slow it down
        bucket = self._bucket(local_address)
        if pace and bucket is not None and self.config.kind != "cassette":
            bucket.acquire()
        started = time.perf_counter()
        try:
            raw = self._client(local_address).send(request)
        except Exception as exc:
            if is_cassette_miss(exc):
                where = self.redactor.url(str(request.url))
                raise TargetError(f"the cassette has no recorded response for {request.method} {where}",
                                  hint="the clause or the client changed since recording; re-record") from None
            if not isinstance(exc, httpx.TransportError):
                raise
            return self._fault(request, exc, (time.perf_counter() - started) * 1000, phase)
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
        return Sent(reply=reply, exchange=exchange, curl=functools.partial(self.curl, request))

    def _fault(self, request: httpx.Request, exc: Exception, elapsed: float, phase: str) -> Sent:
        """A transport fault, recorded as an exchange without a response."""
        fault = f"{type(exc).__name__}: {self.redactor.text(str(exc)) or 'no detail'}"
        r = self.redactor
        exchange = Exchange(
            method=request.method, url=r.url(str(request.url)),
            request_headers={k: r.text(v) for k, v in request.headers.items()
                             if k.lower() not in ("authorization", "cookie")},
            request_body=r.body(request.content.decode("utf-8", "replace") if request.content else "",
                                request.headers.get("content-type", "")),
            elapsed_ms=elapsed, fault=fault, phase=phase)
        with self._lock:
            self.exchanges.append(exchange)
        never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
        return Sent(reply=Reply(fault=fault), exchange=exchange, curl=functools.partial(self.curl, request),
                    never_sent=never_sent)

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


def batch_parts(body: Any) -> tuple[dict, dict]:
    """A batch answer's `result` and `result_error` maps (empty when absent or not maps)."""
    outer = body.get("result") if isinstance(body, dict) else None
    outer = outer if isinstance(outer, dict) else {}
    results, errors = outer.get("result"), outer.get("result_error")
    return (results if isinstance(results, dict) else {}), (errors if isinstance(errors, dict) else {})


READ_ONLY_SUFFIXES = (".list", ".get", ".getfields", ".fields", ".mode.status")


def is_read_only(method: str, params: Mapping[str, Any]) -> bool:
    """True for methods that change nothing (list, get, getFields, mode.status), and for a batch
    made only of them: sending such a request twice is harmless."""
    name = method.lower().removesuffix(".json")
    if name == "batch":
        cmd = params.get("cmd")
        return isinstance(cmd, Mapping) and bool(cmd) and all(
            isinstance(c, str) and is_read_only(c.split("?", 1)[0], {}) for c in cmd.values())
    return name.endswith(READ_ONLY_SUFFIXES)


class _SetCookieOnly(httpx.Cookies):
    """httpx's cookie store, looking for cookies only in a response that sets one: for every
    response httpx builds urllib stand-ins of it and of its request for the cookie jar, ~0.05 ms a
    request (a replay makes ~950), and portals seldom set cookies. The jar's default policy reads
    no Set-Cookie2 (RFC 2965 is off), so nothing else can set one."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


def ssl_context(verify: bool | str | ssl.SSLContext) -> bool | ssl.SSLContext:
    """The SSL context for `verify` (True: the system's trust as httpx builds it; a path: that CA
    bundle), made once per process: loading a CA bundle costs tens of milliseconds, and a run makes
    an httpx client per source address and per recording it replays. A context is only read once
    made (httpcore sets the same ALPN list on each use), so the clients can share it."""
    if verify is True:
        return _trust(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    if isinstance(verify, str):  # a CA bundle, e.g. the reference portal's loopback CA
        stat = os.stat(verify)  # a bundle rewritten in place is read again
        return _bundle(verify, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    return verify


@functools.cache
def _trusts_nothing() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies certificates and host names, against no CA


@functools.lru_cache(maxsize=4)
def _trust(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=True, trust_env=True)


@functools.lru_cache(maxsize=16)
def _bundle(path: str, inode: int, mtime_ns: int, size: int) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=path)


def _with_query(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url
