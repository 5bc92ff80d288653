"""Client-side pacing: a rate limiter shared by all workers, and the retry/backoff policy.

The pace comes from the server's tier (contract C11; issue 17 item 4), not from a constant:
``pacer(setting, base_url)`` builds the ``Pacer`` for a ``rateLimit`` setting —
``"community"`` (500/minute and 5,000/hour), ``"standard"`` (5,000/minute: also Premium and
Custom), a number of requests per minute, or ``"auto"``: Standard for Bentley's API hosts, no
pacing for anything else (the embedded or a served emulator, which declares no limit by
default: when one does limit, its 429s pause every worker). A ``Pacer`` is the replaceable
piece: ``acquire()`` before each request, ``pause(seconds)`` when a server says to wait; an
adaptive pacer (429s, ``ITwinPlatform-RateLimited-*``) plugs in by implementing both.
"""

from __future__ import annotations

import email.utils
import math
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import httpx


class Pacer(Protocol):
    """What ``ApiClient`` needs of a pacer: wait for a slot; push every slot back."""

    def acquire(self) -> float: ...

    def pause(self, seconds: float) -> None: ...


class RateLimiter:
    """A token bucket (as GCRA) of ``per_minute`` requests, shared by every worker thread.

    ``burst`` requests may go back to back (default: one second's worth); after that requests
    are spaced evenly. Each caller reserves its slot under the lock and sleeps outside it, so
    waiting threads never block each other's bookkeeping. ``pause`` pushes every future slot
    back, which is how a server's ``Retry-After`` slows all workers, not just the one told.
    """

    def __init__(
        self,
        per_minute: float | None,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # per_minute None: no pace of its own, yet ``pause`` still holds every worker back.
        if per_minute is not None and per_minute <= 0:
            raise ValueError("rate limit must be positive")
        self.per_minute = per_minute
        self._interval = 60.0 / per_minute if per_minute is not None else 0.0
        size = burst if burst is not None else max(1, math.ceil((per_minute or 60) / 60.0))
        self._tau = (size - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tat = 0.0  # theoretical arrival time of the next request

    def set_rate(self, per_minute: float) -> None:
        """A new pace from now on (``AdaptivePacer``); the burst stays as it was."""
        if not per_minute > 0 or per_minute == float("inf"):
            raise ValueError("rate limit must be positive and finite")
        with self._lock:
            burst = self._tau / self._interval + 1
            self.per_minute = per_minute
            self._interval = 60.0 / per_minute
            self._tau = (min(burst, max(1.0, math.ceil(per_minute / 60.0))) - 1) * self._interval

    def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            send_at = max(now, tat - self._tau)
            self._tat = tat + self._interval
        wait = send_at - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def pause(self, seconds: float) -> None:
        """No slot is handed out for the next ``seconds``."""
        with self._lock:
            self._tat = max(self._tat, self._clock() + seconds + self._tau)


class Pacers:
    """Several limits at once (Community: per minute and per hour): a slot of each."""

    def __init__(self, *limiters: RateLimiter) -> None:
        self.limiters = limiters

    def acquire(self) -> float:
        return sum(limiter.acquire() for limiter in self.limiters)

    def pause(self, seconds: float) -> None:
        for limiter in self.limiters:
            limiter.pause(seconds)


# Contract C11: requests per minute, and per hour where the tier has an hourly cap too.
TIERS: dict[str, tuple[float, float | None]] = {
    "community": (500.0, 5000.0),
    "standard": (5000.0, None),  # Premium and Custom have the same 5,000/minute
}
RATE_SETTINGS = ("auto", *TIERS)


def is_bentley(base_url: str) -> bool:
    """Whether ``base_url`` is one of Bentley's API hosts (with a dev-/qa- prefix or not)."""
    host = httpx.URL(base_url).host if base_url else ""
    return host == "bentley.com" or host.endswith(".bentley.com")


def pacer(setting: float | str | None, base_url: str = "") -> RateLimiter | Pacers:
    """The pacer for a ``rateLimit`` setting (see the module docstring); None: no pace."""
    if setting == "auto":
        setting = "standard" if is_bentley(base_url) else None
    if isinstance(setting, str):
        if setting not in TIERS:
            raise ValueError(f"unknown rate-limit tier {setting!r}; expected {RATE_SETTINGS}")
        minute, hour = TIERS[setting]
        if hour is None:
            return RateLimiter(minute)
        # The hourly cap as a bucket of an hour's budget refilled evenly: a run may spend it
        # at the minute rate, then goes at the hourly one.
        return Pacers(RateLimiter(minute), RateLimiter(hour / 60.0, burst=int(hour)))
    return RateLimiter(setting)


def describe(setting: float | str | None, base_url: str = "") -> str:
    """The pace in words, for the CLI's first line (e.g. ``standard (5,000/min)``)."""
    resolved = setting
    if setting == "auto":
        resolved = "standard" if is_bentley(base_url) else None
    if resolved is None:
        return "unpaced"
    if isinstance(resolved, str):
        minute, hour = TIERS[resolved]
        per_hour = f" and {hour:,.0f}/h" if hour else ""
        return f"{resolved} ({minute:,.0f}/min{per_hour})"
    return f"{resolved:,g}/min"


RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, bounded attempts, honouring ``Retry-After``.

    ``attempts`` counts every try, the first included. Delays are ``uniform(0, min(cap,
    base * 2**n))``; a server's ``Retry-After`` (capped at ``max_retry_after``) is a floor.
    """

    attempts: int = 6
    # Statuses worth another try. 500 is left out on purpose: the contract treats it as a
    # server bug, not a transient state (add it here to be more forgiving).
    statuses: frozenset[int] = RETRY_STATUSES
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, retry_number: int, retry_after: float | None) -> float:
        backoff = self.rng.uniform(0.0, min(self.cap, self.base * (2**retry_number)))
        if retry_after is None:
            return backoff
        # A small jitter on top of the server's floor keeps workers from retrying in lockstep.
        return min(retry_after, self.max_retry_after) + self.rng.uniform(0.0, self.base)


# RFC 9110 §10.2.3: delay-seconds is 1*DIGIT; anything else (a sign, a fraction, an exponent,
# nan, inf) is not a delay. Ten digits are more than any cap.
_DELAY_SECONDS = re.compile(r"[0-9]{1,10}")


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds: delta-seconds (digits only) or an HTTP date; None when
    absent or malformed (then the client's own backoff applies). Callers cap the value."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if _DELAY_SECONDS.fullmatch(value):
        return float(int(value))
    if not value[:1].isalpha():  # an HTTP date starts with the day's name
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        seconds = when.timestamp() - time.time()
    except (OverflowError, ValueError, OSError):
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None
