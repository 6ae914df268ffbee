from cdc_sync.kafka.lag import PartitionLag
from cdc_sync.ops.activity import Chart, History, Series
from cdc_sync.ops.dashboard import chart_view, nice_ceiling, public_status, render_dashboard
from cdc_sync.ops.status import ErrorEntry, RunSummary, StatusSnapshot
from cdc_sync.ops.tables import Backlog, Latency, RunResult, TableStatus, VerifyPass, Watermark

LAGS = [
    PartitionLag("cdc.APP.CRASIVTTST", 0, 100, 150, 50, 50),
    PartitionLag("cdc.APP.CRASIVTTST", 1, None, 7, None, 7),
]
SAMPLE = StatusSnapshot(
    component="consumer",
    ready=True,
    tables=[
        TableStatus(
            "APP.CRASIVTTST",
            "crasivttst",
            "trigger",
            "cdc.APP.CRASIVTTST",
            documents=12345,
            backlog=Backlog(12, False, "2024-05-01T10:04:00+00:00", 61.0),
            lag=57,
            partitions=LAGS,
            last_applied_at="2024-05-01T10:05:00+00:00",
            latency=Latency(42.0, 80.0, 130.0, 1000, 300),
            bootstrap=RunResult(
                3, "succeeded", "2024-05-01T10:02:00+00:00", 12345, "12,345 documents (swap)", None
            ),
            verify=RunResult(
                4, "succeeded", "2024-05-01T10:03:00+00:00", 12345, "in sync", None, 0
            ),
            extra={"relay": {"sweep_s": 1.5}},
            verify_pass=VerifyPass(
                {
                    "progress": 0.42,
                    "rows_per_s": 1990.0,
                    "found": {"missing": 0, "extra": 0, "differing": 0},
                    "waiting": "consumer lag 5,000 > max_lag 1,000",
                },
                {
                    "ended_at": "2024-05-01T10:01:00+00:00",
                    "seconds": 12.5,
                    "rows_read": 12345,
                    "found": {"missing": 1, "extra": 0, "differing": 2},
                    "repaired": {"missing": 1, "extra": 0, "differing": 2},
                },
                "2024-05-01T10:04:00+00:00",
            ),
        ),
        TableStatus(
            "APP.OTHER",
            "other",
            "timestamp",
            "cdc.APP.OTHER",
            watermark=Watermark("2024-05-01T10:00:00", 300.0, "2024-05-01T10:01:00+00:00", 240.0),
        ),
    ],
    throughput=812.4,
    runs=[
        RunSummary(
            3,
            "bootstrap",
            "APP.CRASIVTTST",
            "succeeded",
            "2024-05-01T10:00:00+00:00",
            "2024-05-01T10:02:00+00:00",
            12345,
            0,
            None,
        )
    ],
    errors=[
        ErrorEntry(
            "2024-05-01T10:05:00+00:00", "consumer", "meilisearch <down> with key s3cret-key"
        )
    ],
    details={"applied": 99},
    history=History(
        5,
        1_714_557_900.0,
        [
            Chart(
                "throughput", "applied/s", [Series("APP.CRASIVTTST", [None, 2.0, 4.0, None, 1.0])]
            ),
            Chart("change → searchable", "ms", [Series("p50", [None, 40.0, 45.0, 50.0, 42.0])]),
        ],
    ),
)


def test_dashboard_shows_per_table_status_charts_runs_and_errors() -> None:
    page = render_dashboard(SAMPLE)
    assert '<meta http-equiv="refresh" content="5">' in page
    for text in (
        "APP.CRASIVTTST",
        "crasivttst",
        "12,345",
        "cdc.APP.CRASIVTTST",
        "812.4",
        "bootstrap",
        "succeeded",
        "ready",
        "12 rows",  # relay backlog
        "oldest 1 min old",
        "p50 42 ms",
        "p99 130 ms",
        "in sync",
        "sweep_s=1.5",
        "watermark",
        "7 pending",
        "<polyline",
        "change → searchable",
        "pass 42% · 1,990/s · drift none",
        "consumer lag 5,000 &gt; max_lag 1,000",
        "(12.5 s, 12,345 rows) · drift 1 missing, 2 differing · repaired 1 missing, 2 differing",
    ):
        assert text in page, text
    assert "&lt;down&gt;" in page  # escaped, not raw markup
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page  # no external assets


def test_dashboard_when_not_ready_and_empty() -> None:
    page = render_dashboard(StatusSnapshot(component="relay", ready=False))
    assert "not ready" in page
    assert "no runs yet" in page and "no errors" in page


def test_secrets_are_masked_in_status_and_page() -> None:
    assert "s3cret-key" not in str(public_status(SAMPLE, ["s3cret-key"]))
    page = render_dashboard(SAMPLE, ["s3cret-key"])
    assert "s3cret-key" not in page and "***" in page


def test_status_json_total_lag_counts_partitions_with_nothing_committed() -> None:
    data = public_status(SAMPLE)
    assert data["total_lag"] == 57
    assert len(data["lag"]) == 2
    table = data["tables"][0]
    assert table["table"] == "APP.CRASIVTTST" and table["documents"] == 12345
    assert table["backlog"]["rows"] == 12 and table["latency"]["p99_ms"] == 130.0


def test_chart_lines_break_at_gaps_and_scale_to_a_nice_top() -> None:
    view = chart_view(
        {
            "title": "t",
            "unit": "applied/s",
            "series": [{"name": "A", "points": [None, 2.0, 4.0, None, 1.0]}],
        },
        5,
    )
    assert view.top == "5" and view.span == "25.0 s"
    (line,) = view.lines
    assert len(line.segments) == 1 and line.last == "1"
    assert line.dots == [("320.0", "76.8")]  # a point alone is drawn as a dot
    assert nice_ceiling(0.3) == 1 and nice_ceiling(13) == 20 and nice_ceiling(4999) == 5000
