"""Per-table status: one view an on-call engineer can act on, from wherever each number lives.

`status` may run in a process of its own, so every number is read from where
it is kept, never from another process's memory (docs/operations.md has the
table):

- capture mode, index, topic: the config;
- documents: Meilisearch's index stats;
- relay backlog and its oldest change (trigger mode): the source's change log;
- watermark and when it moved (timestamp mode): the state store;
- consumer lag of the table's partitions: Kafka (committed and end offsets), and its age:
  the Kafka timestamp of the oldest record still to apply;
- last applied change and change → searchable latency: what each consumer
  reports to the state store every few seconds (``metrics.activity``);
- latest bootstrap and verify: their runs in the state store;
- continuous verification (the pass under way, the last one done): the table's
  verify cursor in the state store;
- ``extra``: per-table notes services publish with their reports.

A part that cannot be read leaves its fields empty and is named, with the
reason, in ``unavailable``: the rest still shows. This module combines the
readings (pure); ``ops.table_reader`` takes them.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cdc_sync.config import Settings, TableSettings
from cdc_sync.kafka.lag import GroupLag, PartitionLag
from cdc_sync.kafka.types import Partition
from cdc_sync.metrics.latency import LatencyHistogram
from cdc_sync.state.records import Run, TableReport

log = logging.getLogger(__name__)
T = TypeVar("T")

FRESH_S = 60.0
"""A report older than this no longer counts for latency (its process has stopped)."""


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
    behind_s: float | None = None
    """The newest modified time in the source minus the watermark (time-valued columns):
    above 0, the source holds changes the relay has not published yet."""


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
    fence_s: float | None = None
    """Bootstrap: how long its fence held the table's live changes (None: never raised)."""


