"""Pacing that adapts to the server, and the cap on how long one run may wait.

``AdaptivePacer`` is what ``ApiClient`` consults before each request and tells about each
answer. It starts at a given pace (``start`` requests per minute; None: unpaced until the
server objects), and on a 429 it halves the pace (once per round of requests in flight, so a
burst of 429s from one round counts once), pauses every worker for the server's
``Retry-After``, and takes the tier the ``ITwinPlatform-RateLimited-Tier`` header names as a
ceiling (contract C11). Each success then wins back a little, up to the ceiling: against a
limit it does not know, the client settles just under it instead of giving up (issue 12).

``WaitBudget`` bounds the time one run spends waiting on retries and 429s (the union of the
waits of all workers, not their sum); when the next wait would pass it, the run ends with
``WAIT_CAP`` and one line saying so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from reconciler.api.limits import Pacer, RateLimiter

WAIT_CAP = "WaitCapReached"
# Contract C11: requests per minute of each subscription tier (the header's value).
TIER_PER_MINUTE: Mapping[str, float] = {
    "community": 500.0,
    "trial": 500.0,
    "standard": 5000.0,
    "basic": 5000.0,
    "premium": 5000.0,
    "custom": 5000.0,
}
TIER_HEADER = "ITwinPlatform-RateLimited-Tier"
FLOOR_PER_MINUTE = 6.0  # never slower than one request every 10 s
UNPACED_START = 6000.0  # the pace an unpaced client falls back from on its first 429


class AdaptivePacer:
    """Multiplicative decrease on 429, additive increase on success, never above ``ceiling``.

    ``limiter`` is the configured pace (``limits.pacer``: a tier's budget, a ``rateLimit``, or
    None: unpaced until the server objects); it is always honoured. On top of it this keeps an
    adaptive bucket, made at the first 429, that halves and recovers. ``start`` is the ceiling
    (default: the configured pace's per minute). Thread-safe; ``clock`` and ``sleep`` are
    injectable for tests. It is itself a ``limits.Pacer`` (``acquire``, ``pause``)."""

    def __init__(
        self,
        start: float | None = None,
        *,
        floor: float = FLOOR_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        limiter: Pacer | None = None,
    ) -> None:
        self.floor = floor
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.base = limiter
        configured = getattr(limiter, "per_minute", None)
        self.ceiling: float | None = start if start is not None else configured
        self.limiter: RateLimiter | None = None  # the adaptive bucket, from the first 429 on
        if start is not None and limiter is None:
            self.limiter = RateLimiter(start, clock=clock, sleep=sleep)
        self._slowed_at = float("-inf")  # when the pace was last lowered
        self.slowdowns = 0

    @property
    def per_minute(self) -> float | None:
        return self.limiter.per_minute if self.limiter is not None else None

    def acquire(self) -> float:
        """Wait for a slot of the configured pace and of the adaptive one; returns the clock
        reading when the request may go."""
        if self.base is not None:
            self.base.acquire()
        limiter = self.limiter
        if limiter is not None:
            limiter.acquire()
        return self._clock()

    def pause(self, seconds: float) -> None:
        if self.base is not None:
            self.base.pause(seconds)
        if self.limiter is not None:
            self.limiter.pause(seconds)

    def rate_limited(self, sent_at: float, retry_after: float, headers: Mapping[str, str]) -> None:
        """A 429 answered a request sent at ``sent_at``: slow down, and pause ``retry_after``."""
        tier = TIER_PER_MINUTE.get(headers.get(TIER_HEADER, "").strip().lower())
        with self._lock:
            if tier is not None and (self.ceiling is None or tier < self.ceiling):
                self.ceiling = tier
            if self.limiter is None:
                self.limiter = RateLimiter(
                    self.ceiling or UNPACED_START, clock=self._clock, sleep=self._sleep
                )
            limiter = self.limiter
            if sent_at >= self._slowed_at:  # the first 429 of this round: slow down once
                current = limiter.per_minute or UNPACED_START
                if self.ceiling is not None:
                    current = min(current, self.ceiling)
                limiter.set_rate(max(self.floor, current / 2.0))
                self._slowed_at = self._clock()
                self.slowdowns += 1
        if retry_after > 0:
            self.pause(retry_after)

    def succeeded(self) -> None:
        """A request went through: win back one request a minute, up to the ceiling."""
        limiter = self.limiter
        if limiter is None or not self.slowdowns:
            return
        with self._lock:
            top = self.ceiling if self.ceiling is not None else UNPACED_START
            current = limiter.per_minute or top
            if current < top:
                limiter.set_rate(min(top, current + 1.0))


class WaitBudget:
    """The longest total time a run may spend waiting before retries (seconds, ``limit``).

    Waits of concurrent workers overlap; what is counted is their union on the clock."""

    def __init__(self, limit: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._covered_until = float("-inf")
        self.spent = 0.0
        self.exhausted = False

    def take(self, seconds: float) -> bool:
        """Count a wait of ``seconds`` starting now; False (and exhausted) if it would pass
        the limit, in which case the caller must not wait but stop."""
        with self._lock:
            if self.exhausted:
                return False
            now = self._clock()
            start = max(now, self._covered_until)
            added = max(0.0, now + seconds - start)
            if self.spent + added > self.limit:
                self.exhausted = True
                return False
            self.spent += added
            self._covered_until = max(self._covered_until, now + seconds)
            return True
