from __future__ import annotations

import random

import pytest

from cdc_sync.events.model import ChangeEvent
from cdc_sync.events.position import Position, position_of


def event(source: dict[str, object] | None) -> ChangeEvent:
    return ChangeEvent(op="c", key={"ID": 1}, after={"ID": 1}, source=source)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            {"connector": "postgresql", "sequence": '["24023128","24023184"]', "lsn": 24023184},
            ("postgresql", (24023128, 24023184)),
        ),
        (
            {"connector": "postgresql", "sequence": '[null,"24023184"]', "lsn": 24023184},
            ("postgresql", (0, 24023184)),
        ),
        ({"connector": "postgresql", "sequence": ["5", "9"]}, ("postgresql", (5, 9))),
        ({"connector": "postgresql", "lsn": 24023184}, None),  # no sequence: not orderable
        ({"connector": "postgresql", "sequence": "not json"}, None),
        (
            {"connector": "oracle", "scn": "2104221", "commit_scn": "2104230"},
            ("oracle", (2104230, 2104221)),
        ),
        ({"connector": "oracle", "scn": "2104221"}, ("oracle", (2104221, 2104221))),  # snapshot
        ({"connector": "oracle", "scn": "x"}, None),
        ({"connector": "cdc-sync", "change_id": 42}, ("cdc-sync", (42,))),
        ({"connector": "cdc-sync"}, None),
        ({"connector": "mysql", "pos": 1}, None),
        (None, None),
    ],
)
def test_position_of(
    source: dict[str, object] | None, expected: tuple[str, tuple[int, ...]] | None
) -> None:
    found = position_of(event(source))
    assert (None if found is None else (found.kind, found.values)) == expected


def test_pg_positions_grow_with_commit_order_not_lsn_alone() -> None:
    """A transaction that began earlier (lower LSN) but committed later comes after."""
    committed_first = Position("postgresql", (100, 150))  # after commit at 100, change at 150
    began_earlier = Position("postgresql", (160, 120))  # streamed after the commit at 160
    assert committed_first < began_earlier


def test_text_sorts_like_the_position() -> None:
    rng = random.Random(3)
    positions = [
        Position("postgresql", (rng.randrange(2**64), rng.randrange(2**64))) for _ in range(500)
    ]
    assert sorted(positions, key=Position.text) == sorted(positions)
    assert all(Position.parse(p.text()) == p for p in positions)


def test_positions_of_different_sources_are_not_comparable() -> None:
    assert not Position("oracle", (1, 1)).comparable(Position("postgresql", (1, 1)))
    assert Position("cdc-sync", (1,)).comparable(Position("cdc-sync", (7,)))
