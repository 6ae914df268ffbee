"""Read budgets: a token bucket per budget, and the pair a table's reads draw from.

`reserve(n)` takes `n` tokens now and says how long to wait before reading them. A bucket
saves nothing up (tokens accrue only to pay what was taken): a pass of N rows at R rows/s
takes N/R seconds whatever came before, so the rate it shows is the budget, with no burst
after an idle time. The clock is injected, so the tests run without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._tokens = 0.0
        self._at = clock()

    def reserve(self, n: int) -> float:
        """Take `n` tokens (going into debt if need be); seconds until they are covered."""
        now = self._clock()
        self._tokens = min(0.0, self._tokens + (now - self._at) * self.rate)
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
