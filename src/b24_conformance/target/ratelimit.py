"""Client-side pacing: a leaky bucket at the portal's documented rate, and the retry policy.

Bitrix counts each HTTP request into a bucket that drains at Y per second and refuses requests
past X (limits.md). Pacing below that keeps a run from tripping it; when it trips anyway
(QUERY_LIMIT_EXCEEDED, 503) or a method's operating budget is spent (OPERATION_TIME_LIMIT, 429)
the request is retried with backoff, the latter no earlier than `operating_reset_at`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LeakyBucket:
    """Blocks in `acquire` just long enough that the portal's bucket never passes `threshold`."""

    threshold: int
    drain_per_s: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _level: float = 0.0
    _stamp: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    waited_s: float = 0.0

    def acquire(self) -> float:
        """Take one slot; returns the seconds waited."""
        with self._lock:
            now = self.clock()
            if self._stamp is not None:
                self._level = max(0.0, self._level - (now - self._stamp) * self.drain_per_s)
            self._stamp = now
            # keep one slot of headroom for requests we do not control (other tools, retries)
            ceiling = max(1, self.threshold - 1)
            wait = 0.0
            if self._level + 1 > ceiling:
                wait = (self._level + 1 - ceiling) / self.drain_per_s
                self.sleep(wait)
                self._level = max(0.0, self._level - wait * self.drain_per_s)
                self._stamp = self.clock()
            self._level += 1
            self.waited_s += wait
            return wait

    def saturate(self) -> None:
        """The portal refused a request: its bucket is full, whatever we counted (another client)."""
        with self._lock:
            self._level = max(self._level, float(self.threshold))
            self._stamp = self.clock()


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how long apart, a request is sent again.

    `attempts` bounds resends after a transport fault or a 5xx (only what is safe to resend);
    `rate_attempts` bounds resends after a rate-limit refusal, which ran nothing.
    """

    attempts: int = 3
    rate_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    rate_floor_s: float = 0.1  # the shortest first wait after a QUERY_LIMIT_EXCEEDED, whatever Y says

    def delay(self, attempt: int, *, reset_at: float | None = None, now: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (1-based)."""
        if reset_at is not None:
            now = time.time() if now is None else now
            return min(self.max_delay_s, max(0.0, reset_at - now) + 0.1)
        return min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
