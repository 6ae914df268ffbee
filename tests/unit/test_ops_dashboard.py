from cdc_sync.kafka.lag import PartitionLag
from cdc_sync.ops.dashboard import public_status, render_dashboard
from cdc_sync.ops.status import ErrorEntry, RunSummary, StatusSnapshot, TableCount

SAMPLE = StatusSnapshot(
    component="consumer",
    ready=True,
    tables=[
        TableCount("APP.CRASIVTTST", "crasivttst", 12345),
        TableCount("APP.OTHER", "other", None),
    ],
    lag=[
        PartitionLag("cdc.APP.CRASIVTTST", 0, 100, 150, 50, 50),
        PartitionLag("cdc.APP.CRASIVTTST", 1, None, 7, None, 7),
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
)


def test_dashboard_shows_tables_lag_throughput_runs_and_errors() -> None:
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
        "50",
    ):
        assert text in page, text
    assert "&lt;down&gt;" in page  # escaped, not raw markup
    assert "http://" not in page and "https://" not in page  # no external assets


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
    assert data["tables"][0] == {
        "table": "APP.CRASIVTTST",
        "index": "crasivttst",
        "documents": 12345,
    }
