"""Per-table Prometheus metrics, collected at scrape time from the status view.

The gauges come from the same per-table view as `status` (cached for a few
seconds, so a scrape costs next to nothing); every service exports them alike.
The latency histogram is this process's own (every change it applied since it
started), so Prometheus sums it over all consumers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from cdc_sync.metrics import TableMetricName
from cdc_sync.metrics.activity import Activity
from cdc_sync.metrics.latency import PROMETHEUS_BOUNDS_MS
from cdc_sync.ops.tables import TableStatus, Watermark


def _gauge(name: TableMetricName, help_text: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, labels=labels)


def _epoch(moment: str | None) -> float | None:
    return None if moment is None else dt.datetime.fromisoformat(moment).timestamp()


class TableCollector(Collector):
    def __init__(self, tables: Callable[[], list[TableStatus]], activity: Activity | None) -> None:
        self._tables = tables
        self._activity = activity

    def collect(self) -> Iterator[Metric]:
        documents = _gauge(
            "cdc_sync_table_documents", "Documents in the index.", ["table", "index"]
        )
        lag = _gauge(
            "cdc_sync_table_lag",
            "Records the group has yet to apply on the table's topic.",
            ["table"],
        )
        lag_s = _gauge(
            "cdc_sync_table_lag_seconds",
            "Age of the oldest record the group has yet to apply on the table's topic "
            "(now minus its Kafka timestamp); 0 when none is pending.",
            ["table"],
        )
        backlog = _gauge(
            "cdc_sync_relay_backlog_rows",
            "Changed rows waiting for the relay (a packed change-log row counts each key).",
            ["table"],
        )
        oldest = _gauge(
            "cdc_sync_relay_backlog_oldest_seconds",
            "Age of the oldest change-log row waiting for the relay.",
            ["table"],
        )
        watermark = _gauge(
            "cdc_sync_watermark_age_seconds",
            "Now minus the timestamp-mode watermark (newest modified time published).",
            ["table"],
        )
        moved = _gauge(
            "cdc_sync_watermark_moved_timestamp_seconds",
            "Unix time the timestamp-mode watermark last moved.",
            ["table"],
        )
        behind = _gauge(
            "cdc_sync_watermark_behind_seconds",
            "Newest modified time in the source minus the watermark (above 0: changes the "
            "relay has not published).",
            ["table"],
        )
        applied = _gauge(
            "cdc_sync_last_applied_timestamp_seconds",
            "Unix time a consumer last applied a change of the table.",
            ["table"],
        )
        runs = _gauge(
            "cdc_sync_last_run_timestamp_seconds",
            "Unix time the latest bootstrap or verify run of the table ended (or started).",
            ["table", "kind", "status"],
        )
        differences = _gauge(
            "cdc_sync_verify_differences",
            "Missing, extra and differing documents found by the latest verify.",
            ["table"],
        )
        drift = _gauge(
            "cdc_sync_verify_last_pass_drift",
            "Drift found by the last complete continuous-verify pass, by kind.",
            ["table", "kind"],
        )
        fence = _gauge(
            "cdc_sync_bootstrap_fence_seconds",
            "How long the latest bootstrap's fence held the table's live changes.",
            ["table"],
        )
        for t in self._tables():
            if t.documents is not None:
                documents.add_metric([t.table, t.index], t.documents)
            if t.lag is not None:
                lag.add_metric([t.table], t.lag)
            if t.lag_s is not None:
                lag_s.add_metric([t.table], t.lag_s)
            if t.backlog is not None:
                backlog.add_metric([t.table], t.backlog.rows)
                oldest.add_metric([t.table], t.backlog.oldest_age_s or 0.0)
            if t.watermark is not None:
                self._watermark(t.table, t.watermark, watermark, moved, behind)
            if (at := _epoch(t.last_applied_at)) is not None:
                applied.add_metric([t.table], at)
            for kind, run in (("bootstrap", t.bootstrap), ("verify", t.verify)):
                if run is not None:
                    runs.add_metric([t.table, kind, run.status], _epoch(run.at) or 0.0)
            if t.verify is not None and t.verify.differences is not None:
                differences.add_metric([t.table], t.verify.differences)
            if t.bootstrap is not None and t.bootstrap.fence_s is not None:
                fence.add_metric([t.table], t.bootstrap.fence_s)
            if t.verify_pass is not None and t.verify_pass.last is not None:
                for kind, n in t.verify_pass.last["found"].items():
                    drift.add_metric([t.table, kind], n)
        yield from (documents, lag, lag_s, backlog, oldest, watermark, moved, behind, applied)
        yield from (runs, differences, drift, fence, self._latency())

    @staticmethod
    def _watermark(
        table: str,
        mark: Watermark,
        age: GaugeMetricFamily,
        moved: GaugeMetricFamily,
        behind: GaugeMetricFamily,
    ) -> None:
        if mark.age_s is not None:
            age.add_metric([table], mark.age_s)
        moved.add_metric([table], _epoch(mark.moved_at) or 0.0)
        if mark.behind_s is not None:
            behind.add_metric([table], mark.behind_s)

    def _latency(self) -> HistogramMetricFamily:
        name: TableMetricName = "cdc_sync_change_latency_seconds"
        family = HistogramMetricFamily(
            name,
            "Change → searchable: the event's source time to its Meilisearch task's success.",
            labels=["table"],
        )
        totals = self._activity.latency_totals() if self._activity is not None else {}
        for table, histogram in sorted(totals.items()):
            buckets = [
                (str(bound / 1000), count)
                for bound, count in histogram.cumulative(PROMETHEUS_BOUNDS_MS)
            ]
            buckets.append(("+Inf", histogram.total))
            family.add_metric([table], buckets, sum_value=histogram.sum_ms / 1000)
        return family
