import datetime as dt

from cdc_sync.config import BootstrapSettings, Settings
from cdc_sync.kafka.lag import GroupLag, PartitionLag
from cdc_sync.kafka.types import Partition
from cdc_sync.ops.latency import LatencyHistogram
from cdc_sync.ops.tables import Backlog, Parts, assemble
from cdc_sync.state.records import Run, TableReport

NOW = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
SETTINGS = Settings.model_validate(
    {
        "source": {"url": "sqlite:///x.db"},
        "kafka": {"bootstrap_servers": "k:9092"},
        "meilisearch": {"url": "http://m:7700"},
        "tables": [
            {"name": "A", "schema": "APP", "primary_key": ["ID"]},
            {
                "name": "B",
                "schema": "APP",
                "primary_key": ["ID"],
                "capture": "timestamp",
                "modified_column": "MODIFIED",
            },
        ],
    }
)


def _histogram(ms: float, n: int) -> dict[str, float]:
    histogram = LatencyHistogram()
    histogram.add(ms, n)
    return histogram.to_sparse()


def _report(table: str, component: str, holder: str, age_s: float, **values: object) -> TableReport:
    return TableReport(table, component, holder, NOW - dt.timedelta(seconds=age_s), dict(values))


def test_each_table_combines_its_parts() -> None:
    at = NOW.timestamp()
    parts = Parts(
        documents={"a": 10, "b": 3},
        backlog={"APP.A": Backlog(4, False, "2024-05-01T09:59:00+00:00", 60.0)},
        watermarks={"APP.B": ({"iso": "2024-05-01T09:58:00", "kind": "datetime"}, NOW)},
        lag=GroupLag(
            "g",
            [
                PartitionLag.of(Partition("cdc.APP.A", 0), 5, 0, 7),
                PartitionLag.of(Partition("cdc.APP.A", 1), None, 0, 3),
            ],
            ["cdc.APP.B"],
        ),
        reports=[
            _report(
                "APP.A",
                "consumer",
                "h:1",
                2,
                last_applied_at=at - 30,
                latency=_histogram(40, 90),
                window_s=300,
            ),
            _report(
                "APP.A",
                "consumer",
                "h:2",
                3,
                last_applied_at=at - 5,
                latency=_histogram(400, 10),
                window_s=300,
            ),
            # stopped long ago: its time counts, its latencies no longer do
            _report(
                "APP.A",
                "consumer",
                "h:3",
                600,
                last_applied_at=at - 600,
                latency=_histogram(9000, 1000),
            ),
            _report("APP.A", "relay", "h:4", 1, last_published_at=at - 1, notes={"sweep_s": 2}),
        ],
        runs=[
            Run(
                1,
                "bootstrap",
                "APP.A",
                "h",
                "succeeded",
                NOW,
                NOW,
                10,
                0,
                None,
                {"documents": 10, "mode": "swap", "fence_s": 0.84},
            ),
            Run(
                2,
                "verify",
                "APP.A",
                "h",
                "succeeded",
                NOW,
                NOW,
                10,
                0,
                None,
                {"in_sync": False, "missing": 2, "extra": 1},
            ),
            Run(3, "bootstrap", "APP.B", "h", "failed", NOW, None, 0, 0, "source lost", None),
        ],
    )
    a, b = assemble(SETTINGS, parts, NOW)

    assert (a.capture, a.index, a.topic, a.documents) == ("trigger", "a", "cdc.APP.A", 10)
    assert a.backlog is not None and a.backlog.rows == 4 and a.watermark is None
    assert a.lag == 2 + 3 and len(a.partitions) == 2  # nothing committed on [1]: all 3 count
    assert a.last_applied_at == "2024-05-01T09:59:55+00:00"
    assert a.last_published_at == "2024-05-01T09:59:59+00:00"
    assert a.latency is not None and a.latency.changes == 100
    assert 30 <= a.latency.p50_ms <= 50 and 300 <= a.latency.p99_ms <= 400
    assert a.bootstrap is not None and a.bootstrap.fence_s == 0.84
    assert a.bootstrap.summary == "10 documents (swap); the fence held live changes 0.84s"
    assert a.verify is not None and a.verify.differences == 3
    assert a.verify.summary == "NOT in sync: 2 missing, 1 extra"
    assert a.extra == {"relay": {"sweep_s": 2}}

    assert b.backlog is None and b.lag == 0 and b.partitions == []
    assert b.watermark is not None and b.watermark.value == "2024-05-01T09:58:00"
    assert b.watermark.age_s == 120.0 and b.watermark.moved_age_s == 0.0
    assert b.bootstrap is not None and b.bootstrap.status == "failed"
    assert b.bootstrap.error == "source lost" and b.latency is None


def test_unreadable_parts_leave_fields_empty() -> None:
    a, _ = assemble(SETTINGS, Parts(), NOW)
    assert a.documents is None and a.lag is None and a.backlog is None and a.latency is None


def test_a_fence_held_longer_than_the_setting_is_marked() -> None:
    long_run = Run(
        5, "bootstrap", "APP.A", "h", "succeeded", NOW, NOW, 1, 0, None, {"fence_s": 7.5}
    )
    settings = SETTINGS.model_copy(update={"bootstrap": BootstrapSettings(fence_warn_s=5)})
    a = assemble(settings, Parts(runs=[long_run]), NOW)[0]
    assert a.bootstrap is not None and a.bootstrap.fence_s == 7.5
    assert a.bootstrap.summary.endswith(
        "the fence held live changes 7.50s, over bootstrap.fence_warn_s (5s)"
    )
