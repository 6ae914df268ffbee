import dataclasses
import datetime as dt

from cdc_sync.config import BootstrapSettings, Settings
from cdc_sync.kafka.lag import GroupLag, PartitionLag
from cdc_sync.kafka.types import Partition
from cdc_sync.metrics.latency import LatencyHistogram
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


def test_lag_in_seconds_is_the_age_of_the_oldest_record_still_to_apply() -> None:
    """Per table: now minus the Kafka timestamp of the first record after the committed offset
    (the log start where nothing is committed), the oldest over the table's partitions; 0 when
    nothing is pending, and unknown while a pending partition's record could not be read."""
    ms = int(NOW.timestamp() * 1000)
    p0, p1 = Partition("cdc.APP.A", 0), Partition("cdc.APP.A", 1)
    lag = GroupLag(
        "g",
        [PartitionLag.of(p0, 5, 0, 7), PartitionLag.of(p1, None, 0, 3)],
        [],
    )
    a, b = assemble(
        SETTINGS, Parts(lag=lag, oldest_pending={p0: ms - 90_000, p1: ms - 20_000}), NOW
    )
    assert a.lag_s == 90.0
    assert b.lag_s == 0.0  # no partition of its topic has anything pending

    caught_up = GroupLag("g", [PartitionLag.of(p0, 7, 0, 7)], [])
    a, _ = assemble(SETTINGS, Parts(lag=caught_up, oldest_pending={}), NOW)
    assert a.lag_s == 0.0
    a, _ = assemble(SETTINGS, Parts(lag=lag, oldest_pending={p0: ms - 90_000}), NOW)
    assert a.lag_s is None  # [1] has records pending whose age was not read
    a, _ = assemble(SETTINGS, Parts(lag=lag, oldest_pending={p0: ms + 5_000, p1: ms + 1}), NOW)
    assert a.lag_s == 0.0  # a producer's clock ahead of ours: never negative
    a, _ = assemble(SETTINGS, Parts(lag=lag), NOW)
    assert a.lag_s is None


def test_watermark_behind_the_newest_modified_time_in_the_source() -> None:
    stored = ({"iso": "2024-05-01T09:58:00", "kind": "datetime"}, NOW - dt.timedelta(minutes=7))
    newest = dt.datetime(2024, 5, 1, 9, 59, 30)
    _, b = assemble(
        SETTINGS, Parts(watermarks={"APP.B": stored}, newest_modified={"APP.B": newest}), NOW
    )
    assert b.watermark is not None and b.watermark.behind_s == 90.0
    assert b.watermark.moved_at == "2024-05-01T09:53:00+00:00"
    at_newest = {"APP.B": dt.datetime(2024, 5, 1, 9, 58)}
    _, b = assemble(SETTINGS, Parts(watermarks={"APP.B": stored}, newest_modified=at_newest), NOW)
    assert b.watermark is not None and b.watermark.behind_s == 0.0
    _, b = assemble(SETTINGS, Parts(watermarks={"APP.B": stored}), NOW)
    assert b.watermark is not None and b.watermark.behind_s is None


def test_the_verify_cursor_becomes_the_pass_under_way_and_the_last_one() -> None:
    from cdc_sync.cli.status import verify_pass_lines
    from cdc_sync.ops.tables import _verify_pass
    from cdc_sync.verify.cursor import Cursor, PassState

    started = NOW.timestamp() - 20
    state = PassState(run_id=3, started_at=started, total=4000, rows_read=1000, position=[1000])
    state.found["missing"] = 1
    cursor = Cursor(
        current=state,
        last={
            "run_id": 2,
            "started_at": started - 100,
            "ended_at": started - 84,
            "rows_read": 2000,
            "ids_read": 2000,
            "found": {"missing": 0, "extra": 2, "differing": 1},
            "repaired": {"missing": 0, "extra": 2, "differing": 1},
        },
    )
    saved = NOW - dt.timedelta(seconds=10)  # as of the last chunk: 1000 rows in 10 s
    view = _verify_pass((cursor.as_json(), saved), NOW)
    assert view is not None and view.current is not None and view.last is not None
    assert view.current["progress"] == 0.25 and view.current["rows_per_s"] == 100.0
    assert view.current["position"] == ["1000"] and view.current["found"]["missing"] == 1
    assert view.last["seconds"] == 16.0 and view.last["found"]["extra"] == 2
    lines = verify_pass_lines(dataclasses.asdict(view))
    assert lines[0].startswith("    verify pass 25% (rows, 1,000 rows and 0 ids read, 100/s")
    assert lines[0].endswith("drift 1 missing")
    assert (
        "(16.0 s, 2,000 rows): drift 2 extra, 1 differing; repaired 2 extra, 1 differing"
        in lines[1]
    )
