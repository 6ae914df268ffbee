"""The snapshot a running service shows on /status and the dashboard, and how to build one.

A service hands the HTTP app a ``StatusProvider``: a callable returning a
``StatusSnapshot``. ``provider_for`` builds one from the few live numbers the
service knows (ready, throughput, its activity over the last minutes) plus the
per-table view every process reads alike (``ops.tables``: Meilisearch, the
source's change log, Kafka, the state store) and recent runs and errors. The
shared parts are cached for a few seconds, so a dashboard on auto-refresh
costs next to nothing.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cdc_sync.config import Settings
from cdc_sync.kafka.lag import PartitionLag
from cdc_sync.ops.activity import Activity, History
from cdc_sync.ops.table_reader import TableStatusReader
from cdc_sync.ops.tables import LeaseState, TableStatus, TablesView
from cdc_sync.state.records import Run
from cdc_sync.state.store import StateStore, process_name

log = logging.getLogger(__name__)
T = TypeVar("T")


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
    tables: list[TableStatus] = field(default_factory=list)
    unavailable: dict[str, str] = field(default_factory=dict)
    """Parts of the per-table view that could not be read, with the reason."""
    throughput: float = 0.0
    """Events per second over the last minute."""
    runs: list[RunSummary] = field(default_factory=list)
    errors: list[ErrorEntry] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    """Service-specific numbers (counters, state), shown as a key/value list."""
    history: History | None = None
    """This process's activity over the last minutes (the dashboard's charts)."""
    leases: list[LeaseState] = field(default_factory=list)
    """Every lease in the state store (one past its expiry was never released)."""
    dlq_guard_tripped_at: str | None = None
    """When the dead-letter ratio guard last stopped a consumer of the group."""

    @property
    def lag(self) -> list[PartitionLag]:
        """The group's lag on every configured table's partitions."""
        return [p for t in self.tables for p in t.partitions]

    @property
    def total_lag(self) -> int:
        """Records still to apply; a partition with nothing committed counts all of its own."""
        return sum(p.pending for p in self.lag)

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["lag"] = [dataclasses.asdict(p) for p in self.lag]
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


def _history(settings: Settings, limit: int) -> tuple[list[RunSummary], list[ErrorEntry]]:
    try:
        store = StateStore(settings.state.url, retry_s=0.0)  # a page must not wait for it
    except Exception:
        return [], []
    try:
        runs = [run_summary(r) for r in store.recent_runs(limit)]
        errors = [ErrorEntry(**e) for e in store.recent_errors(limit)]
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


def provider_for(
    component: str,
    settings: Settings,
    *,
    ready: Callable[[], bool],
    throughput: Callable[[], float],
    activity: Activity | None = None,
    details: Callable[[], dict[str, Any]] = dict,
    ttl_s: float = 3.0,
    limit: int = 10,
) -> StatusProvider:
    """A provider for a running service; `ready`, `throughput` and `details` must be cheap and
    thread-safe. The service's own `activity` stands in for its stored report (fresher)."""
    reader = TableStatusReader(settings)
    holder = process_name()

    def read_tables() -> TablesView:
        live = None
        if activity is not None:
            live = {(t, component, holder): v for t, v in activity.report().items()}
        return reader.read(live)

    tables_now = _cached(read_tables, ttl_s)
    history_now = _cached(lambda: _history(settings, limit), ttl_s)

    def snapshot() -> StatusSnapshot:
        view = tables_now()
        runs, errors = history_now()
        return StatusSnapshot(
            component=component,
            ready=ready(),
            tables=view.tables,
            unavailable=view.unavailable,
            throughput=throughput(),
            runs=runs,
            errors=errors,
            details=details(),
            history=activity.history() if activity is not None else None,
            leases=view.leases,
            dlq_guard_tripped_at=view.dlq_guard_tripped_at,
        )

    return snapshot
