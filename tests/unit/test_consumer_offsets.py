import pytest

from cdc_sync.consumer.offsets import OffsetTracker


def test_commits_only_the_contiguous_done_prefix() -> None:
    tracker = OffsetTracker()
    for offset in (10, 11, 12, 13):
        tracker.received(offset)
    assert tracker.committable() is None
    tracker.done([12, 13])
    assert tracker.committable() is None  # 10 and 11 are not applied yet
    tracker.done([10])
    assert tracker.committable() == 11
    tracker.mark_committed(11)
    assert tracker.committable() is None
    tracker.done([11])
    assert tracker.committable() == 14
    assert tracker.outstanding == 0


def test_gaps_in_offsets_are_fine() -> None:
    tracker = OffsetTracker()
    for offset in (3, 7, 8):
        tracker.received(offset)
    tracker.done([3, 7])
    assert tracker.committable() == 8


def test_offsets_must_increase() -> None:
    tracker = OffsetTracker()
    tracker.received(5)
    with pytest.raises(ValueError):
        tracker.received(5)
    assert tracker.last == 5
