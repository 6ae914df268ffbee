from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from cdc_sync.consumer.barriers import Barriers
from cdc_sync.consumer.truncates import first_offset_at_or_after
from cdc_sync.errors import TransientError
from cdc_sync.events.model import ChangeEvent
from cdc_sync.events.position import Position
from cdc_sync.kafka.types import Partition
from cdc_sync.state.store import StateStore
from cdc_sync.state.truncates import Barrier, TruncateLog


def pg(lsn: int) -> Position:
    return Position("postgresql", (lsn, lsn))


def scan(target: Position, positions: list[Position | None]) -> int:
    """The reference answer: after the last positioned event before `target`."""
    last_before = max(
        (i for i, p in enumerate(positions) if p is not None and p < target), default=-1
    )
    return last_before + 1


def test_binary_search_finds_the_first_offset_at_or_after_the_truncate() -> None:
    rng = random.Random(5)
    for _ in range(300):
        length = rng.randrange(0, 60)
        lsns = sorted(rng.sample(range(1000), length))
        # tombstones and other unpositioned records anywhere
        positions: list[Position | None] = [None if rng.random() < 0.2 else pg(v) for v in lsns]
        target = pg(rng.randrange(-5, 1005))
        probes: list[int] = []

        def probe(
            offset: int,
            end: int,
            positions: list[Position | None] = positions,
            probes: list[int] = probes,
        ) -> Position | None:
            probes.append(offset)
            return next((p for p in positions[offset:end] if p is not None), None)

        found = first_offset_at_or_after(target, 0, len(positions), probe)
        assert found == scan(target, positions), (target, positions)
        assert len(probes) <= max(1, length).bit_length() + 1


def test_search_over_a_range_with_an_offset() -> None:
    positions = [pg(v) for v in (10, 20, 30, 40)]

    def probe(offset: int, end: int) -> Position | None:
        return next((p for p in positions[offset - 100 : end - 100] if p is not None), None)

    assert first_offset_at_or_after(pg(25), 100, 104, probe) == 102
    assert first_offset_at_or_after(pg(5), 100, 104, probe) == 100
    assert first_offset_at_or_after(pg(50), 100, 104, probe) == 104


@pytest.fixture
def log(tmp_path: Path) -> TruncateLog:
    return TruncateLog(StateStore(f"sqlite:///{tmp_path / 'state.db'}"), "cdc-sync")


def test_announce_only_moves_forward(log: TruncateLog) -> None:
    first = log.announce("APP.T", pg(100), 6)
    assert (first.position, first.status, first.partitions) == (pg(100), "announced", 6)
    log.mark_enqueued("APP.T", pg(100))
    assert log.barriers()["APP.T"].status == "enqueued"
    older = log.announce("APP.T", pg(50), 6)
    assert (older.position, older.status) == (pg(100), "enqueued")  # a later one is recorded
    again = log.announce("APP.T", pg(100), 6)
    assert again.status == "enqueued"  # read again after a restart: nothing to redo
    newer = log.announce("APP.T", pg(200), 6)
    assert (newer.position, newer.status) == (pg(200), "announced")
    other_source = log.announce("APP.T", Position("oracle", (1, 1)), 6)
    assert other_source.position == Position("oracle", (1, 1))


def test_acks_make_a_barrier_ready(log: TruncateLog) -> None:
    log.announce("APP.T", pg(100), 3)
    for partition in (0, 2):
        log.ack("APP.T", partition, pg(100))
    log.ack("APP.T", 1, pg(50))  # an old alignment does not count
    barrier = log.barriers()["APP.T"]
    assert barrier.aligned == {0, 2} and not barrier.ready
    log.ack("APP.T", 1, pg(100))
    assert log.barriers()["APP.T"].ready


def test_groups_sharing_a_store_keep_their_own_barriers(log: TruncateLog) -> None:
    """Each group clears its own index: another group's acks never make ours ready."""
    other = TruncateLog(StateStore(str(log.engine.url)), "another-group")
    log.announce("APP.T", pg(100), 2)
    other.announce("APP.T", pg(100), 2)
    for partition in (0, 1):
        other.ack("APP.T", partition, pg(100))
    other.mark_enqueued("APP.T", pg(100))
    mine = log.barriers()["APP.T"]
    assert (mine.status, mine.aligned) == ("announced", frozenset())
    assert other.barriers()["APP.T"].status == "enqueued"


