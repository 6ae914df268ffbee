"""Service-level Prometheus metrics, collected at scrape time from the status snapshot.

What `up` cannot say: whether the service is ready (its /readyz), every lease in the
state store with its expiry (a lease still there past it was never released: its holder
was killed or hangs), and when the dead-letter ratio guard last stopped a consumer of the
group. The last two are read from the state store, so every service exports them alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cdc_sync.ops.metrics import ServiceMetricName
from cdc_sync.ops.status import StatusProvider


def _gauge(name: ServiceMetricName, help_text: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, labels=labels)


def _epoch(moment: str) -> float:
    return dt.datetime.fromisoformat(moment).timestamp()


class ServiceCollector(Collector):
    def __init__(self, provider: StatusProvider) -> None:
        self._provider = provider

    def collect(self) -> Iterator[Metric]:
        snapshot = self._provider()
        ready = _gauge(
            "cdc_sync_ready",
            "1 while the service is ready (its /readyz answers 200).",
            ["component"],
        )
        ready.add_metric([snapshot.component], 1.0 if snapshot.ready else 0.0)
        leases = _gauge(
            "cdc_sync_lease_expires_timestamp_seconds",
            "Unix time a lease in the state store expires unless renewed (one kept past it "
            "was never released).",
            ["lease", "holder"],
        )
        for lease in snapshot.leases:
            leases.add_metric([lease.name, lease.holder], _epoch(lease.expires_at))
        yield from (ready, leases)
        if snapshot.dlq_guard_tripped_at is not None:
            tripped = _gauge(
                "cdc_sync_dlq_guard_tripped_timestamp_seconds",
                "Unix time the dead-letter ratio guard (consumer.dlq_max_ratio) last stopped "
                "a consumer of the group.",
                [],
            )
            tripped.add_metric([], _epoch(snapshot.dlq_guard_tripped_at))
            yield tripped
