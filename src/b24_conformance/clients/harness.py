"""Clients in any language: a client harness driven over stdin/stdout (protocol `b24c-harness/1`).

A harness is a small program, in the client's own language, that drives one client library the way
its users do and speaks JSON lines (see `harnesses/PROTOCOL.md` and
`schemas/harness/protocol.schema.json`). `HarnessAdapter` is one more client adapter (`base.py`):
the matrix, grading, reports and recordings treat its row like any other.

- The process is started once per row, at `start`, and asked to `stop` at the end.
- Every line each way is validated against the protocol's schema.
- A harness that exits, hangs past the per-call timeout, prints something that is not JSON or
  answers off-schema is broken: every clause it touches is ERROR (a `TargetError`), with a message
  naming the harness and showing the tail of its stderr. It is never graded PASS or FAIL.
- What the harness reports its client did is graded as usual: `returned` (bare, or `whole` for the
  envelope), `raised` (a `ClientError`), `unsupported` (SKIP), `crash` (the client crashed: a finding).

Shipped harnesses live in the package's `harnesses/<lang>/<name>/`, each with a `harness.json`
(`command`, and `install: "npm"` for Node ones with a package-lock.json). `prepare()` copies a Node
harness into a cache folder keyed by its files' hash and runs `npm ci` there once;
`B24C_HARNESS_CACHE` overrides the cache root (default `$XDG_CACHE_HOME/b24-conformance/harnesses`).
A spec is `js/b24jssdk`, `js/b24jssdk#actions.v2` (a variant the harness is started with), or a
path to a folder with a harness.json.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import TargetError, UsageError
from ..paths import schemas_dir
from ..redact import Redactor
from .base import CAPABILITIES, AdapterBase, ClientError, Envelope, PortalAccess, Unsupported

PROTOCOL = "b24c-harness/1"
PREFIX = "harness:"
HARNESSES = Path(__file__).resolve().parent.parent / "harnesses"
DEFAULT_TIMEOUT_S = 60.0
START_TIMEOUT_S = 30.0
TAIL_LINES = 15
NODE_HINT = ("install Node.js 18 or newer and npm (Debian/Ubuntu: `apt-get install -y nodejs npm`; "
             "elsewhere https://nodejs.org), then run the command again")


class HarnessBroken(TargetError):
    """The harness process itself failed: ERROR, never a verdict about the client."""


class HarnessCrash(Exception):
    """The client, inside the harness, raised something undocumented: the engine records a crash."""


# -- finding and preparing a harness --------------------------------------------------------------
def builtin_harnesses() -> list[str]:
    return sorted(str(p.parent.relative_to(HARNESSES)) for p in HARNESSES.glob("*/*/harness.json"))


def locate(spec: str) -> tuple[Path, str | None, str]:
    """(folder, variant, row name) for `name[#variant]` or a folder path."""
    base, _, variant = spec.partition("#")
    folder = HARNESSES / base
    if not (folder / "harness.json").is_file():
        folder = Path(base).expanduser()
        if not (folder / "harness.json").is_file():
            raise UsageError(f"no client harness {spec!r}",
                             hint=f"built-in harnesses: {', '.join(builtin_harnesses())}; "
                                  "or a folder with a harness.json")
        folder = folder.resolve()
    return folder, variant or None, f"{PREFIX}{spec}"


def manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "harness.json").read_text(encoding="utf-8"))
    except ValueError as exc:
        raise UsageError(f"{folder / 'harness.json'} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("command"), list) or not data["command"]:
        raise UsageError(f"{folder / 'harness.json'} needs a non-empty `command` list")
    return data


def cache_root() -> Path:
    if os.environ.get("B24C_HARNESS_CACHE"):
        return Path(os.environ["B24C_HARNESS_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "b24-conformance" / "harnesses"


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "node_modules" not in p.parts):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def prepare(folder: Path) -> Path:
    """The folder to run the harness in: itself, or for `install: npm` a cache copy with its
    node_modules installed by `npm ci` (once per content hash). UsageError when Node is missing."""
    info = manifest(folder)
    if info.get("install") != "npm":
        return folder
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise UsageError(f"the {folder.name} harness needs Node.js and npm, and {'node' if not node else 'npm'} "
                         "is not on the PATH", hint=NODE_HINT)
    where = cache_root() / f"{folder.parent.name}-{folder.name}-{_digest(folder)}"
    if (where / ".installed").is_file():
        return where
    tmp = where.with_name(where.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(folder, tmp, ignore=shutil.ignore_patterns("node_modules"))
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], check=False, cwd=tmp,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-TAIL_LINES:])
        raise UsageError(f"`npm ci` for the {folder.name} harness failed (exit {done.returncode}):\n{tail}",
                         hint="is the npm registry reachable?")
    (tmp / ".installed").write_text("npm ci\n", encoding="utf-8")
    shutil.rmtree(where, ignore_errors=True)
    where.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, where)
    return where


def harness_spec(spec: str) -> str:
    """The adapter spec for `clients --harness SPEC`, with the harness installed (so a missing Node
    or a failed `npm ci` is one UsageError line before any client runs)."""
    folder, _, _ = locate(spec.strip())
    prepare(folder)
    return PREFIX + spec.strip()


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads((schemas_dir() / "harness" / "protocol.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def check_message(message: Any, kind: str) -> str | None:
    """None when `message` is a valid protocol message of `kind` (a $defs name), else why not."""
    validator = _validator()
    sub = validator.evolve(schema={"$ref": f"#/$defs/{kind}", "$defs": validator.schema["$defs"]})
    errors = sorted(sub.iter_errors(message), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    e = errors[0]
    where = "/".join(str(p) for p in e.absolute_path) or "/"
    return f"at {where}: {e.message[:200]}"


# -- the adapter ----------------------------------------------------------------------------------
class HarnessAdapter(AdapterBase):
    """A client harness process as a client adapter."""

    def __init__(self, spec: str, *, timeout: float | None = None, command: list[str] | None = None) -> None:
        spec = spec.removeprefix(PREFIX)
        self.spec = spec
        self.folder, self.variant, name = locate(spec)
        super().__init__(name=name, cannot={})
        self.timeout = timeout if timeout is not None else float(os.environ.get("B24C_HARNESS_TIMEOUT",
                                                                                 DEFAULT_TIMEOUT_S))
        self.command = command
        self.proc: subprocess.Popen[bytes] | None = None
        self.broken: str | None = None
        self.client_info: dict[str, Any] = {}
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._lock = threading.Lock()
        self._next = 0

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self, access: PortalAccess) -> None:
        self.access = access
        self.redactor = Redactor()
        self.redactor.add(*self.secrets())
        try:
            cwd = prepare(self.folder)
        except UsageError as exc:
            self.broken = f"harness {self.spec!r} could not be set up: {exc}"
            return
        command = list(self.command or manifest(self.folder)["command"])
        command = [sys.executable if part == "{python}" else part for part in command]
        env = dict(os.environ)
        if access.ca_path:
            env["NODE_EXTRA_CA_CERTS"] = access.ca_path  # Node's way to trust the portal's CA
        try:
            self.proc = subprocess.Popen(command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=env)
        except OSError as exc:
            self.broken = f"harness {self.spec!r} could not be started ({' '.join(command)}): {exc}"
            return
        threading.Thread(target=self._read_stdout, daemon=True, name=f"{self.name}-out").start()
        self._err_thread = threading.Thread(target=self._read_stderr, daemon=True, name=f"{self.name}-err")
        self._err_thread.start()
        roles = {role: {"kind": ra.kind, "webhook_url": ra.webhook_url, "oauth_endpoint": ra.oauth_endpoint,
                        "token": ra.token} for role, ra in access.roles.items()}
        hello = {"op": "start", "protocol": PROTOCOL, "origin": access.origin, "plain_origin": access.plain_origin,
                 "ca_path": access.ca_path, "variant": self.variant, "roles": roles}
        try:
            with self._lock:
                answer = self._exchange(hello, "started", START_TIMEOUT_S)
        except HarnessBroken:
            return  # self.broken says why; every call is ERROR
        self.client_info = dict(answer["client"])
        cannot = {k: v for k, v in (answer.get("cannot") or {}).items() if k in CAPABILITIES}
        cannot.setdefault("concurrent", f"a {PROTOCOL} harness answers one request at a time")
        self.cannot = cannot

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None and not self.broken:
            try:
                with self._lock:
                    self._send({"op": "stop"})
                    self._receive(5.0)
            except (HarnessBroken, OSError):
                pass
        self.proc = None
        try:
            if proc.stdin is not None:
                proc.stdin.close()  # end of input: a harness that reads lines until EOF exits here
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    # -- calls ------------------------------------------------------------------------------------
    def call(self, role: str, method: str, params: Mapping[str, Any], *, transport: str = "json") -> Any:
        self.refuse(transport)
        self.role_access(role)
        return self._ask({"op": "call", "role": role, "method": method, "params": dict(params),
                          "transport": transport})

    def batch(self, role: str, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool) -> Any:
        self.refuse("batch")
        self.role_access(role)
        cmds = {key: {"method": m, "params": dict(p)} for key, (m, p) in commands.items()}
        return self._ask({"op": "batch", "role": role, "commands": cmds, "halt": bool(halt)})

    def _ask(self, request: dict[str, Any]) -> Any:
        with self._lock:  # one request at a time: answers come back in order
            self._next += 1
            request["id"] = self._next
            answer = self._exchange(request, "answer", self.timeout)
        if "returned" in answer:
            return Envelope(answer["returned"]) if answer.get("whole") else answer["returned"]
        if "unsupported" in answer:
            raise Unsupported(answer["unsupported"])
        if "crash" in answer:
            raise HarnessCrash(self.redactor.text(answer["crash"]))
        r = answer["raised"]
        return self._raise(r)

    def _raise(self, r: Mapping[str, Any]) -> Any:
        raise ClientError(r["type"], code=r["code"], description=r["description"], status=r["status"],
                          message=r.get("message", ""), body=r.get("body"), notes=tuple(r.get("notes") or ()))

    # -- the wire ---------------------------------------------------------------------------------
    def _exchange(self, request: dict[str, Any], kind: str, timeout: float) -> dict[str, Any]:
        if self.broken:
            raise HarnessBroken(self.broken, hint="fix the harness; its stderr tail is above")
        bad = check_message(request, request["op"])
        assert bad is None, f"the runner built an off-schema {request['op']}: {bad}"  # our own bug
        self._send(request)
        answer = self._receive(timeout)
        bad = check_message(answer, kind)
        if bad is None and kind == "answer" and answer["id"] != request["id"]:
            bad = f"answered id {answer['id']} to request {request['id']}"
        if bad is None and kind == "started" and answer["protocol"] != PROTOCOL:
            bad = f"speaks {answer['protocol']!r}, not {PROTOCOL!r}"
        if bad:
            self._break(f"answered {request['op']} off the protocol schema ({bad}): "
                        f"{json.dumps(answer)[:300]}")
        return answer

    def _send(self, request: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._break(f"exited ({self._exit()}) before reading {request['op']}")

    def _receive(self, timeout: float) -> Any:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self._break(f"gave no answer within {timeout:g} s", kill=True)
        if line is None:
            self._break(f"exited ({self._exit()}) without answering")
        try:
            return json.loads(line)
        except ValueError:
            self._break(f"printed a line that is not JSON: {line[:200].decode('utf-8', 'replace')!r}")

    def _exit(self) -> str:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "still running"
        return f"exit code {code}"

    def _break(self, what: str, *, kill: bool = False) -> Any:
        if kill and self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
            else:
                self._err_thread.join(timeout=2)  # the last words of a harness that exited
        tail = "\n".join(list(self._stderr)[-TAIL_LINES:]).strip()
        message = f"harness {self.spec!r} {what}" + (f"; its stderr ends:\n{tail}" if tail else "; its stderr is empty")
        self.broken = self.redactor.text(message)
        raise HarnessBroken(self.broken, hint="fix the harness; every clause it runs is ERROR until then")

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip():
                self._lines.put(line)
        self._lines.put(None)

    def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line.decode("utf-8", "replace").rstrip())


def harness(spec: str, **options: Any) -> HarnessAdapter:
    return HarnessAdapter(spec, **options)
