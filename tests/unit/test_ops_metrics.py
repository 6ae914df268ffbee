import datetime as dt

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from cdc_sync import metrics
from cdc_sync.metrics.rate import RateMeter


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
    from cdc_sync.metrics.activity import Activity
    from cdc_sync.ops.table_metrics import TableCollector
    from cdc_sync.ops.tables import Backlog, RunResult, TableStatus, VerifyPass, Watermark

    activity = Activity("applied")
    activity.count("APP.X", 3, [20.0, 40.0, 2000.0])
    table = TableStatus(
        "APP.X",
        "x",
        "trigger",
        "cdc.APP.X",
        documents=5,
        backlog=Backlog(2, False, "2024-05-01T10:00:00+00:00", 3.0),
        watermark=Watermark(
            "2024-05-01T10:00:00", 9.0, "2024-05-01T10:00:00+00:00", 1.0, behind_s=30.0
        ),
        lag=4,
        lag_s=12.5,
        last_applied_at="2024-05-01T10:00:00+00:00",
        verify=RunResult(
            1, "succeeded", "2024-05-01T10:00:00+00:00", 5, "NOT in sync: 2 missing", None, 2
        ),
        bootstrap=RunResult(
            2, "succeeded", "2024-05-01T10:00:00+00:00", 5, "5 documents", None, fence_s=0.84
        ),
        verify_pass=VerifyPass(
            None,
            {"found": {"missing": 1, "extra": 0, "differing": 3}, "repaired": {}},
            "2024-05-01T10:00:00+00:00",
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
    assert registry.get_sample_value("cdc_sync_table_lag_seconds", {"table": "APP.X"}) == 12.5
    assert registry.get_sample_value("cdc_sync_watermark_behind_seconds", {"table": "APP.X"}) == 30
    moved = dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC).timestamp()
    labels = {"table": "APP.X"}
    assert registry.get_sample_value("cdc_sync_watermark_moved_timestamp_seconds", labels) == moved
    drift = {"table": "APP.X", "kind": "differing"}
    assert registry.get_sample_value("cdc_sync_verify_last_pass_drift", drift) == 3
    bucket = {"table": "APP.X", "le": "0.05"}
    assert registry.get_sample_value("cdc_sync_change_latency_seconds_bucket", bucket) == 2
    assert (
        registry.get_sample_value("cdc_sync_change_latency_seconds_count", {"table": "APP.X"}) == 3
    )


def test_service_metrics_say_ready_leases_and_the_dead_letter_guard() -> None:
    """What `up` cannot say: whether /readyz answers 200, every lease in the state store with
    its expiry (one held past it has a holder that stopped renewing), and when the dead-letter
    ratio guard last stopped a consumer of the group."""
    from cdc_sync.ops.service_metrics import ServiceCollector
    from cdc_sync.ops.status import StatusSnapshot
    from cdc_sync.ops.tables import LeaseState

    snapshot = StatusSnapshot(
        "relay",
        ready=False,
        leases=[LeaseState("bootstrap:APP.X", "host:42", 7, "2024-05-01T10:00:10+00:00")],
        dlq_guard_tripped_at="2024-05-01T09:00:00+00:00",
    )
    registry = CollectorRegistry()
    registry.register(ServiceCollector(lambda: snapshot))
    assert registry.get_sample_value("cdc_sync_ready", {"component": "relay"}) == 0
    expires = dt.datetime(2024, 5, 1, 10, 0, 10, tzinfo=dt.UTC).timestamp()
    lease = {"lease": "bootstrap:APP.X", "holder": "host:42"}
    assert registry.get_sample_value("cdc_sync_lease_expires_timestamp_seconds", lease) == expires
    tripped = dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC).timestamp()
    assert registry.get_sample_value("cdc_sync_dlq_guard_tripped_timestamp_seconds") == tripped
    for name in metrics.SERVICE_METRIC_NAMES:
        assert name in generate_latest(registry).decode(), name

    quiet = StatusSnapshot("consumer", ready=True)
    registry = CollectorRegistry()
    registry.register(ServiceCollector(lambda: quiet))
    assert registry.get_sample_value("cdc_sync_ready", {"component": "consumer"}) == 1
    assert registry.get_sample_value("cdc_sync_dlq_guard_tripped_timestamp_seconds") is None


def test_a_verified_tables_counters_exist_at_zero_before_any_drift() -> None:
    """Prometheus's `increase()` (the dashboard's drift panel, an alert on new drift) sees a
    counter's first increment only when the series existed before it: a table's verify
    counters start at 0 for every kind."""
    metrics.verify_counters("APP.FRESH", ("missing", "extra", "differing"))
    for name in ("cdc_sync_verify_drift_total", "cdc_sync_verify_repaired_total"):
        for kind in ("missing", "extra", "differing"):
            labels = {"table": "APP.FRESH", "kind": kind}
            assert REGISTRY.get_sample_value(name, labels) == 0, (name, kind)
    assert REGISTRY.get_sample_value("cdc_sync_verify_rows_read_total", {"table": "APP.FRESH"}) == 0
