"""The emulator's clock: wall time plus an offset the admin surface can advance.

Token expiry (3600 s) and invitation expiry (7 days) are judged by this clock, so tests can
move time forward instead of waiting.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock time shifted by ``offset`` seconds; ``advance`` only moves forward."""

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the emulator clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()


def iso(ts: float) -> str:
    """ISO 8601 UTC with 7 fractional digits and ``Z``, like the docs' examples."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0Z"
