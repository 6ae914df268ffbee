"""Per-table status: one view an on-call engineer can act on, from wherever each number lives.

`status` may run in a process of its own, so every number is read from where
it is kept, never from another process's memory (docs/operations.md has the
table):

- capture mode, index, topic: the config;
- documents: Meilisearch's index stats;
- relay backlog and its oldest change (trigger mode): the source's change log;
- watermark and when it moved (timestamp mode): the state store;
- consumer lag of the table's partitions: Kafka (committed and end offsets);
- last applied change and change → searchable latency: what each consumer
  reports to the state store every few seconds (``ops.activity``);
- latest bootstrap and verify: their runs in the state store;
- ``extra``: per-table notes services publish with their reports.

A part that cannot be read leaves its fields empty and is named, with the
reason, in ``unavailable``: the rest still shows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cdc_sync.config import Settings, TableSettings
from cdc_sync.kafka.lag import GroupLag, PartitionLag
from cdc_sync.ops.latency import LatencyHistogram
from cdc_sync.state.store import Run, StateStore, TableReport

log = logging.getLogger(__name__)
T = TypeVar("T")

BACKLOG_CAP = 100_000
"""Change-log rows counted per table at most, so a huge backlog costs a bounded query."""
FRESH_S = 60.0
"""A report older than this no longer counts for latency (its process has stopped)."""

Reports = Mapping[tuple[str, str, str], Mapping[str, Any]]
"""(table, component, holder) → report values: a running service's own, fresher than stored."""


class Unreadable(Exception):
    """A part that cannot be read, for a reason the message says in full."""


@dataclass(frozen=True, slots=True)
class Backlog:
    rows: int
    capped: bool
    """True when there are at least `rows` (counting stopped at BACKLOG_CAP)."""
    oldest_at: str | None
    oldest_age_s: float | None


@dataclass(frozen=True, slots=True)
class Watermark:
    value: str
    age_s: float | None
    """Now minus the watermark, for time-valued modified columns (naive times are UTC)."""
    moved_at: str
    moved_age_s: float


@dataclass(frozen=True, slots=True)
class Latency:
    p50_ms: float
    p90_ms: float
    p99_ms: float
    changes: int
    window_s: int


@dataclass(frozen=True, slots=True)
class RunResult:
    id: int
    status: str
    at: str
    """When it ended (or started, while it runs)."""
    rows: int
    summary: str
    error: str | None
    differences: int | None = None
    """Verify: missing + extra + differing documents found."""


@dataclass(frozen=True, slots=True)
class TableStatus:
    table: str
    index: str
    capture: str
    topic: str
    documents: int | None = None
    backlog: Backlog | None = None
    watermark: Watermark | None = None
    lag: int | None = None
    """Records the group has yet to apply on this table's partitions (`cdc-sync lag`'s pending)."""
    partitions: list[PartitionLag] = field(default_factory=list)
    last_applied_at: str | None = None
    last_published_at: str | None = None
    latency: Latency | None = None
    bootstrap: RunResult | None = None
    verify: RunResult | None = None
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Component → the notes its processes published for this table."""


@dataclass(frozen=True, slots=True)
class TablesView:
    tables: list[TableStatus]
    unavailable: dict[str, str] = field(default_factory=dict)
    """Part (meilisearch, source, kafka, state) → why it could not be read."""


@dataclass
class Parts:
    """The raw readings `assemble` combines (each None when it could not be read)."""

    documents: dict[str, int | None] | None = None
    backlog: dict[str, Backlog] | None = None
    watermarks: dict[str, tuple[Any, dt.datetime]] | None = None
    lag: GroupLag | None = None
    reports: list[TableReport] | None = None
    runs: list[Run] | None = None


def assemble(settings: Settings, parts: Parts, now: dt.datetime) -> list[TableStatus]:
    """The per-table view from the raw readings (pure)."""
    prefix = settings.kafka.topic_prefix
    out = []
    for table in settings.tables:
        name, topic = table.qualified_name, table.topic_name(prefix)
        reports = [r for r in parts.reports or [] if r.table_name == name]
        partitions = parts.lag.of_topic(topic) if parts.lag else []
        out.append(
            TableStatus(
                table=name,
                index=table.index_uid,
                capture=table.capture,
                topic=topic,
                documents=(parts.documents or {}).get(table.index_uid),
                backlog=(parts.backlog or {}).get(name) if table.capture == "trigger" else None,
                watermark=_watermark(table, parts.watermarks, now),
                lag=sum(p.pending for p in partitions) if parts.lag else None,
                partitions=partitions,
                last_applied_at=_latest(reports, "consumer", "last_applied_at"),
                last_published_at=_latest(reports, "relay", "last_published_at"),
                latency=_latency(reports, now),
                bootstrap=_run_result(parts.runs, "bootstrap", name),
                verify=_run_result(parts.runs, "verify", name),
                extra=_extra(reports),
            )
        )
    return out


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _watermark(
    table: TableSettings, found: dict[str, tuple[Any, dt.datetime]] | None, now: dt.datetime
) -> Watermark | None:
    if table.capture != "timestamp" or not found or table.qualified_name not in found:
        return None
    from cdc_sync.source.timestamp import load_value

    stored, moved = found[table.qualified_name]
    value = load_value(stored)
    age = None
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        age = round((now - aware).total_seconds(), 1)
    shown = value.isoformat() if isinstance(value, dt.date) else str(value)
    return Watermark(shown, age, _iso(moved), round((now - moved).total_seconds(), 1))


def _latest(reports: list[TableReport], component: str, key: str) -> str | None:
    moments = [r.values[key] for r in reports if r.component == component and r.values.get(key)]
    if not moments:
        return None
    return _iso(dt.datetime.fromtimestamp(max(moments), dt.UTC))


def _latency(reports: list[TableReport], now: dt.datetime) -> Latency | None:
    merged = LatencyHistogram()
    window = 0
    for report in reports:
        fresh = (now - report.updated_at).total_seconds() <= FRESH_S
        if report.component == "consumer" and fresh and report.values.get("latency"):
            merged.merge(LatencyHistogram.from_sparse(report.values["latency"]))
            window = max(window, int(report.values.get("window_s", 0)))
    p50, p90, p99 = (merged.quantile(q) for q in (0.5, 0.9, 0.99))
    if p50 is None or p90 is None or p99 is None:
        return None
    return Latency(round(p50, 1), round(p90, 1), round(p99, 1), round(merged.total), window)


def _run_result(runs: list[Run] | None, kind: str, table: str) -> RunResult | None:
    found = [r for r in runs or [] if r.kind == kind and r.table_name == table]
    if not found:
        return None
    run = max(found, key=lambda r: r.id)
    details = run.details or {}
    differences = None
    if kind == "verify" and "in_sync" in details:
        differences = sum(int(details.get(k, 0)) for k in ("missing", "extra", "differing"))
    return RunResult(
        run.id,
        run.status,
        _iso(run.ended_at or run.started_at),
        run.rows,
        run_summary(run),
        run.error,
        differences,
    )


def run_summary(run: Run) -> str:
    """One line on what a bootstrap or verify run found."""
    details = run.details or {}
    if run.status == "running":
        return f"running, {run.rows:,} rows so far"
    if run.kind == "verify" and "in_sync" in details:
        if details["in_sync"]:
            return "in sync"
        counts = ", ".join(
            f"{details.get(k, 0)} {k}" for k in ("missing", "extra", "differing") if details.get(k)
        )
        return f"NOT in sync: {counts}" + (" (repaired)" if details.get("repaired") else "")
    if run.kind == "bootstrap" and "documents" in details:
        return f"{details['documents']:,} documents ({details.get('mode', 'swap')})"
    return run.status


def _extra(reports: list[TableReport]) -> dict[str, dict[str, Any]]:
    """Each component's notes, the freshest report winning per note."""
    extra: dict[str, dict[str, Any]] = {}
    for report in sorted(reports, key=lambda r: r.updated_at):
        notes = report.values.get("notes")
        if notes:
            extra.setdefault(report.component, {}).update(notes)
    return extra


