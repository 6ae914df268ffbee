"""Change → searchable latency as a histogram with fixed log-spaced buckets (pure, mergeable).

Fixed bucket edges make histograms of different processes and minutes add up
by plain addition: a consumer reports its recent histogram to the state store,
and `status` sums those of every consumer before taking percentiles. Ten
buckets per decade (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5 ms times a power of ten) keep a
percentile within about 25 % of the true value, from 1 ms to about 3 hours.
Counts are floats: a batch may be sampled, each sample weighing for several
changes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence

_STEPS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.5)
EDGES_MS: tuple[float, ...] = (
    *(step * 10.0**decade for decade in range(7) for step in _STEPS),
    1e7,
)
"""Upper bounds (inclusive) of the buckets; one more bucket holds everything above."""

PROMETHEUS_BOUNDS_MS = (
    10,
    25,
    50,
    100,
    250,
    500,
    1000,
    2500,
    5000,
    10_000,
    30_000,
    60_000,
    300_000,
)
"""The coarser buckets exported to Prometheus; each is one of EDGES_MS."""


class LatencyHistogram:
    __slots__ = ("counts", "sum_ms")

    def __init__(self) -> None:
        self.counts = [0.0] * (len(EDGES_MS) + 1)
        self.sum_ms = 0.0

    @property
    def total(self) -> float:
        return sum(self.counts)

    def add(self, latency_ms: float, weight: float = 1.0) -> None:
        """A negative latency (clocks apart) counts as 0 ms."""
        latency_ms = max(latency_ms, 0.0)
        self.counts[bisect_left(EDGES_MS, latency_ms)] += weight
        self.sum_ms += latency_ms * weight

    def merge(self, other: LatencyHistogram) -> None:
        for i, count in enumerate(other.counts):
            self.counts[i] += count
        self.sum_ms += other.sum_ms

    def quantile(self, q: float) -> float | None:
        """The latency below which a fraction `q` of changes lie (interpolated in its bucket)."""
        total = self.total
        if total <= 0:
            return None
        rank = q * total
        seen = 0.0
        for i, count in enumerate(self.counts):
            if count and seen + count >= rank:
                low = EDGES_MS[i - 1] if i > 0 else 0.0
                if i == len(EDGES_MS):
                    return EDGES_MS[-1]
                return low + (EDGES_MS[i] - low) * (rank - seen) / count
            seen += count
        return EDGES_MS[-1]

    def cumulative(self, bounds_ms: Iterable[float]) -> list[tuple[float, float]]:
        """(bound, count of latencies ≤ bound) for each bound, which must be an edge."""
        out = []
        for bound in bounds_ms:
            i = EDGES_MS.index(bound)
            out.append((bound, sum(self.counts[: i + 1])))
        return out

    def to_sparse(self) -> dict[str, float]:
        """Non-empty buckets by index, for JSON (``"sum"`` holds the sum of latencies)."""
        sparse = {str(i): round(c, 3) for i, c in enumerate(self.counts) if c}
        if sparse:
            sparse["sum"] = round(self.sum_ms, 3)
        return sparse

    @classmethod
    def from_sparse(cls, data: Mapping[str, float]) -> LatencyHistogram:
        histogram = cls()
        for key, count in data.items():
            if key == "sum":
                histogram.sum_ms = float(count)
            elif key.isdigit() and int(key) < len(histogram.counts):
                histogram.counts[int(key)] = float(count)
        return histogram


def sampled(values: Sequence[int], limit: int = 64) -> tuple[Sequence[int], float]:
    """At most `limit` evenly spaced values and the weight of each (cheap per batch)."""
    if len(values) <= limit:
        return values, 1.0
    step = len(values) / limit
    return [values[int(i * step)] for i in range(limit)], len(values) / limit
