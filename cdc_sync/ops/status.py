"""The snapshot a running service shows on /status and the dashboard, and how to build one.

A service hands the HTTP app a ``StatusProvider``: a callable returning a
``StatusSnapshot``. ``provider_for`` builds one from the few live numbers the
service knows (ready, lag, throughput) plus what every service shares: document
counts from Meilisearch and recent runs and errors from the state store. Those
shared parts are cached for a few seconds so a dashboard on auto-refresh costs
next to nothing.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cdc_sync.config import Settings
from cdc_sync.kafka.lag import PartitionLag
from cdc_sync.state.store import Run, StateStore

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    index: str
    documents: int | None
    """None when Meilisearch did not answer or the index does not exist."""


@dataclass(frozen=True, slots=True)
class RunSummary:
    id: int
    kind: str
    table: str | None
    status: str
    started_at: str
    ended_at: str | None
    rows: int
    failures: int
    error: str | None


@dataclass(frozen=True, slots=True)
class ErrorEntry:
    at: str
    component: str
    message: str


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    component: str
    ready: bool
    tables: list[TableCount] = field(default_factory=list)
    lag: list[PartitionLag] = field(default_factory=list)
    throughput: float = 0.0
    """Events per second over the last minute."""
    runs: list[RunSummary] = field(default_factory=list)
    errors: list[ErrorEntry] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    """Service-specific numbers (counters, state), shown as a key/value list."""

    @property
    def total_lag(self) -> int:
        """Records still to apply; a partition with nothing committed counts all of its own."""
        return sum(p.pending for p in self.lag)

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["total_lag"] = self.total_lag
        return data


StatusProvider = Callable[[], StatusSnapshot]


def run_summary(run: Run) -> RunSummary:
    return RunSummary(
        run.id,
        run.kind,
        run.table_name,
        run.status,
        run.started_at.isoformat(timespec="seconds"),
        run.ended_at.isoformat(timespec="seconds") if run.ended_at else None,
        run.rows,
        run.failures,
        run.error,
    )


class _Shared:
    """Document counts, runs and errors, refreshed at most every `ttl_s` seconds."""

    def __init__(self, settings: Settings, ttl_s: float, limit: int) -> None:
        self.settings = settings
        self.ttl_s = ttl_s
        self.limit = limit
        self._at = -ttl_s
        self._value: tuple[list[TableCount], list[RunSummary], list[ErrorEntry]] = ([], [], [])
        self._lock = threading.Lock()

    def get(self) -> tuple[list[TableCount], list[RunSummary], list[ErrorEntry]]:
        with self._lock:
            if time.monotonic() - self._at >= self.ttl_s:
                self._value = (self._counts(), *self._history())
                self._at = time.monotonic()
            return self._value

    def _counts(self) -> list[TableCount]:
        from cdc_sync.sink.meili import meili_client

        try:
            stats = meili_client(self.settings.meilisearch).get_all_stats().get("indexes", {})
        except Exception as exc:
            log.debug("status: meilisearch stats unavailable: %s", type(exc).__name__)
            stats = {}
        return [
            TableCount(
                t.qualified_name, t.index_uid, stats.get(t.index_uid, {}).get("numberOfDocuments")
            )
            for t in self.settings.tables
        ]

    def _history(self) -> tuple[list[RunSummary], list[ErrorEntry]]:
        try:
            store = StateStore(self.settings.state.url)
        except Exception:
            return [], []
        try:
            runs = [run_summary(r) for r in store.recent_runs(self.limit)]
            errors = [ErrorEntry(**e) for e in store.recent_errors(self.limit)]
            return runs, errors
        except Exception as exc:
            log.debug("status: state store unavailable: %s", type(exc).__name__)
            return [], []
        finally:
            store.close()


def _cached(fn: Callable[[], T], ttl_s: float) -> Callable[[], T]:
    """`fn`'s last result, recomputed at most every `ttl_s` seconds (one caller at a time)."""
    lock = threading.Lock()
    last: list[tuple[float, T]] = []

    def get() -> T:
        with lock:
            if not last or time.monotonic() - last[0][0] >= ttl_s:
                last[:] = [(time.monotonic(), fn())]
            return last[0][1]

    return get


def kafka_lag(settings: Settings) -> Callable[[], list[PartitionLag]]:
    """The group's lag on the configured topics, as `cdc-sync lag` shows it (all members)."""
    from cdc_sync.kafka.groups import GroupOffsets
    from cdc_sync.kafka.lag import group_lag

    offsets = GroupOffsets(settings.kafka, timeout_s=5.0)
    group = settings.kafka.group_id
    topics = [t.topic_name(settings.kafka.topic_prefix) for t in settings.tables]

    def lag() -> list[PartitionLag]:
        try:
            return group_lag(offsets, group, topics).partitions
        except Exception as exc:
            log.debug("status: kafka offsets unavailable: %s", exc)
            return []

    return lag


def provider_for(
    component: str,
    settings: Settings,
    *,
    ready: Callable[[], bool],
    throughput: Callable[[], float],
    lag: Callable[[], Iterable[PartitionLag]] = lambda: (),
    details: Callable[[], dict[str, Any]] = dict,
    ttl_s: float = 3.0,
    limit: int = 10,
) -> StatusProvider:
    """A provider for a running service; `ready`, `throughput` and `details` must be cheap and
    thread-safe; `lag` may do I/O: its result is cached like the shared parts."""
    shared = _Shared(settings, ttl_s, limit)
    lag_now = _cached(lambda: sorted(lag(), key=lambda p: (p.topic, p.partition)), ttl_s)

    def snapshot() -> StatusSnapshot:
        tables, runs, errors = shared.get()
        return StatusSnapshot(
            component=component,
            ready=ready(),
            tables=tables,
            lag=lag_now(),
            throughput=throughput(),
            runs=runs,
            errors=errors,
            details=details(),
        )

    return snapshot
