"""Bitrix response envelopes: the `time` block, success and error bodies, and the clocks behind them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
OPERATING_WINDOW_S = 600


class Clock(Protocol):
    """Wall-clock seconds since the epoch (the value `time.start` reports)."""

    def __call__(self) -> float: ...


@dataclass(frozen=True, slots=True)
class FixedClock:
    """Deterministic mode: every request sees the same instant, so recordings are byte-reproducible."""

    at: float

    def __call__(self) -> float:
        return self.at


def wall_clock() -> float:
    return time.time()


def iso(ts: float) -> str:
    """`2025-11-06T06:37:54+00:00`: the docs' format; the reference portal runs in UTC."""
    return datetime.fromtimestamp(int(ts), UTC).isoformat()


@dataclass(frozen=True, slots=True)
class Timing:
    """One call's timing: wall-clock start/finish plus the measured processing seconds."""

    start: float
    finish: float
    processing: float


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """One method call's answer before it is put on the wire (or into a batch's collections)."""

    http: int
    result: Any = None
    time: Mapping[str, Any] | None = None
    total: int | None = None
    next: int | None = None
    error: str | int | None = None
    description: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def failure(cls, http: int, code: str | int, description: str) -> CallOutcome:
        return cls(http=http, error=code, description=description)

    def body(self) -> dict[str, Any]:
        if self.error is not None:
            return error(self.error, self.description)
        return success(self.result, self.time or {}, total=self.total, nxt=self.next)


def time_block(timing: Timing, operating: float, operating_reset_at: int, *, on_prem: bool = False) -> dict[str, Any]:
    """The `time` block; an on-premise portal has no operating limit and sends no `operating` keys
    (limits.md: in the self-hosted version the load is configured on the server side)."""
    block = {
        "start": timing.start,
        "finish": timing.finish,
        "duration": timing.finish - timing.start,
        "processing": timing.processing,
        "date_start": iso(timing.start),
        "date_finish": iso(timing.finish),
    }
    if not on_prem:
        block.update(operating_reset_at=operating_reset_at, operating=operating)
    return block


def success(
    result: Any, time: Mapping[str, Any], *, total: int | None = None, nxt: int | None = None
) -> dict[str, Any]:
    """`{"result": ..., ["next": n,] ["total": n,] "time": {...}}`; next/total beside result, as list methods do."""
    body: dict[str, Any] = {"result": result}
    if nxt is not None:
        body["next"] = nxt
    if total is not None:
        body["total"] = total
    body["time"] = time
    return body


def error(code: str | int, description: str) -> dict[str, Any]:
    """Error bodies carry no `time` block, as real portals send them."""
    return {"error": code, "error_description": description}


# PHP's json_encode output: compact separators, non-ASCII as \uXXXX.
dumps: Callable[[Any], str] = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode


def encode(body: Any) -> bytes:
    return dumps(body).encode("ascii")