class TableStatusReader:
    """Reads the parts from Meilisearch, the source, Kafka and the state store (any process)."""

    def __init__(self, settings: Settings, timeout_s: float = 5.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._engine: Any = None
        self._offsets: Any = None

    def read(self, live: Reports | None = None) -> TablesView:
        unavailable: dict[str, str] = {}
        parts = Parts(
            documents=_attempt("meilisearch", self._documents, unavailable),
            backlog=_attempt("source", self._backlog, unavailable),
            lag=_attempt("kafka", self._lag, unavailable),
        )
        store = _attempt("state", lambda: StateStore(self.settings.state.url), unavailable)
        if store is not None:
            try:
                parts.watermarks = _attempt("state", lambda: self._watermarks(store), unavailable)
                parts.reports = _attempt("state", store.table_reports, unavailable)
                parts.runs = _attempt(
                    "state", lambda: store.latest_runs(("bootstrap", "verify")), unavailable
                )
            finally:
                store.close()
        if live:
            parts.reports = _with_live(parts.reports or [], live)
        now = dt.datetime.now(dt.UTC)
        return TablesView(assemble(self.settings, parts, now), unavailable)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def _documents(self) -> dict[str, int | None]:
        from cdc_sync.sink.meili import meili_client

        stats = meili_client(self.settings.meilisearch).get_all_stats().get("indexes", {})
        return {uid: s.get("numberOfDocuments") for uid, s in stats.items()}

    def _backlog(self) -> dict[str, Backlog] | None:
        triggered = [t.qualified_name for t in self.settings.tables if t.capture == "trigger"]
        if not triggered:
            return None
        from cdc_sync.source.backlog import changelog_backlog
        from cdc_sync.source.database import create_source_engine, missing_sqlite_file

        missing = missing_sqlite_file(self.settings.source)
        if missing:
            raise Unreadable(missing)
        if self._engine is None:
            self._engine = create_source_engine(self.settings.source, pool_size=1)
        found = changelog_backlog(self._engine, self.settings.source, triggered, BACKLOG_CAP)
        now = dt.datetime.now(dt.UTC)
        return {
            name: Backlog(
                rows,
                rows >= BACKLOG_CAP,
                _iso(oldest) if oldest else None,
                round((now - oldest).total_seconds(), 1) if oldest else None,
            )
            for name, (rows, oldest) in found.items()
        }

    def _lag(self) -> GroupLag:
        from cdc_sync.kafka.groups import GroupOffsets
        from cdc_sync.kafka.lag import group_lag

        if self._offsets is None:
            self._offsets = GroupOffsets(self.settings.kafka, timeout_s=self.timeout_s)
        topics = [t.topic_name(self.settings.kafka.topic_prefix) for t in self.settings.tables]
        return group_lag(self._offsets, self.settings.kafka.group_id, topics)

    def _watermarks(self, store: StateStore) -> dict[str, tuple[Any, dt.datetime]]:
        found = {}
        for table in self.settings.tables:
            if table.capture == "timestamp":
                entry = store.watermark_entry(f"timestamp:{table.qualified_name}")
                if entry is not None:
                    found[table.qualified_name] = entry
        return found


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
