"""Rate limiting and fault injection, both off by default and reproducible from a seed number.

Faults are drawn from one ``random.Random(seed)`` in request order, so the same seed and the
same sequence of requests give the same faults. The rate limiter is a token bucket per client
(a service app's ``client_id`` or a user's email, else the peer address) refilled at
``rate_limit / 60`` tokens a second on the emulator clock.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass

FAULT_KINDS = ("500", "503", "drop")


@dataclass(frozen=True)
class Faults:
    """Limits and faults of one emulator instance (all off by default).

    ``latency_ms`` is added to every API request; ``fault_rate`` (0..1) is the share of API
    requests answered by a fault drawn evenly from ``kinds`` (500, 503, or a dropped
    connection); ``rate_limit`` is requests per minute per client (0 = unlimited); ``seed``
    makes the fault sequence reproducible.
    """

    latency_ms: float = 0.0
    fault_rate: float = 0.0
    rate_limit: int = 0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.latency_ms < 0 or self.rate_limit < 0:
            raise ValueError("latency_ms and rate_limit must not be negative")
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds must be among {', '.join(FAULT_KINDS)}")


class FaultInjector:
    """Decides, request by request, whether to answer with a fault."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()

    def draw(self) -> str | None:
        if self.faults.fault_rate <= 0.0:
            return None
        with self._lock:
            hit = self._rng.random() < self.faults.fault_rate
            return self._rng.choice(self.faults.kinds) if hit else None

    def reseed(self) -> None:
        with self._lock:
            self._rng = random.Random(self.faults.seed)


class RateLimiter:
    """Token buckets per client key; ``check`` returns seconds to wait, or 0 when allowed."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, now: float) -> int:
        if self.per_minute <= 0:
            return 0
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + max(0.0, now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / rate))

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
