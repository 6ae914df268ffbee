from __future__ import annotations

from cdc_sync.bootstrap.writes import Truncate, runs_of
from cdc_sync.documents.mapping import Delete, Upsert


def test_runs_keep_order_and_split_on_kind_change() -> None:
    ops = [
        Upsert("1", {"id": "1", "v": 1}),
        Upsert("2", {"id": "2", "v": 1}),
        Delete("1"),
        Upsert("1", {"id": "1", "v": 2}),
    ]
    assert list(runs_of(ops, 100)) == [
        ("replace", [{"id": "1", "v": 1}, {"id": "2", "v": 1}]),
        ("delete", ["1"]),
        ("replace", [{"id": "1", "v": 2}]),
    ]


def test_last_version_wins_within_a_run_and_partials_merge() -> None:
    ops = [
        Upsert("1", {"id": "1", "v": 1}),
        Upsert("1", {"id": "1", "v": 2}),
        Upsert("2", {"id": "2", "a": 1}, partial=True),
        Upsert("2", {"id": "2", "b": 2}, partial=True),
    ]
    assert list(runs_of(ops, 100)) == [
        ("replace", [{"id": "1", "v": 2}]),
        ("update", [{"id": "2", "a": 1, "b": 2}]),
    ]


def test_runs_respect_the_limit_and_truncate_stands_alone() -> None:
    ops = [Delete(str(i)) for i in range(5)] + [Truncate(), Truncate(), Delete("9")]
    assert list(runs_of(ops, 2)) == [
        ("delete", ["0", "1"]),
        ("delete", ["2", "3"]),
        ("delete", ["4"]),
        ("clear", [None]),
        ("clear", [None]),
        ("delete", ["9"]),
    ]
