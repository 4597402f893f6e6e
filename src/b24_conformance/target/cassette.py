"""Offline mode: record a run into vcrpy cassettes, and replay it with no portal at all.

One cassette per clause (`<dir>/<clause id>.yaml`), plus `_open.yaml` and `_close.yaml` for the
sandbox's run-level set-up, and `_recording.json`, a sidecar with what vcrpy cannot store: when,
from which portal profile, with which tool version, and which roles existed (never their secrets).

Scrubbing runs on every request before it is stored and again before it is matched on replay
(vcrpy applies `before_record_request` on both sides), so it must be idempotent: the portal's
origin becomes `portal.example`, the webhook code and every `auth` value become `REDACTED`.
Responses are scrubbed of every secret the run knows. Matching is on method, scheme, host, path,
query and body; never on headers.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .. import __version__
from ..errors import TargetConfigInvalid, TargetError
from ..redact import PLACEHOLDER, Redactor, redact_body, redact_url, scrub_json
from .config import Credential, RateLimit, TargetConfig

HOST = "portal.example"
SIDECAR = "_recording.json"
MATCH_ON = ["method", "scheme", "host", "path", "query", "body"]
DROP_HEADERS = {"host", "content-length", "user-agent", "accept-encoding", "connection", "cookie", "authorization"}


def scrub_request(request: Any) -> Any:
    """Placeholder origin, webhook code and `auth` values; idempotent."""
    parts = urlsplit(redact_url(request.uri))  # webhook code and `auth` in the query, as everywhere
    request.uri = urlunsplit((parts.scheme, HOST, parts.path, parts.query, ""))
    body = request.body
    if isinstance(body, dict):  # aiohttp's json= bodies are recorded as a mapping
        request.body = scrub_json(body)
    elif body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        ctype = request.headers.get("content-type", request.headers.get("Content-Type", ""))
        ctype = ctype[0] if isinstance(ctype, list) else ctype
        scrubbed = redact_body(text, ctype)
        if scrubbed != text:
            request.body = scrubbed.encode("utf-8")
    for name in list(request.headers):
        if name.lower() in DROP_HEADERS:
            del request.headers[name]
    return request


def response_scrubber(redactor: Redactor):
    def scrub(response: dict[str, Any]) -> dict[str, Any]:
        body = response.get("body", {}).get("string")
        if isinstance(body, bytes):
            text = body.decode("utf-8", "replace")
            clean = redactor.text(text)
            if clean != text:
                response["body"]["string"] = clean.encode("utf-8")
        response["headers"] = {k: v for k, v in response.get("headers", {}).items()
                               if k.lower() not in ("set-cookie", "date", "server")}
        return response
    return scrub


class Cassettes:
    """Opens one vcrpy cassette per clause, recording or replaying."""

    def __init__(self, directory: Path, *, record: bool, redactor: Redactor) -> None:
        vcr = require_vcrpy("record" if record else "replay cassettes")

        self.directory = directory
        self.record = record
        if not record and not (directory / SIDECAR).is_file():
            raise TargetConfigInvalid(f"{directory} holds no recording ({SIDECAR} is missing)",
                                      hint="record one with `b24-conformance record --cassettes DIR`")
        directory.mkdir(parents=True, exist_ok=True)
        self.vcr = vcr.VCR(
            cassette_library_dir=str(directory),
            record_mode="all" if record else "none",
            match_on=MATCH_ON,
            before_record_request=scrub_request,
            before_record_response=response_scrubber(redactor),
            decode_compressed_response=True,
            record_on_exception=True,
            **({"skip_patchers": _SKIP_PATCHERS} if _SKIP_PATCHERS else {}),
        )
        if not record:
            self.vcr.register_persister(parsed_cache_persister())

    @contextmanager
    def use(self, name: str) -> Iterator[None]:
        path = self.directory / f"{name}.yaml"
        if not self.record and not path.is_file():
            raise TargetError(f"no cassette {path.name} in {self.directory}",
                              hint="re-record with `b24-conformance record`")
        try:
            cassette = indexed_cassette_class().use(**self.vcr.get_merged_config(path=path.name))
            entered = cassette.__enter__()
        except Exception as exc:  # noqa: BLE001 - vcrpy raises yaml, key and type errors alike
            raise TargetError(f"cassette {path.name} cannot be read: {type(exc).__name__}: {str(exc)[:200]}",
                              hint="the file is malformed; re-record it") from None
        if not self.record:  # the one filter this VCR has (see IndexedCassette._filtered)
            entered.b24c_scrub_in_place = scrub_request
        self._active = entered
        try:
            yield
        finally:
            self._active = None
            cassette.__exit__(None, None, None)
            if self.record and not path.is_file():  # nothing was sent (a client refused to, say):
                path.write_text("interactions: []\nversion: 1\n", encoding="utf-8")  # replay sends nothing too


    @contextmanager
    def side_by_side(self) -> Iterator[None]:
        """Requests sent at once (a concurrent clause): recording, their interactions are stored in
        a canonical order, not in the order the threads happened to finish, so that two recordings
        of the same portal are byte-identical however busy the machine is. Replay hands identical
        requests their responses in stored order, which concurrent callers cannot tell apart."""
        cassette = getattr(self, "_active", None)
        start = len(cassette.data) if cassette is not None else 0
        try:
            yield
        finally:
            if cassette is not None and self.record:
                cassette.b24c_canonical.append((start, len(cassette.data)))


class NetworkBlocked(ConnectionRefusedError):
    """A replay tried to reach the network: the cassette does not hold what the code sent."""


@contextmanager
def block_network() -> Iterator[None]:
    """No TCP connection may be opened while replaying (pytest-recording's `--block-network`):
    anything a cassette does not answer is a loud fault, never a quiet call to a real portal."""
    import socket

    real = socket.socket.connect

    def refuse(sock: socket.socket, address: Any) -> None:
        raise NetworkBlocked(f"network blocked during replay (tried {address!r})")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = real  # type: ignore[method-assign]


def indexed_cassette_class() -> type:
    """vcrpy's Cassette with its interactions indexed by (method, URI, body).

    Built once per imported vcrpy (keyed by its Cassette class): a process that imports vcrpy
    again (pytest's in-process pytester restores `sys.modules` after each inner session) must not
    mix the old module's classes with the new one's exceptions.

    vcrpy finds the response to a request by running every matcher against every stored
    interaction, and again for each request: a replay of the rate-limit probe (hundreds of
    identical requests) does hundreds of thousands of matcher calls. Our matchers (method,
    scheme, host, path, query, body) all hold when those three are equal, so those candidates
    are taken in order straight from the index, and only a request with no such twin falls back
    to vcrpy's own scan (for example a JSON body whose keys come in another order).
    """
    from vcr.cassette import Cassette

    return _indexed(Cassette)


@functools.cache
def _indexed(Cassette: type) -> type:
    import sys

    requests_match = sys.modules[Cassette.__module__].requests_match
    RecordMode = sys.modules[Cassette.__module__].RecordMode

    class IndexedCassette(Cassette):
        def _key(self, request: Any) -> tuple:
            body = request.body
            return request.method, request.uri, body if isinstance(body, (bytes, str, type(None))) else repr(body)

        def _index(self) -> dict[tuple, list[int]]:
            index = getattr(self, "_b24c_index", None)
            if index is None or getattr(self, "_b24c_indexed", 0) != len(self.data):
                index = index or {}
                for n in range(getattr(self, "_b24c_indexed", 0), len(self.data)):
                    index.setdefault(self._key(self.data[n][0]), []).append(n)
                self._b24c_index, self._b24c_indexed = index, len(self.data)
            return index

        def _load(self) -> None:
            # Replaying, the stored interactions were scrubbed when they were recorded (and the
            # scrub is idempotent): loading them through `append` would deep-copy and scrub each
            # one again, most of a replay's time. Recording loads nothing (mode "all").
            self._b24c_trusted = self.record_mode == "none"
            try:
                super()._load()
            finally:
                self._b24c_trusted = False

        @property
        def b24c_canonical(self) -> list[tuple[int, int]]:
            """Spans of `data` recorded side by side, to be stored in canonical order."""
            if not hasattr(self, "_b24c_spans"):
                self._b24c_spans = []
            return self._b24c_spans

        def _save(self, force: bool = False) -> None:
            for start, end in self.b24c_canonical:
                self.data[start:end] = sorted(self.data[start:end], key=_canonical)
            self._b24c_spans = []
            super()._save(force=force)

        def append(self, request: Any, response: Any) -> None:
            if getattr(self, "_b24c_trusted", False):
                self.data.append((request, response))
                return
            super().append(request, response)

        def _filtered(self, request: Any) -> Any:
            """The request as the cassette stores requests (scrubbed), once per request: vcrpy asks
            three times for each request it plays (can_play_response_for, then `in`, then
            play_response), and the scrub is idempotent, so the filtered request stands for itself
            too. The last pair is kept as one tuple: threads of a concurrent clause at worst miss
            it and filter again. Recording, it is vcrpy's `_before_record_request` (a deep copy,
            then the scrub)."""
            memo = getattr(self, "_b24c_memo", None)
            if memo is not None and (request is memo[0] or request is memo[1]):
                return memo[1]
            scrub = getattr(self, "b24c_scrub_in_place", None)
            # replaying, the request asked about is vcrpy's own copy of what httpx sent, used for
            # nothing but finding its answer: it is scrubbed as it is, not deep-copied first
            filtered = scrub(request) if scrub is not None else self._before_record_request(request)
            self._b24c_memo = (request, filtered)
            return filtered

        def can_play_response_for(self, request: Any) -> Any:  # vcrpy's, with the request filtered once
            request = self._filtered(request)
            return (request and request in self and self.record_mode != RecordMode.ALL
                    and (self.rewound or self.allow_playback_repeats))

        def _responses(self, request: Any):
            request = self._filtered(request)
            if not request:
                return
            hits = self._index().get(self._key(request), [])
            for n in hits:
                if self.play_counts[n] == 0 or self.allow_playback_repeats:
                    yield n, self.data[n][1]
            twins = set(hits)
            for n, (stored, response) in enumerate(self.data):  # vcrpy's own scan for the rest
                if n not in twins and requests_match(request, stored, self._match_on):
                    yield n, response

    return IndexedCassette


def parsed_cache_persister() -> type:
    """vcrpy's filesystem persister, with each cassette's YAML parse cached on disk (`_cache`),
    keyed by the cassette's text and the versions of vcrpy and PyYAML that parse it.

    Parsing YAML is most of loading a cassette, even with libyaml: about 2 ms per clause. The
    cache holds exactly what vcrpy's YAML loader returned; vcrpy then builds its requests and
    responses from it as from a fresh parse. An edited cassette has another hash and is parsed
    again. Recording never reads the cache.
    """
    from vcr.persisters.filesystem import FilesystemPersister

    return _cached_persister(FilesystemPersister)


@functools.cache
def _cached_persister(FilesystemPersister: type) -> type:
    import sys

    from .. import _cache

    filesystem = sys.modules[FilesystemPersister.__module__]
    deserialize = filesystem.deserialize
    NotFound, DecodeError = filesystem.CassetteNotFoundError, filesystem.CassetteDecodeError

    class CachedParse:
        """A serializer for vcrpy's `deserialize`: the cached parse of this cassette's text."""

        def __init__(self, serializer: Any, path: Path) -> None:
            self.serializer, self.path = serializer, path

        def deserialize(self, text: str) -> Any:
            import yaml

            salt = f"{_vcr_version()} {yaml.__version__} {getattr(self.serializer, '__name__', '?')}"
            return _cache.parsed(text, self.serializer.deserialize, kind="cassettes", salt=salt, source=self.path)

    class ParsedCachePersister(FilesystemPersister):
        @classmethod
        def load_cassette(cls, cassette_path, serializer):
            path = Path(cassette_path)
            if not path.is_file():
                raise NotFound()
            try:
                with path.open() as f:  # as vcrpy reads it
                    data = f.read()
            except UnicodeDecodeError as err:
                raise DecodeError("Can't read Cassette, Encoding is broken") from err
            if not data.strip():
                raise NotFound()
            return deserialize(data, CachedParse(serializer, path))

    return ParsedCachePersister


@functools.cache
def _vcr_version() -> str:
    import sys

    return str(getattr(sys.modules.get("vcr"), "__version__", "?"))


def _canonical(interaction: tuple[Any, Any]) -> str:
    request, response = interaction
    return json.dumps([request.method, request.uri, repr(request.body), response], sort_keys=True, default=repr)


# vcrpy imports every HTTP library it can patch when it is imported (aiohttp, requests and urllib3
# are installed with the `clients` extra: most of vcrpy's import time), and patches each of them on
# every cassette it enters. A process that only ever speaks httpx (the `run` command) says so once,
# before vcrpy is imported: vcrpy then imports with the others hidden, and the cassettes patch httpx
# alone. A library already imported by then is patched as usual. Any other process patches all.
_ONLY_HTTPX = False
_SKIP_PATCHERS: tuple[str, ...] = ()
# vcrpy's patcher groups (VCR(skip_patchers=...)) but httpx's, and the modules each one imports
_OTHER_PATCHERS = {"aiohttp": ("aiohttp",), "requests": ("requests",), "urllib3": ("urllib3",),
                   "boto3": ("botocore",), "httplib2": ("httplib2",), "tornado": ("tornado",),
                   "httpx2": ("httpx2",), "httplib": ()}  # http.client: the stdlib's, imported anyway


def this_process_speaks_httpx_only() -> None:
    """Called by a command's entry point whose process never uses another HTTP library (see above)."""
    global _ONLY_HTTPX
    _ONLY_HTTPX = True


def _import_vcr():
    global _SKIP_PATCHERS
    import sys

    if not _ONLY_HTTPX or "vcr" in sys.modules:
        import vcr
        return vcr
    skip = tuple(group for group, modules in _OTHER_PATCHERS.items() if not any(m in sys.modules for m in modules))
    hidden = [m for group in skip for m in _OTHER_PATCHERS[group]]
    for module in hidden:
        sys.modules[module] = None  # type: ignore[assignment]  # `import module` raises ImportError
    try:
        import vcr
    finally:
        for module in hidden:
            del sys.modules[module]
    if not hasattr(sys.modules.get("vcr.patch"), "validate_skip_patchers"):  # vcrpy < 9.4 cannot skip
        for module in [m for m in sys.modules if m == "vcr" or m.startswith("vcr.")]:  # them: import it whole
            del sys.modules[module]
        import vcr
        return vcr
    _SKIP_PATCHERS = skip  # vcrpy kept no original of what it could not import: it must not patch it
    # the httpx patcher tries these on every cassette it enters; absent, each try searches sys.path
    import importlib.util

    for optional in ("httpx_curl_cffi", "pyreqwest"):
        if optional not in sys.modules and importlib.util.find_spec(optional) is None:
            sys.modules[optional] = None  # type: ignore[assignment]  # absent: fail at once
    return vcr


def require_vcrpy(what: str):
    """The vcr module, or a one-line UsageError saying how to install it."""
    try:
        vcr = _import_vcr()
    except ImportError:
        from ..errors import UsageError
        raise UsageError(f"to {what}, b24-conformance needs vcrpy, which is not installed",
                         hint="pip install 'vcrpy>=8.2.1'") from None
    return vcr


def is_cassette_miss(exc: BaseException | None) -> bool:
    """The exception (or one it was raised from) is vcrpy's "no recorded interaction matches"."""
    seen = 0
    while exc is not None and seen < 10:
        if type(exc).__name__ == "CannotOverwriteExistingCassetteException":
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def write_sidecar(directory: Path, config: TargetConfig, *, profile: str, clause_ids: list[str],
                  run_id: str) -> None:
    data = {
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tool_version": __version__,
        "target": config.name,
        "profile": profile,
        "run_id": run_id,
        "clauses": clause_ids,
        "roles": {role: {"kind": c.kind, "user_id": c.user_id} for role, c in sorted(config.credentials.items())},
        "fixtures": dict(config.fixtures),
        "capabilities": sorted(config.capabilities),
        "rate": {"threshold": config.rate.threshold, "drain_per_s": config.rate.drain_per_s},
        "plain_http": bool(config.plain_http_base),
    }
    (directory / SIDECAR).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def read_sidecar(directory: Path) -> dict[str, Any]:
    path = directory / SIDECAR
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["roles"], data["run_id"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TargetConfigInvalid(f"{path}: not a recording sidecar ({type(exc).__name__})",
                                  hint="re-record with `b24-conformance record`") from None
    return data


def cassette_target(directory: Path) -> TargetConfig:
    """The recorded portal, as a target whose every secret is the placeholder."""
    data = read_sidecar(directory)
    credentials = {}
    for role, info in data["roles"].items():
        if info.get("kind") == "webhook":
            credentials[role] = Credential(role=role, kind="webhook",
                                           webhook_url=f"https://{HOST}/rest/{info.get('user_id') or 1}/{PLACEHOLDER}/")
        elif info.get("kind") == "oauth":
            credentials[role] = Credential(role=role, kind="oauth", oauth_endpoint=f"https://{HOST}/rest/",
                                           token=PLACEHOLDER)
    rate = data.get("rate") or {}
    return TargetConfig(
        kind="cassette", name=f"cassettes {directory} ({data.get('target', '?')}, {data.get('recorded_at', '?')})",
        credentials=credentials, fixtures={k: int(v) for k, v in (data.get("fixtures") or {}).items()},
        capabilities=frozenset(data.get("capabilities") or ()),
        rate=RateLimit(threshold=int(rate.get("threshold", 50)), drain_per_s=float(rate.get("drain_per_s", 2.0))),
        plain_http_base=f"http://{HOST}" if data.get("plain_http") else None,
        source_address="127.0.0.2" if "burst" in (data.get("capabilities") or ()) else None,
    )
