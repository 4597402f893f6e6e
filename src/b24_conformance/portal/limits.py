"""The two documented REST limits: the request-rate leaky bucket and the per-method operating budget."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from .envelope import OPERATING_WINDOW_S

BASKET_S = 60
_PRUNE_AT = 10_000


@dataclass(slots=True)
class LeakyBucket:
    """Request rate, per key (portal id, client IP) (`limits.md` § Request Rate Limits).

    Each request adds 1; the level drains by `drain_per_s` every second. A request is refused when,
    before it is counted, the level already exceeds `threshold` ("when the counter value exceeds the
    threshold X, the following request is blocked"). Refused requests are not counted, so a client
    that backs off recovers at the drain rate. `threshold <= 0` switches the limit off.
    """

    threshold: float
    drain_per_s: float
    clock: Callable[[], float] = time.monotonic
    _levels: dict[Hashable, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)  # requests run on worker threads

    def admit(self, key: Hashable) -> bool:
        if self.threshold <= 0:
            return True
        with self._lock:
            return self._admit(key)

    def _admit(self, key: Hashable) -> bool:
        now = self.clock()
        level, last = self._levels.get(key, (0.0, now))
        level = max(0.0, level - (now - last) * self.drain_per_s)
        if level > self.threshold:
            self._levels[key] = (level, now)
            return False
        if len(self._levels) >= _PRUNE_AT:
            self._prune(now)
        self._levels[key] = (level + 1.0, now)
        return True

    def level(self, key: Hashable) -> float:
        now = self.clock()
        level, last = self._levels.get(key, (0.0, now))
        return max(0.0, level - (now - last) * self.drain_per_s)

    def _prune(self, now: float) -> None:
        drained = [k for k, (lvl, last) in self._levels.items() if lvl - (now - last) * self.drain_per_s <= 0]
        for key in drained:
            del self._levels[key]


@dataclass(slots=True)
class LogicalLeakyBucket(LeakyBucket):
    """The leaky bucket of a deterministic portal: it runs on the requests themselves, not on the
    wall clock, so a recording makes the same requests however busy the machine is.

    Each admitted request counts 1 and drains `admitted_drain` (0.1: a burst overflows after
    ceil(X / 0.9) back-to-back requests, and ordinary traffic stays well below X); each refused
    request drains 1, standing for the wait a refused client makes before it asks again (so a
    client that backs off is admitted again at once). Only counts decide; timing never does.
    """

    admitted_drain: float = 0.1

    def _admit(self, key: Hashable) -> bool:
        level, _ = self._levels.get(key, (0.0, 0.0))
        if level > self.threshold:
            waited = 1.0 if self.drain_per_s > 0 else 0.0  # a bucket that never drains stays full
            self._levels[key] = (max(0.0, level - waited), 0.0)
            return False
        self._levels[key] = (level + 1.0 - self.admitted_drain, 0.0)
        return True

    def level(self, key: Hashable) -> float:
        return self._levels.get(key, (0.0, 0.0))[0]


@dataclass(slots=True)
class _Basket:
    minute: int
    first_call: float  # the basket leaves the sum OPERATING_WINDOW_S after this
    seconds: float


@dataclass(frozen=True, slots=True)
class OperatingState:
    operating: float
    reset_at: int


@dataclass(slots=True)
class OperatingBudget:
    """Accumulated execution time per (credential, method) in 10 one-minute baskets (`limits.md`).

    `blocked` is checked before a call: the call that crosses the limit completes, the next is refused.
    A basket is the calendar minute of its first call and leaves the sum 600 s after that call.
    `clock` is wall-clock seconds (the same clock as `time.start`), so `reset_at` is a timestamp.
    """

    limit_s: float
    clock: Callable[[], float] = time.time
    _baskets: dict[tuple[str, str], deque[_Basket]] = field(default_factory=dict)
    _exhausted: set[tuple[str, str]] = field(default_factory=set)
    _lock: threading.RLock = field(default_factory=threading.RLock)  # requests run on worker threads

    def exhaust(self, credential: str, method: str) -> None:
        """Spend the budget for good: a fixture credential that must always be refused, however
        long the portal runs (its baskets would otherwise leave the sum after 10 minutes)."""
        self._exhausted.add((credential, method))
        self.record(credential, method, self.limit_s + 1.0)

    def _live(self, key: tuple[str, str], now: float) -> deque[_Basket] | None:
        baskets = self._baskets.get(key)
        if baskets is None:
            return None
        while baskets and baskets[0].first_call + OPERATING_WINDOW_S <= now:
            baskets.popleft()
        return baskets

    def blocked(self, credential: str, method: str) -> bool:
        if (credential, method) in self._exhausted:
            return True
        if self.limit_s <= 0:
            return False
        with self._lock:
            baskets = self._live((credential, method), self.clock())
            return bool(baskets) and sum(b.seconds for b in baskets) > self.limit_s  # type: ignore[union-attr]

    def record(self, credential: str, method: str, seconds: float, at: float | None = None) -> OperatingState:
        """Add one call's execution time; return the sum and the reset time after it."""
        with self._lock:
            return self._record(credential, method, seconds, at)

    def _record(self, credential: str, method: str, seconds: float, at: float | None) -> OperatingState:
        now = self.clock() if at is None else at
        key = (credential, method)
        baskets = self._live(key, now)
        if baskets is None:
            baskets = self._baskets.setdefault(key, deque())
        minute = int(now // BASKET_S)
        if baskets and baskets[-1].minute == minute:
            baskets[-1].seconds += seconds
        else:
            baskets.append(_Basket(minute, now, seconds))
        return OperatingState(
            sum(b.seconds for b in baskets), int(baskets[0].first_call + OPERATING_WINDOW_S)
        )

    def state(self, credential: str, method: str) -> OperatingState:
        now = self.clock()
        baskets = self._live((credential, method), now)
        if not baskets:
            return OperatingState(0.0, int(now + OPERATING_WINDOW_S))
        return OperatingState(
            sum(b.seconds for b in baskets), int(baskets[0].first_call + OPERATING_WINDOW_S)
        )
