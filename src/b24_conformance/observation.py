"""What a target was seen to do: HTTP exchanges and follow-up state, with secrets already redacted.

An Observation holds no reference to the target that produced it, so a verdict cannot depend on
where it came from (reference portal, live portal or cassette).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """One HTTP request and its response, redacted (webhook codes and tokens replaced)."""

    method: str
    url: str
    request_headers: Mapping[str, str] = field(default_factory=dict)
    request_body: str = ""
    status: int
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: str = ""
    elapsed_ms: float = 0.0

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
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """The response to the clause's request under test (one of possibly several, see `responses`)."""

    status: int
    body: Any  # parsed JSON, or None when the body was not JSON
    text: str
    content_type: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "body": self.body, "text": self.text, "content_type": self.content_type}


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """Everything seen for one clause.

    `responses` holds the response(s) to the request(s) under test: one for most clauses, several
    for concurrency clauses. `after` holds the follow-up state the clause asked for, keyed by what
    was observed: `status` maps a document label to its status letter, `balances` maps
    "<product label>@<store label>" to the amount delta since the document was conducted.
    `exchanges` is the full redacted wire log, set-up and clean-up included.
    """

    clause_id: str
    responses: tuple[Response, ...]
    after: Mapping[str, Any] = field(default_factory=dict)
    exchanges: tuple[Exchange, ...] = ()
    reproduction: str = ""

    @property
    def response(self) -> Response:
        return self.responses[0]
