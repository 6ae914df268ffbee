import pytest

from cdc_sync.consumer.dlq import DeadLetter, DlqLimit, DlqLimitExceeded, headers_for, letters_for
from cdc_sync.consumer.flights import Rejection
from cdc_sync.kafka.reader import Record
from cdc_sync.kafka.types import Partition, Received

LETTER = DeadLetter(Received(Partition("cdc.T", 2), 41, b"k", b"v", 1700), "decode_error", "bad")


def test_limit_is_judged_over_a_full_window() -> None:
    limit = DlqLimit(max_ratio=0.5, window=4)
    limit.record(False, 3)
    assert not limit.exceeded()  # window not full yet
    limit.record(True)
    assert limit.ratio == 0.75 and limit.exceeded()
    limit.record(True, 2)  # the two oldest bad outcomes slide out
    assert limit.ratio == 0.25 and not limit.exceeded()


def test_check_raises_before_sending() -> None:
    limit = DlqLimit(max_ratio=0.1, window=10)
    limit.record(True, 9)
    with pytest.raises(DlqLimitExceeded, match="dlq_max_ratio"):
        for _ in range(2):
            limit.check(LETTER)


def test_one_percent_stays_well_below_the_limit() -> None:
    limit = DlqLimit(max_ratio=0.5, window=1000)
    for i in range(5000):
        limit.record(i % 100 != 0)
    assert not limit.exceeded()


def test_headers_name_the_error_and_the_origin() -> None:
    headers = dict(headers_for(LETTER))
    assert headers == {
        "cdc.error.code": "decode_error",
        "cdc.error.reason": "bad",
        "cdc.original.topic": "cdc.T",
        "cdc.original.partition": "2",
        "cdc.original.offset": "41",
        "cdc.original.timestamp": "1700",
    }


def test_rejected_documents_become_letters_with_their_records_read_again() -> None:
    """Invariant: a rejected record is dead-lettered with its original bytes, or, gone from
    Kafka, still dead-lettered with a reason saying so (nothing is silently dropped)."""
    p = Partition("cdc.T", 2)
    found = {7: Record("cdc.T", 2, 7, b"k7", b"v7", 1700)}
    letters = letters_for(
        p, [Rejection(7, "invalid", "bad"), Rejection(9, "invalid", "bad")], found
    )
    assert letters[0] == DeadLetter(Received(p, 7, b"k7", b"v7", 1700), "invalid", "bad")
    assert letters[1].record == Received(p, 9, None, None)
    assert "no longer in Kafka" in letters[1].reason
