"""Events per second over a sliding window, in one-second buckets (cheap to update)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateMeter:
    def __init__(self, window_s: int = 60, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._clock = clock
        self._counts = [0] * window_s
        self._seconds = [-1] * window_s
        self._started = clock()
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        second = int(self._clock())
        slot = second % self.window_s
        with self._lock:
            if self._seconds[slot] != second:
                self._seconds[slot] = second
                self._counts[slot] = 0
            self._counts[slot] += n

    def rate(self) -> float:
        """Average over the window, or over the time since start if that is shorter."""
        now = self._clock()
        second = int(now)
        oldest = second - self.window_s + 1
        with self._lock:
            total = sum(
                c for c, s in zip(self._counts, self._seconds, strict=True) if oldest <= s <= second
            )
        span = min(float(self.window_s), max(now - self._started, 1.0))
        return total / span
