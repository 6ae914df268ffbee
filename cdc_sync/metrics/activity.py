"""What a running service did per table over the last minutes, kept in memory.

The consumer counts applied changes with their change → searchable latencies
and samples its lag; the relay counts published changes. Everything is kept
in 5-second slots for the last 10 minutes: the dashboard draws its charts from
them, and `report()` is what the service publishes to the state store, so a
`cdc-sync status` in another process sees the same numbers. Services call
`count` once per batch, never once per record.

`note(table, name, value)` is the place for any other per-table number a
service wants an operator to see (a delete sweep's cost, say): it travels with
the report and shows under the table's ``extra`` in status and on the page.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from cdc_sync.metrics.latency import LatencyHistogram

SLOT_S = 5
SLOTS = 120
"""Slots kept: charts cover the last SLOT_S * SLOTS seconds (10 minutes)."""
WINDOW_S = 300
"""Latency percentiles in status cover the last 5 minutes."""

Counted = Literal["applied", "published"]


@dataclass(slots=True)
class _TableSlot:
    count: int = 0
    latency: LatencyHistogram | None = None
    lag: int | None = None


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    points: list[float | None]


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    unit: str
    series: list[Series]


@dataclass(frozen=True, slots=True)
class History:
    slot_s: int
    ends_at: float
    """Unix time at the end of the last slot."""
    charts: list[Chart] = field(default_factory=list)


class Activity:
    def __init__(self, counted: Counted, clock: Callable[[], float] = time.time) -> None:
        self.counted = counted
        self._clock = clock
        self._started_slot = int(clock() // SLOT_S)
        self._slots: deque[tuple[int, dict[str, _TableSlot]]] = deque(maxlen=SLOTS)
        self._totals: dict[str, int] = {}
        self._last_at: dict[str, float] = {}
        self._cumulative: dict[str, LatencyHistogram] = {}
        self._notes: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def _slot(self, table: str) -> _TableSlot:
        number = int(self._clock() // SLOT_S)
        if not self._slots or self._slots[-1][0] != number:
            self._slots.append((number, {}))
        tables = self._slots[-1][1]
        slot = tables.get(table)
        if slot is None:
            slot = tables[table] = _TableSlot()
        return slot

    # -- updates (cheap, once per batch)

    def count(
        self, table: str, n: int, latencies_ms: Iterable[float] = (), weight: float = 1.0
    ) -> None:
        """`n` changes of `table` done now; `latencies_ms` (each standing for `weight` changes)."""
        with self._lock:
            slot = self._slot(table)
            slot.count += n
            self._totals[table] = self._totals.get(table, 0) + n
            if n:
                self._last_at[table] = self._clock()
            for latency in latencies_ms:
                if slot.latency is None:
                    slot.latency = LatencyHistogram()
                slot.latency.add(latency, weight)
                self._cumulative.setdefault(table, LatencyHistogram()).add(latency, weight)

    def lag(self, table: str, value: int) -> None:
        with self._lock:
            self._slot(table).lag = value

    def note(self, table: str, name: str, value: Any) -> None:
        """Any other per-table number for status (JSON-ready), e.g. ``note(t, "sweep_s", 1.2)``."""
        with self._lock:
            self._notes.setdefault(table, {})[name] = value

    # -- reading

    def latency_totals(self) -> dict[str, LatencyHistogram]:
        """Every latency since start, per table (for Prometheus); copies."""
        with self._lock:
            copies = {}
            for table, histogram in self._cumulative.items():
                copies[table] = LatencyHistogram()
                copies[table].merge(histogram)
            return copies

    def recent_latency(self, table: str, window_s: float = WINDOW_S) -> LatencyHistogram:
        oldest = int((self._clock() - window_s) // SLOT_S)
        merged = LatencyHistogram()
        with self._lock:
            for number, tables in self._slots:
                slot = tables.get(table)
                if number > oldest and slot is not None and slot.latency is not None:
                    merged.merge(slot.latency)
        return merged

    def report(self) -> dict[str, dict[str, Any]]:
        """Per table: what the service publishes to the state store for `status`."""
        with self._lock:
            tables = set(self._totals) | set(self._notes)
            totals, last_at = dict(self._totals), dict(self._last_at)
            notes = {t: dict(v) for t, v in self._notes.items()}
        out: dict[str, dict[str, Any]] = {}
        for table in sorted(tables):
            values: dict[str, Any] = {
                self.counted: totals.get(table, 0),
                f"last_{self.counted}_at": last_at.get(table),
                "notes": notes.get(table, {}),
            }
            if self.counted == "applied":
                values["latency"] = self.recent_latency(table).to_sparse()
                values["window_s"] = WINDOW_S
            out[table] = values
        return out

    def history(self) -> History:
        """Charts of the last minutes (completed slots): throughput per table, and (consumer)
        lag per table and latency percentiles over all tables."""
        now_slot = int(self._clock() // SLOT_S)
        numbers = list(range(now_slot - SLOTS, now_slot))
        with self._lock:
            by_number = dict(self._slots)
            tables = sorted(set(self._totals) | {t for _, s in self._slots for t in s})
            latencies: dict[int, LatencyHistogram] = {}
            for number, slots in by_number.items():
                for slot in slots.values():
                    if slot.latency is not None:
                        latencies.setdefault(number, LatencyHistogram()).merge(slot.latency)
            # slot objects are only read here, under the lock
            rows = {t: [by_number.get(n, {}).get(t) for n in numbers] for t in tables}
            throughput = [
                Series(t, [self._rate(n, s) for n, s in zip(numbers, rows[t], strict=True)])
                for t in tables
            ]
            lags = [Series(t, _carried([s.lag if s else None for s in rows[t]])) for t in tables]
        charts = [Chart("throughput", f"{self.counted}/s", throughput)]
        if self.counted == "applied":
            charts.append(Chart("lag", "records", lags))
            charts.append(
                Chart(
                    "change → searchable",
                    "ms",
                    [
                        Series(
                            name,
                            [latencies[n].quantile(q) if n in latencies else None for n in numbers],
                        )
                        for name, q in (("p50", 0.5), ("p99", 0.99))
                    ],
                )
            )
        return History(SLOT_S, now_slot * SLOT_S, charts)

    def _rate(self, number: int, slot: _TableSlot | None) -> float | None:
        if number < self._started_slot:
            return None
        return (slot.count if slot else 0) / SLOT_S


def _carried(values: list[int | None]) -> list[float | None]:
    """A sampled gauge: each slot without a sample shows the last one seen."""
    out: list[float | None] = []
    last: float | None = None
    for value in values:
        last = value if value is not None else last
        out.append(last)
    return out
