"""What the engine saw for one clause, as raw facts: exchanges, replies, statuses and amounts.

Nothing here is a judgement. An `Observation` says which requests went out and what came back
(or which transport fault came instead), what the documents' statuses read back as, and, per
product and warehouse, the amounts before conduct, before the call and after it, beside the
movement the clause's documents imply. Words such as "reverted" or "FAIL" belong to grading.

An Observation holds no reference to the target that produced it, so a verdict cannot depend on
where it came from (reference portal, live portal or cassette). Secrets are already redacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PHASES = ("run", "setup", "call", "observe", "cleanup")


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """One HTTP request and its response or transport fault, redacted; `phase` says what it was for."""

    method: str
    url: str
    request_headers: Mapping[str, str] = field(default_factory=dict)
    request_body: str = ""
    status: int | None = None  # None: no response (see `fault`)
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: str = ""
    elapsed_ms: float = 0.0
    fault: str = ""  # a transport fault instead of a response, e.g. "ReadTimeout: timed out"
    phase: str = "call"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "request_headers": dict(self.request_headers),
            "request_body": self.request_body,
            "status": self.status,
            "response_headers": dict(self.response_headers),
            "response_body": self.response_body,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "fault": self.fault,
            "phase": self.phase,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Exchange:
        return cls(
            method=data["method"], url=data["url"], request_headers=dict(data.get("request_headers") or {}),
            request_body=data.get("request_body", ""), status=data.get("status"),
            response_headers=dict(data.get("response_headers") or {}),
            response_body=data.get("response_body", ""), elapsed_ms=data.get("elapsed_ms", 0.0),
            fault=data.get("fault", ""), phase=data.get("phase", "call"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """The answer to one of the clause's own requests: a parsed HTTP response, or a transport fault."""

    status: int | None = None  # None when no response arrived
    body: Any = None  # parsed JSON, or None when the body was not JSON
    text: str = ""
    content_type: str = ""
    fault: str = ""  # set instead of a response: the request may or may not have run

    def describe_body(self) -> str:
        """A short description of the body for a message: content type and its first characters."""
        kind = self.content_type.split(";")[0] or "no content type"
        snippet = " ".join(self.text.split())[:80]
        return f"{kind}: {snippet!r}" if snippet else kind

    @property
    def error_code(self) -> str | None:
        """The body's `error`, as a string, when the body is a JSON object carrying one."""
        if isinstance(self.body, dict) and "error" in self.body:
            return str(self.body["error"])
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientReply:
    """What a client library gave its caller for one of the clause's own requests (client runs).

    Exactly one of: `returned` (the value the call returned; with `whole`, that is the whole
    response body, otherwise the bare `result`), `raised` (the client's documented error type, with
    the code, description and HTTP status as the client exposed them: None where it lost them), or
    `crash` (an exception that is not the client's documented error, with its traceback tail).
    """

    client: str
    returned: Any = None
    whole: bool = False
    status: int | None = None
    raised: str = ""
    code: str | None = None
    description: str | None = None
    error_body: Any = None  # the parsed error body, when the client hands it over
    notes: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()  # documented accessors of the error that raised when read
    crash: str = ""

    @property
    def error_code(self) -> str | None:
        return self.code if self.raised else None


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceReading:
    """One product on one warehouse, around one document of the clause.

    `moved` is what conducting the document adds to this balance, from the clause's `given`; the
    three amounts are what the portal reported at each moment.
    """

    document: str  # the clause's document label
    product: str  # the clause's product label
    store: str  # the sandbox's warehouse label (main, second, restricted, visible)
    moved: float
    before_conduct: float
    before_call: float
    after: float

    def to_dict(self) -> dict[str, Any]:
        return {"document": self.document, "product": self.product, "store": self.store, "moved": self.moved,
                "before_conduct": self.before_conduct, "before_call": self.before_call, "after": self.after}


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """Everything seen for one clause.

    Exactly one of three things happened: the clause could not be set up on this target
    (`unavailable`: which precondition is missing), an infrastructure fault stopped it (`fault`),
    or it ran, and `replies` holds the answers to its own request(s): one for most clauses, one
    per caller for concurrency clauses. `statuses` maps a document label to the status read back
    after the call (None: not found); `balances` holds the amounts around each document the
    clause asks about. `references` maps the clause's `$label.field` references to the values the
    sandbox built. `exchanges` is the full redacted wire log, set-up and clean-up included.
    """

    clause_id: str
    replies: tuple[Reply | ClientReply, ...] = ()
    statuses: Mapping[str, str | None] = field(default_factory=dict)
    balances: tuple[BalanceReading, ...] = ()
    # the rows read back after the call by document label (None: listed and not found; a label
    # that is absent was not read); only the fields the clause asks about, with id and status
    documents: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)
    # the item rows of a document read back after the call (catalog.document.element.list by docId),
    # by document label; a label that is absent was not read
    items: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)
    references: Mapping[str, Any] = field(default_factory=dict)
    exchanges: tuple[Exchange, ...] = ()
    reproduction: str = ""
    unavailable: str = ""
    fault: str = ""
    duration_s: float = 0.0
    # after a QUERY_LIMIT_EXCEEDED the clause did not ask for: whether a cheap request from the same
    # address right after was "admitted" (so the bucket was not full: that answer was the portal's
    # answer to the clause) or "refused" (the bucket was full: the refusal says nothing); "" if not probed
    bucket_after: str = ""

    @property
    def reply(self) -> Reply | ClientReply:
        return self.replies[0]

    def readings(self, document: str) -> tuple[BalanceReading, ...]:
        return tuple(r for r in self.balances if r.document == document)