def row(lsn: int | None) -> ChangeEvent:
    source = None if lsn is None else {"connector": "postgresql", "sequence": f'["{lsn}","{lsn}"]'}
    return ChangeEvent(op="u", key={"ID": 1}, after={"ID": 1}, source=source)


def test_events_before_the_barrier_are_dropped(log: TruncateLog) -> None:
    barriers = Barriers(log)
    p0, p1 = Partition("t", 0), Partition("t", 1)
    assert not barriers.drops("app.t", p0, row(10))  # no barrier yet
    barriers.announce("app.t", pg(100), 2)
    assert barriers.drops("APP.T", p0, row(99))
    assert not barriers.drops("APP.T", p0, row(100))  # the same position stays
    assert not barriers.drops("APP.T", p1, row(None))  # no position: cannot be ordered
    assert not barriers.drops("APP.T", p1, row(150))
    assert barriers.holds("app.t") is not None
    barriers.enqueued("app.t", pg(100))
    assert barriers.holds("app.t") is None
    other = Barriers(log)
    other.refresh()
    assert other.view["APP.T"].status == "enqueued"  # recorded for the others


def test_partitions_to_align(log: TruncateLog) -> None:
    barriers = Barriers(log)
    parts = [Partition("t", 0), Partition("t", 1), Partition("other", 0)]
    assert barriers.to_align(parts, lambda topic: "APP.T") == []
    barrier = barriers.announce("APP.T", pg(100), 2)
    table_of = {"t": "APP.T", "other": "APP.O"}.__getitem__
    assert [p for p, _ in barriers.to_align(parts, table_of)] == parts[:2]
    barriers.aligned(parts[0], barrier)
    assert [p for p, _ in barriers.to_align(parts, table_of)] == [parts[1]]
    Barriers(log).aligned(parts[1], barrier)  # another consumer aligned partition 1
    barriers.refresh()
    assert barriers.to_align(parts, table_of) == []
    assert barriers.view["APP.T"].ready


class FailingStore:
    """A truncate store whose every call fails with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def announce(self, table: str, position: Position, partitions: int) -> Barrier:
        raise self.error

    def mark_enqueued(self, table: str, position: Position) -> None:
        raise self.error

    def ack(self, table: str, partition: int, position: Position) -> None:
        raise self.error

    def barriers(self) -> dict[str, Barrier]:
        raise self.error


# What SQLAlchemy raises when the server is gone (psycopg's OperationalError wrapped).
DOWN = OperationalError("SELECT", {}, ConnectionRefusedError("connection refused"))


def test_a_store_that_does_not_answer_is_waited_out() -> None:
    """The barriers' view is kept, and announcing or acking fails as transient (asked again)."""
    barriers = Barriers(FailingStore(DOWN))
    barrier = Barrier("APP.T", pg(100), "announced", 2)
    barriers.view = {"APP.T": barrier}
    barriers.refresh()
    assert barriers.view == {"APP.T": barrier}
    with pytest.raises(TransientError):
        barriers.announce("APP.T", pg(100), 2)
    with pytest.raises(TransientError):
        barriers.aligned(Partition("t", 0), barrier)
    barriers.enqueued("APP.T", pg(100))  # recorded at the next refresh that reaches the store
    assert barriers.holds("APP.T") is barrier


@pytest.mark.parametrize("bug", [TypeError("unhashable type: 'dict'"), KeyError("APP.T")])
def test_a_bug_is_not_reported_as_an_outage(bug: Exception) -> None:
    barriers = Barriers(FailingStore(bug))
    barrier = Barrier("APP.T", pg(100), "announced", 2)
    with pytest.raises(type(bug)):
        barriers.refresh()
    with pytest.raises(type(bug)):
        barriers.announce("APP.T", pg(100), 2)
    with pytest.raises(type(bug)):
        barriers.aligned(Partition("t", 0), barrier)
    with pytest.raises(type(bug)):
        barriers.enqueued("APP.T", pg(100))
