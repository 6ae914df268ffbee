"""Read budgets: a token bucket per budget, and the pair a table's reads draw from.

`reserve(n)` takes `n` tokens now and says how long to wait before reading them. A bucket
saves up at most a quarter of a second's budget: enough that the time spent reading and
comparing a chunk is not lost to the pace, small enough that a pass of N rows at R rows/s
takes N/R seconds (less a quarter second at most): the rate it shows is the budget. The
clock is injected, so the tests run without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable

SAVED_S = 0.25
"""The most budget a bucket saves up while nothing is read, in seconds of its rate."""


class TokenBucket:
    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._tokens = 0.0
        self._at = clock()

    def reserve(self, n: int) -> float:
        """Take `n` tokens (going into debt if need be); seconds until they are covered."""
        now = self._clock()
        self._tokens = min(SAVED_S * self.rate, self._tokens + (now - self._at) * self.rate)
        self._at = now
        self._tokens -= n
        return max(0.0, -self._tokens / self.rate)


class Pacer:
    """The service's budget and, when the table sets its own, the table's: the slower wins."""

    def __init__(self, service: TokenBucket, table: TokenBucket | None) -> None:
        self.service, self.table = service, table

    @property
    def rate(self) -> float:
        return min(self.service.rate, self.table.rate if self.table else self.service.rate)

    def reserve(self, n: int) -> float:
        wait = self.service.reserve(n)
        return max(wait, self.table.reserve(n)) if self.table else wait