@dataclass(frozen=True, slots=True)
class VerifyPass:
    """Continuous verification of a table: the pass under way and the last complete one."""

    current: dict[str, Any] | None
    """position, progress (0..1), rows_read, ids_read, rows_per_s, started_at, found, repaired,
    waiting (why it waits, if it does)."""
    last: dict[str, Any] | None
    """started_at, ended_at, seconds, rows_read, ids_read, found and repaired by kind."""
    updated_at: str


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
    lag_s: float | None = None
    """Age of the oldest of those records (now minus its Kafka timestamp); 0 when none is
    pending; None when unknown."""
    partitions: list[PartitionLag] = field(default_factory=list)
    last_applied_at: str | None = None
    last_published_at: str | None = None
    latency: Latency | None = None
    bootstrap: RunResult | None = None
    verify: RunResult | None = None
    verify_pass: VerifyPass | None = None
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Component → the notes its processes published for this table."""


@dataclass(frozen=True, slots=True)
class LeaseState:
    """A lease in the state store; one past `expires_at` was never released (holder gone)."""

    name: str
    holder: str
    run_id: int | None
    expires_at: str


@dataclass(frozen=True, slots=True)
class TablesView:
    tables: list[TableStatus]
    unavailable: dict[str, str] = field(default_factory=dict)
    """Part (meilisearch, source, kafka, state) → why it could not be read."""
    leases: list[LeaseState] = field(default_factory=list)
    """Every lease in the state store, expired ones included."""
    dlq_guard_tripped_at: str | None = None
    """When the dead-letter ratio guard last stopped a consumer of the group."""


@dataclass
class Parts:
    """The raw readings `assemble` combines (each None when it could not be read)."""

    documents: dict[str, int | None] | None = None
    backlog: dict[str, Backlog] | None = None
    watermarks: dict[str, tuple[Any, dt.datetime]] | None = None
    lag: GroupLag | None = None
    oldest_pending: dict[Partition, int] | None = None
    """Kafka timestamp (epoch ms) of the first record still to apply, per pending partition."""
    newest_modified: dict[str, Any] | None = None
    """Timestamp-capture table → the newest value of its modified column in the source."""
    reports: list[TableReport] | None = None
    runs: list[Run] | None = None
    verify_cursors: dict[str, tuple[dict[str, Any], dt.datetime]] | None = None


def assemble(settings: Settings, parts: Parts, now: dt.datetime) -> list[TableStatus]:
    """The per-table view from the raw readings (pure)."""
    out = []
    for table in settings.tables:
        name, topic = table.qualified_name, settings.topic_of(table)
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
                watermark=_watermark(table, parts, now),
                lag=sum(p.pending for p in partitions) if parts.lag else None,
                lag_s=_lag_s(partitions, parts.oldest_pending, now) if parts.lag else None,
                partitions=partitions,
                last_applied_at=_latest(reports, "consumer", "last_applied_at"),
                last_published_at=_latest(reports, "relay", "last_published_at"),
                latency=_latency(reports, now),
                bootstrap=_run_result(parts.runs, "bootstrap", name, settings),
                verify=_run_result(parts.runs, "verify", name, settings),
                verify_pass=_verify_pass((parts.verify_cursors or {}).get(name), now),
                extra=_extra(reports),
            )
        )
    return out


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _lag_s(
    partitions: list[PartitionLag], oldest: dict[Partition, int] | None, now: dt.datetime
) -> float | None:
    pending = [Partition(p.topic, p.partition) for p in partitions if p.pending]
    if not pending:
        return 0.0
    if oldest is None or any(p not in oldest for p in pending):
        return None
    first_ms = min(oldest[p] for p in pending)
    return round(max(now.timestamp() - first_ms / 1000, 0.0), 1)


def _utc(moment: dt.datetime) -> dt.datetime:
    """Naive times count as UTC (the watermark's age is shown that way)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _watermark(table: TableSettings, parts: Parts, now: dt.datetime) -> Watermark | None:
    found, name = parts.watermarks, table.qualified_name
    if table.capture != "timestamp" or not found or name not in found:
        return None
    from cdc_sync.source.timestamp import load_value

    stored, moved = found[name]
    value = load_value(stored)
    age = behind = None
    if isinstance(value, dt.datetime):
        age = round((now - _utc(value)).total_seconds(), 1)
        newest = (parts.newest_modified or {}).get(name)
        if isinstance(newest, dt.datetime):
            behind = round(max((_utc(newest) - _utc(value)).total_seconds(), 0.0), 1)
    shown = value.isoformat() if isinstance(value, dt.date) else str(value)
    moved_age = round((now - moved).total_seconds(), 1)
    return Watermark(shown, age, _iso(moved), moved_age, behind)


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


def _run_result(
    runs: list[Run] | None, kind: str, table: str, settings: Settings
) -> RunResult | None:
    found = [r for r in runs or [] if r.kind == kind and r.table_name == table]
    if not found:
        return None
    run = max(found, key=lambda r: r.id)
    details = run.details or {}
    differences = None
    if kind == "verify" and "in_sync" in details:
        differences = sum(int(details.get(k, 0)) for k in ("missing", "extra", "differing"))
    fence_s = details.get("fence_s") if kind == "bootstrap" else None
    summary = run_summary(run)
    if fence_s is not None:
        summary += fence_note(float(fence_s), settings.bootstrap.fence_warn_s)
    return RunResult(
        run.id,
        run.status,
        _iso(run.ended_at or run.started_at),
        run.rows,
        summary,
        run.error,
        differences,
        fence_s,
    )


def fence_note(fence_s: float, warn_s: float) -> str:
    over = f", over bootstrap.fence_warn_s ({warn_s:g}s)" if fence_s > warn_s else ""
    return f"; the fence held live changes {fence_s:.2f}s{over}"


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


def _verify_pass(
    found: tuple[dict[str, Any], dt.datetime] | None, now: dt.datetime
) -> VerifyPass | None:
    if found is None:
        return None
    from cdc_sync.verify.cursor import Cursor

    stored, saved = found
    cursor = Cursor.from_json(stored)
    current = None
    if cursor.current is not None:
        state = cursor.current
        elapsed = max(saved.timestamp() - state.started_at, 1e-3)  # as of the last chunk
        current = {
            "started_at": _iso(dt.datetime.fromtimestamp(state.started_at, dt.UTC)),
            "phase": state.phase,
            "position": None if state.position is None else [str(v) for v in state.position],
            "progress": round(state.progress, 4),
            "rows_read": state.rows_read,
            "ids_read": state.ids_read,
            "rows_per_s": round((state.rows_read + state.ids_read) / elapsed, 1),
            "found": state.found,
            "repaired": state.repaired,
            "waiting": state.waiting,
        }
    last = None
    if cursor.last is not None:
        done = cursor.last
        last = {
            **done,
            "started_at": _iso(dt.datetime.fromtimestamp(done["started_at"], dt.UTC)),
            "ended_at": _iso(dt.datetime.fromtimestamp(done["ended_at"], dt.UTC)),
            "seconds": round(done["ended_at"] - done["started_at"], 1),
        }
    return VerifyPass(current, last, _iso(saved))


def _extra(reports: list[TableReport]) -> dict[str, dict[str, Any]]:
    """Each component's notes, the freshest report winning per note."""
    extra: dict[str, dict[str, Any]] = {}
    for report in sorted(reports, key=lambda r: r.updated_at):
        notes = report.values.get("notes")
        if notes:
            extra.setdefault(report.component, {}).update(notes)
    return extra
