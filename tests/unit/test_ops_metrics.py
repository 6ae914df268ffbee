from prometheus_client import REGISTRY, generate_latest

from cdc_sync.ops import metrics
from cdc_sync.ops.rate import RateMeter


def _value(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    return value or 0.0


def test_every_typed_name_is_exported() -> None:
    metrics.events_applied("T", 1)
    metrics.events_dead_lettered("T", "mapping", 1)
    metrics.retry("consumer", "meilisearch")
    metrics.tasks_in_flight(1)
    metrics.partition_lag("topic", 0, 5)
    metrics.relay_published("T", 1)
    metrics.bootstrap_rows("T", 1)
    metrics.last_error("consumer")
    metrics.batch_seconds(0.1)
    text = generate_latest().decode()
    for name in metrics.METRIC_NAMES:
        assert name in text, name
    assert all(n.startswith("cdc_sync_") for n in metrics.METRIC_NAMES)


def test_counts_per_batch() -> None:
    before = _value("cdc_sync_events_applied_total", table="APP.X")
    metrics.events_applied("APP.X", 500)
    metrics.events_applied("APP.X", 0)
    assert _value("cdc_sync_events_applied_total", table="APP.X") == before + 500


def test_lag_series_can_be_forgotten() -> None:
    metrics.partition_lag("gone", 3, 42)
    assert _value("cdc_sync_partition_lag", topic="gone", partition="3") == 42
    metrics.forget_partition("gone", 3)
    assert (
        REGISTRY.get_sample_value("cdc_sync_partition_lag", {"topic": "gone", "partition": "3"})
        is None
    )
    metrics.forget_partition("gone", 3)  # twice is fine


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_over_the_last_minute() -> None:
    clock = Clock()
    meter = RateMeter(60, clock)
    clock.now += 10
    meter.add(100)
    assert meter.rate() == 10.0  # 100 events over the 10 s since start
    clock.now += 50
    meter.add(500)
    assert meter.rate() == 10.0  # 600 over 60 s
    clock.now += 30
    assert meter.rate() == 500 / 60  # the first batch has left the window
    clock.now += 120
    assert meter.rate() == 0.0


def test_every_table_metric_is_collected() -> None:
    from prometheus_client import CollectorRegistry

    from cdc_sync.ops.activity import Activity
    from cdc_sync.ops.table_metrics import TableCollector
    from cdc_sync.ops.tables import Backlog, RunResult, TableStatus, Watermark

    activity = Activity("applied")
    activity.count("APP.X", 3, [20.0, 40.0, 2000.0])
    table = TableStatus(
        "APP.X",
        "x",
        "trigger",
        "cdc.APP.X",
        documents=5,
        backlog=Backlog(2, False, "2024-05-01T10:00:00+00:00", 3.0),
        watermark=Watermark("2024-05-01T10:00:00", 9.0, "2024-05-01T10:00:00+00:00", 1.0),
        lag=4,
        last_applied_at="2024-05-01T10:00:00+00:00",
        verify=RunResult(
            1, "succeeded", "2024-05-01T10:00:00+00:00", 5, "NOT in sync: 2 missing", None, 2
        ),
        bootstrap=RunResult(
            2, "succeeded", "2024-05-01T10:00:00+00:00", 5, "5 documents", None, fence_s=0.84
        ),
    )
    registry = CollectorRegistry()
    registry.register(TableCollector(lambda: [table], activity))
    text = generate_latest(registry).decode()
    for name in metrics.TABLE_METRIC_NAMES:
        assert name in text, name
    assert registry.get_sample_value("cdc_sync_verify_differences", {"table": "APP.X"}) == 2
    fence = registry.get_sample_value("cdc_sync_bootstrap_fence_seconds", {"table": "APP.X"})
    assert fence == 0.84
    bucket = {"table": "APP.X", "le": "0.05"}
    assert registry.get_sample_value("cdc_sync_change_latency_seconds_bucket", bucket) == 2
    assert (
        registry.get_sample_value("cdc_sync_change_latency_seconds_count", {"table": "APP.X"}) == 3
    )
