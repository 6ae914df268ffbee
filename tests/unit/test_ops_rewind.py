import datetime as dt

import pytest

from cdc_sync.kafka.types import Partition
from cdc_sync.ops.rewind import BadTime, Move, parse_since, plan

NOW = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("2h", dt.timedelta(hours=2)),
        ("30m", dt.timedelta(minutes=30)),
        ("45s", dt.timedelta(seconds=45)),
        ("1d", dt.timedelta(days=1)),
        ("1h30m", dt.timedelta(minutes=90)),
        ("1.5h", dt.timedelta(minutes=90)),
        (" 2H ", dt.timedelta(hours=2)),
    ],
)
def test_durations_ago(text: str, ago: dt.timedelta) -> None:
    assert parse_since(text, NOW) == NOW - ago


def test_iso_times() -> None:
    assert parse_since("2024-05-01T10:00:00+02:00", NOW) == dt.datetime(
        2024, 5, 1, 8, tzinfo=dt.UTC
    )
    assert parse_since("2024-05-01T10:00:00Z", NOW) == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)
    naive = parse_since("2024-04-30T10:00:00", NOW)
    assert naive.tzinfo is not None
    assert naive == dt.datetime(2024, 4, 30, 10).astimezone()


@pytest.mark.parametrize("text", ["yesterday", "2x", "h", "", "2024-13-01", "2h junk"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(BadTime, match="--since"):
        parse_since(text, NOW)


def test_future_is_refused() -> None:
    with pytest.raises(BadTime, match="future"):
        parse_since("2030-01-01T00:00:00Z", NOW)


def test_offsets_only_move_back() -> None:
    p0, p1, p2, p3 = (Partition("t", i) for i in range(4))
    moves = plan({p0: 100, p1: 10, p2: None, p3: 50}, {p0: 40, p1: 20, p2: 0, p3: 50})
    assert [m.new for m in moves] == [40, 10, None, 50]
    assert [m.changes for m in moves] == [True, False, False, False]
    assert "100 → 40" in moves[0].describe()
    assert "unchanged" in moves[1].describe()
    assert "nothing committed" in moves[2].describe()


def test_move_to_end_when_no_record_after_time() -> None:
    assert Move(Partition("t", 0), 30, 30).new == 30
