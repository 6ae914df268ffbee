import pytest

from cdc_sync.consumer.writer import finished_ms


def test_meilisearch_finish_times_become_epoch_milliseconds() -> None:
    assert finished_ms("2024-05-01T10:00:00.123456789Z") == pytest.approx(1714557600123.456)
    assert finished_ms("2024-05-01T10:00:00Z") == 1714557600000.0
    assert finished_ms(None) > 1714557600000.0  # none reported: now
