"""Catch-up rounds before the fence: when the fence is raised and where the fenced round
starts, against a simulated source that keeps changing while rounds replay."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdc_sync.bootstrap.rounds import (
    FENCE_AT_RECORDS,
    MAX_ROUNDS,
    Round,
    fence_now,
    pre_copy,
    records_between,
)
from cdc_sync.kafka.reader import Offsets


def done(*records: int) -> list[Round]:
    return [Round(n, n, 1, 1.0) for n in records]


def test_a_small_window_is_fenced_at_once() -> None:
    assert fence_now(0, [])
    assert fence_now(FENCE_AT_RECORDS, [])
    assert not fence_now(FENCE_AT_RECORDS + 1, [])


def test_a_window_that_does_not_shrink_is_fenced() -> None:
    """The source changes as fast as a round replays: another round would not help."""
    assert not fence_now(5000, done(20_000))
    assert fence_now(20_000, done(20_000))
    assert fence_now(30_000, done(20_000))


def test_rounds_end_after_the_most_allowed() -> None:
    shrinking = list(range(10**6, 0, -(10**5)))
    assert not fence_now(10**5, done(*shrinking[: MAX_ROUNDS - 1]))
    assert fence_now(10**5, done(*shrinking[:MAX_ROUNDS]))


def test_records_between_counts_every_partition() -> None:
    assert records_between({0: 5, 1: 7}, {0: 15, 1: 7, 2: 3}) == 10 + 0 + 3


@dataclass
class Source:
    """A topic of one partition that grows by `rate` records per second of replay; a round
    costs a fixed `latency` (round trips, Meilisearch's batch) and `per_record` seconds."""

    rate: float
    latency: float = 0.5
    per_record: float = 0.0001
    end: int = 0
    windows: list[tuple[int, int]] = field(default_factory=list)

    def ends(self) -> Offsets:
        return {0: self.end}

    def replay(self, start: Offsets, end: Offsets) -> Round:
        records = records_between(start, end)
        seconds = self.latency + records * self.per_record
        self.windows.append((start[0], end[0]))
        self.end += int(self.rate * seconds)
        return Round(records, records, 3, seconds)


def test_rounds_shrink_the_window_until_it_is_small() -> None:
    """A load that took long left 200,000 records; the source goes on at 200/s."""
    source = Source(rate=200, end=200_000)
    position, rounds = pre_copy({0: 0}, source.ends, source.replay)
    assert [r.records for r in rounds] == [200_000, 4100]  # 20.5 s, then 0.91 s
    assert [w[0] for w in source.windows] == [0, 200_000]  # each where the last one ended
    assert position == {0: 204_100}  # the fenced round starts where they ended
    assert records_between(position, source.ends()) == 182  # 0.91 s at 200/s


def test_a_quiet_table_goes_straight_to_the_fence() -> None:
    source = Source(rate=0, end=300)
    assert pre_copy({0: 100}, source.ends, source.replay) == ({0: 100}, [])


def test_a_source_faster_than_the_rounds_is_fenced_when_the_window_stops_shrinking() -> None:
    source = Source(rate=20_000, per_record=0.0001, end=50_000)
    position, rounds = pre_copy({0: 0}, source.ends, source.replay)
    assert len(rounds) < MAX_ROUNDS
    assert records_between(position, source.ends()) >= rounds[-1].records
