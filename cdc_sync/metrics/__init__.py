"""Prometheus metrics of the services, on the process-global default registry.

Names are a closed vocabulary (``MetricName``); the services call the small
functions below once per batch with counts, never once per event. Label
children are cached so a call is a dict lookup and an atomic add.

The ground floor: every layer records here, and this package imports nothing else of
cdc-sync (its own `activity`, `latency` and `rate` are what the dashboard and the status
reporter read back; `ops` collects the rest at scrape time).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Literal, get_args

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

from cdc_sync.metrics.activity import Activity
from cdc_sync.metrics.latency import sampled
from cdc_sync.metrics.rate import RateMeter

MetricName = Literal[
    "cdc_sync_events_applied_total",
    "cdc_sync_events_dead_lettered_total",
    "cdc_sync_events_skipped_total",
    "cdc_sync_retries_total",
    "cdc_sync_tasks_in_flight",
    "cdc_sync_partition_lag",
    "cdc_sync_relay_published_total",
    "cdc_sync_bootstrap_rows_total",
    "cdc_sync_last_error_timestamp_seconds",
    "cdc_sync_batch_seconds",
    "cdc_sync_verify_rows_read_total",
    "cdc_sync_verify_drift_total",
    "cdc_sync_verify_repaired_total",
    "cdc_sync_verify_pass_progress_ratio",
    "cdc_sync_verify_last_pass_timestamp_seconds",
]
METRIC_NAMES: tuple[MetricName, ...] = get_args(MetricName)

TableMetricName = Literal[
    # collected at scrape time by ops.table_metrics from the per-table view and activity
    "cdc_sync_table_documents",
    "cdc_sync_table_lag",
    "cdc_sync_table_lag_seconds",
    "cdc_sync_relay_backlog_rows",
    "cdc_sync_relay_backlog_oldest_seconds",
    "cdc_sync_watermark_age_seconds",
    "cdc_sync_watermark_moved_timestamp_seconds",
    "cdc_sync_watermark_behind_seconds",
    "cdc_sync_last_applied_timestamp_seconds",
    "cdc_sync_change_latency_seconds",
    "cdc_sync_last_run_timestamp_seconds",
    "cdc_sync_verify_differences",
    "cdc_sync_verify_last_pass_drift",
    "cdc_sync_bootstrap_fence_seconds",
]
TABLE_METRIC_NAMES: tuple[TableMetricName, ...] = get_args(TableMetricName)

ServiceMetricName = Literal[
    # collected at scrape time by ops.service_metrics from the status snapshot
    "cdc_sync_ready",
    "cdc_sync_lease_expires_timestamp_seconds",
    "cdc_sync_dlq_guard_tripped_timestamp_seconds",
]
SERVICE_METRIC_NAMES: tuple[ServiceMetricName, ...] = get_args(ServiceMetricName)

Component = Literal["consumer", "relay", "bootstrap", "verifier", "sink", "kafka", "source", "http"]


def _name(name: MetricName) -> str:
    # prometheus_client appends "_total" to counters itself.
    return name.removesuffix("_total")


_APPLIED = Counter(
    _name("cdc_sync_events_applied_total"),
    "Change events applied to Meilisearch (their task succeeded).",
    ["table"],
)
_DEAD_LETTERED = Counter(
    _name("cdc_sync_events_dead_lettered_total"),
    "Records sent to the dead-letter topic, by error code.",
    ["table", "code"],
)
_SKIPPED = Counter(
    _name("cdc_sync_events_skipped_total"),
    "Records that change no row (heartbeats, transaction metadata, schema changes, "
    "tombstones without a key), skipped, by kind.",
    ["table", "kind"],
)
_RETRIES = Counter(
    _name("cdc_sync_retries_total"),
    "Retries after transient faults, by component and cause.",
    ["component", "cause"],
)
_TASKS = Gauge(_name("cdc_sync_tasks_in_flight"), "Meilisearch tasks enqueued and not yet done.")
_LAG = Gauge(
    _name("cdc_sync_partition_lag"),
    "End offset minus committed offset, per partition.",
    ["topic", "partition"],
)
_PUBLISHED = Counter(
    _name("cdc_sync_relay_published_total"),
    "Change events the relay published and Kafka acknowledged.",
    ["table"],
)
_BOOTSTRAP = Counter(_name("cdc_sync_bootstrap_rows_total"), "Rows loaded by bootstrap.", ["table"])
_LAST_ERROR = Gauge(
    _name("cdc_sync_last_error_timestamp_seconds"),
    "Unix time of the last error reported by a component.",
    ["component"],
)
_BATCH = Histogram(
    _name("cdc_sync_batch_seconds"),
    "Time from fetching a batch to its documents being applied.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

_VERIFY_ROWS = Counter(
    _name("cdc_sync_verify_rows_read_total"),
    "Rows read from the source by the continuous verifier.",
    ["table"],
)
_VERIFY_DRIFT = Counter(
    _name("cdc_sync_verify_drift_total"),
    "Drift the continuous verifier found (missing, extra, differing documents).",
    ["table", "kind"],
)
_VERIFY_REPAIRED = Counter(
    _name("cdc_sync_verify_repaired_total"),
    "Drift the continuous verifier repaired (through the stream, or written under a fence).",
    ["table", "kind"],
)
_VERIFY_PROGRESS = Gauge(
    _name("cdc_sync_verify_pass_progress_ratio"),
    "Position of the current verify pass, 0..1 (1 between passes).",
    ["table"],
)
_VERIFY_LAST_PASS = Gauge(
    _name("cdc_sync_verify_last_pass_timestamp_seconds"),
    "Unix time the last complete verify pass of the table ended.",
    ["table"],
)

APPLIED_RATE = RateMeter()
"""Events applied per second over the last minute (the dashboard's throughput)."""
PUBLISHED_RATE = RateMeter()
"""Events published per second over the last minute."""
VERIFY_RATE = RateMeter()
"""Source rows the continuous verifier read per second over the last minute."""
APPLIED_ACTIVITY = Activity("applied")
"""Per table, this process's applied changes, latencies and lag over the last minutes."""
PUBLISHED_ACTIVITY = Activity("published")
"""Per table, this process's published changes over the last minutes."""

_children: dict[tuple[int, tuple[str, ...]], MetricWrapperBase] = {}
_lock = threading.Lock()


def _child(metric: MetricWrapperBase, *labels: str) -> MetricWrapperBase:
    key = (id(metric), labels)
    child = _children.get(key)
    if child is None:
        with _lock:
            child = _children.setdefault(key, metric.labels(*labels))
    return child


def events_applied(
    table: str, n: int, source_ts: Sequence[int] = (), finished_ms: float | None = None
) -> None:
    """`n` events of a batch applied; their source times (epoch ms) and when the task finished
    give the change → searchable latency (a sample of at most 64 per batch)."""
    if n:
        _child(_APPLIED, table).inc(n)  # type: ignore[attr-defined]
        APPLIED_RATE.add(n)
    samples, weight = sampled(source_ts)
    latencies = [finished_ms - ts for ts in samples] if finished_ms is not None else []
    APPLIED_ACTIVITY.count(table, n, latencies, weight)


def table_lag(table: str, lag: int) -> None:
    """This process's lag on the table's partitions it owns (sampled every few seconds)."""
    APPLIED_ACTIVITY.lag(table, lag)


def events_dead_lettered(table: str, reason_code: str, n: int = 1) -> None:
    if n:
        _child(_DEAD_LETTERED, table, reason_code).inc(n)  # type: ignore[attr-defined]


def events_skipped(table: str, kind: str) -> None:
    _child(_SKIPPED, table, kind).inc()  # type: ignore[attr-defined]


def retry(component: Component, cause: str) -> None:
    _child(_RETRIES, component, cause).inc()  # type: ignore[attr-defined]


def tasks_in_flight(n: int) -> None:
    _TASKS.set(n)


def partition_lag(topic: str, partition: int, lag: int) -> None:
    _child(_LAG, topic, str(partition)).set(lag)  # type: ignore[attr-defined]


def forget_partition(topic: str, partition: int) -> None:
    """Drop the lag series of a partition this process no longer owns (after a rebalance)."""
    labels = (topic, str(partition))
    with _lock:
        if _children.pop((id(_LAG), labels), None) is not None:
            _LAG.remove(*labels)


def relay_published(table: str, n: int) -> None:
    if n:
        _child(_PUBLISHED, table).inc(n)  # type: ignore[attr-defined]
        PUBLISHED_RATE.add(n)
        PUBLISHED_ACTIVITY.count(table, n)


def bootstrap_rows(table: str, n: int) -> None:
    if n:
        _child(_BOOTSTRAP, table).inc(n)  # type: ignore[attr-defined]


def last_error(component: Component) -> None:
    _child(_LAST_ERROR, component).set(time.time())  # type: ignore[attr-defined]


def batch_seconds(seconds: float) -> None:
    _BATCH.observe(seconds)


def verify_rows_read(table: str, n: int) -> None:
    if n:
        _child(_VERIFY_ROWS, table).inc(n)  # type: ignore[attr-defined]
        VERIFY_RATE.add(n)


def verify_counters(table: str, kinds: tuple[str, ...]) -> None:
    """The table's verify counters exist at 0 from the start: Prometheus's `increase()` sees
    a counter's first increment only when its series was there before it."""
    _child(_VERIFY_ROWS, table)
    for kind in kinds:
        _child(_VERIFY_DRIFT, table, kind)
        _child(_VERIFY_REPAIRED, table, kind)


def verify_drift(table: str, kind: str, n: int) -> None:
    if n:
        _child(_VERIFY_DRIFT, table, kind).inc(n)  # type: ignore[attr-defined]


def verify_repaired(table: str, kind: str, n: int) -> None:
    if n:
        _child(_VERIFY_REPAIRED, table, kind).inc(n)  # type: ignore[attr-defined]


def verify_progress(table: str, ratio: float) -> None:
    _child(_VERIFY_PROGRESS, table).set(ratio)  # type: ignore[attr-defined]


def verify_last_pass(table: str, ended_at: float) -> None:
    _child(_VERIFY_LAST_PASS, table).set(ended_at)  # type: ignore[attr-defined]
