import pytest

from cdc_sync.metrics.latency import EDGES_MS, PROMETHEUS_BOUNDS_MS, LatencyHistogram, sampled


def test_percentiles_are_within_a_bucket_of_the_truth() -> None:
    histogram = LatencyHistogram()
    for ms in range(1, 1001):
        histogram.add(float(ms))
    for q, truth in ((0.5, 500), (0.9, 900), (0.99, 990)):
        found = histogram.quantile(q)
        assert found is not None and truth * 0.8 <= found <= truth * 1.25, (q, found)
    assert histogram.total == 1000
    assert histogram.sum_ms == pytest.approx(sum(range(1, 1001)))


def test_empty_histogram_has_no_percentile_and_negative_latency_counts_as_zero() -> None:
    histogram = LatencyHistogram()
    assert histogram.quantile(0.5) is None
    histogram.add(-40.0)  # source clock ahead of Meilisearch's
    assert histogram.quantile(0.99) == pytest.approx(0.99)
    histogram.add(1e9)
    assert histogram.quantile(1.0) == EDGES_MS[-1]


def test_histograms_merge_by_addition_and_survive_json() -> None:
    a, b = LatencyHistogram(), LatencyHistogram()
    a.add(10.0, weight=3)
    b.add(1000.0)
    a.merge(b)
    back = LatencyHistogram.from_sparse(a.to_sparse())
    assert back.counts == a.counts and back.sum_ms == a.sum_ms
    assert back.cumulative([10, 100, 1000]) == [(10, 3.0), (100, 3.0), (1000, 4.0)]
    assert all(bound in EDGES_MS for bound in PROMETHEUS_BOUNDS_MS)


def test_sampling_keeps_the_total_weight() -> None:
    values = list(range(1000))
    picked, weight = sampled(values, 64)
    assert len(picked) == 64 and weight * len(picked) == pytest.approx(1000)
    assert picked[0] == 0 and picked[-1] > 980
    assert sampled([1, 2], 64) == ([1, 2], 1.0)
