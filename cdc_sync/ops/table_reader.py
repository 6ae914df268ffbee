"""Takes the readings of the per-table view (``ops.tables``) from where each lives.

Meilisearch's index stats, the source's change log, Kafka's offsets and the
state store; each part is read on its own, and one that fails is named in
``unavailable`` with its reason while the others still show.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from cdc_sync.config import Settings
from cdc_sync.kafka.lag import GroupLag
from cdc_sync.kafka.types import Partition
from cdc_sync.ops.tables import Backlog, LeaseState, Parts, TablesView, assemble
from cdc_sync.state.guard_trips import last_trip
from cdc_sync.state.records import TableReport
from cdc_sync.state.store import StateStore
from cdc_sync.state.verify import VerifyLog

log = logging.getLogger(__name__)
T = TypeVar("T")

BACKLOG_CAP = 100_000
"""Change-log rows counted per table at most, so a huge backlog costs a bounded query."""

Reports = Mapping[tuple[str, str, str], Mapping[str, Any]]
"""(table, component, holder) → report values: a running service's own, fresher than stored."""


class Unreadable(Exception):
    """A part that cannot be read, for a reason the message says in full."""


class TableStatusReader:
    """Reads the parts from Meilisearch, the source, Kafka and the state store (any process)."""

    def __init__(self, settings: Settings, timeout_s: float = 5.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._engine: Any = None
        self._offsets: Any = None
        self._times: Any = None
        self._newest: Any = None

    def read(self, live: Reports | None = None) -> TablesView:
        unavailable: dict[str, str] = {}
        parts = Parts(
            documents=_attempt("meilisearch", self._documents, unavailable),
            backlog=_attempt("source", self._backlog, unavailable),
            newest_modified=_attempt("source", self._newest_modified, unavailable),
            lag=_attempt("kafka", self._lag, unavailable),
        )
        if parts.lag is not None:
            lag = parts.lag
            parts.oldest_pending = _attempt("kafka", lambda: self._oldest(lag), unavailable)
        store = _attempt(
            "state", lambda: StateStore(self.settings.state.url, retry_s=0.0), unavailable
        )
        leases: list[LeaseState] | None = None
        tripped: dt.datetime | None = None
        if store is not None:
            try:
                parts.watermarks = _attempt("state", lambda: self._watermarks(store), unavailable)
                parts.reports = _attempt("state", store.table_reports, unavailable)
                parts.runs = _attempt(
                    "state", lambda: store.latest_runs(("bootstrap", "verify")), unavailable
                )
                leases = _attempt("state", lambda: _leases(store), unavailable)
                group = self.settings.kafka.group_id
                tripped = _attempt("state", lambda: last_trip(store, group), unavailable)
                parts.verify_cursors = _attempt(
                    "state", lambda: VerifyLog(store).cursors(), unavailable
                )
            finally:
                store.close()
        if live:
            parts.reports = _with_live(parts.reports or [], live)
        now = dt.datetime.now(dt.UTC)
        tables = assemble(self.settings, parts, now)
        trip = tripped.isoformat(timespec="seconds") if tripped else None
        return TablesView(tables, unavailable, leases or [], trip)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        if self._times is not None:
            self._times.close()

    def _documents(self) -> dict[str, int | None]:
        from cdc_sync.sink.meili import meili_client

        stats = meili_client(self.settings.meilisearch).get_all_stats().get("indexes", {})
        return {uid: s.get("numberOfDocuments") for uid, s in stats.items()}

    def _backlog(self) -> dict[str, Backlog] | None:
        triggered = [t.qualified_name for t in self.settings.tables if t.capture == "trigger"]
        if not triggered:
            return None
        from cdc_sync.source.backlog import changelog_backlog

        found = changelog_backlog(self._source(), self.settings.source, triggered, BACKLOG_CAP)
        now = dt.datetime.now(dt.UTC)
        return {
            name: Backlog(
                rows,
                rows >= BACKLOG_CAP,
                oldest.isoformat(timespec="seconds") if oldest else None,
                round((now - oldest).total_seconds(), 1) if oldest else None,
            )
            for name, (rows, oldest) in found.items()
        }

    def _source(self) -> Any:
        from cdc_sync.source.database import create_source_engine, missing_sqlite_file

        missing = missing_sqlite_file(self.settings.source)
        if missing:
            raise Unreadable(missing)
        if self._engine is None:
            self._engine = create_source_engine(self.settings.source)
        return self._engine

    def _newest_modified(self) -> dict[str, Any] | None:
        timed = [t for t in self.settings.tables if t.capture == "timestamp"]
        if not timed:
            return None
        if self._newest is None:
            from cdc_sync.source.newest import NewestModified

            self._newest = NewestModified(self._source())
        return dict(self._newest.read(timed))

    def _oldest(self, lag: GroupLag) -> dict[Partition, int]:
        """The Kafka timestamp of the first record still to apply, per pending partition."""
        if self._times is None:
            from cdc_sync.kafka.record_times import RecordTimes

            self._times = RecordTimes(self.settings.kafka, self.timeout_s)
        spans = {
            Partition(p.topic, p.partition): (p.end - p.pending, p.end)
            for p in lag.partitions
            if p.pending
        }
        return dict(self._times.first(spans))

    def _lag(self) -> GroupLag:
        from cdc_sync.kafka.groups import GroupOffsets
        from cdc_sync.kafka.lag import group_lag

        if self._offsets is None:
            self._offsets = GroupOffsets(self.settings.kafka, timeout_s=self.timeout_s)
        topics = self.settings.topics()
        return group_lag(self._offsets, self.settings.kafka.group_id, topics)

    def _watermarks(self, store: StateStore) -> dict[str, tuple[Any, dt.datetime]]:
        found = {}
        for table in self.settings.tables:
            if table.capture == "timestamp":
                entry = store.watermark_entry(f"timestamp:{table.qualified_name}")
                if entry is not None:
                    found[table.qualified_name] = entry
        return found


def _leases(store: StateStore) -> list[LeaseState]:
    return [
        LeaseState(x.name, x.holder, x.run_id, x.expires_at.isoformat(timespec="seconds"))
        for x in store.all_leases()
    ]


def _with_live(stored: list[TableReport], live: Reports) -> list[TableReport]:
    now = dt.datetime.now(dt.UTC)
    kept = [r for r in stored if (r.table_name, r.component, r.holder) not in live]
    return kept + [TableReport(t, c, h, now, dict(v)) for (t, c, h), v in live.items()]


def _attempt(part: str, read: Callable[[], T], unavailable: dict[str, str]) -> T | None:
    try:
        return read()
    except Exception as exc:
        first = (str(exc).splitlines() or [""])[0][:300]
        reason = first if isinstance(exc, Unreadable) else f"{type(exc).__name__}: {first}"
        unavailable.setdefault(part, reason.rstrip(": "))
        log.debug("status: %s unavailable: %s", part, first)
        return None
