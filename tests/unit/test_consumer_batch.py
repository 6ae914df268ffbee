import json

from cdc_sync.config import ConsumerSettings, TableSettings
from cdc_sync.consumer.batch import ENTRY_OVERHEAD, PartitionBatch
from cdc_sync.documents.mapping import Delete, Upsert
from cdc_sync.kafka.types import Partition

P = Partition("cdc.T", 0)
TABLE = TableSettings(name="T", primary_key=["ID"])


def batch(now: float = 0.0) -> PartitionBatch:
    return PartitionBatch(P, TABLE, now)


def doc(entry_body: bytes | None) -> dict[str, object]:
    assert entry_body is not None
    loaded: dict[str, object] = json.loads(entry_body)
    return loaded


def test_last_operation_per_id_wins_and_all_offsets_are_kept() -> None:
    b = batch()
    b.add(1, Upsert("1", {"id": "1", "v": 1}))
    b.add(2, Delete("1"))
    b.add(3, Upsert("2", {"id": "2", "v": 2}))
    b.add(4, Delete("2"))
    b.add(5, Upsert("2", {"id": "2", "v": 3}))
    assert b.offsets == [1, 2, 3, 4, 5]
    assert b.entries["1"].kind == "delete"
    assert b.entries["2"].kind == "replace"  # a delete never moves after a later upsert
    assert doc(b.entries["2"].body) == {"id": "2", "v": 3}
    assert b.entries["2"].offset == 5
    groups = b.by_kind()
    assert [e.doc_id for e in groups["delete"]] == ["1"]
    assert [e.doc_id for e in groups["replace"]] == ["2"]


def test_partial_update_merges_into_an_earlier_image() -> None:
    b = batch()
    b.add(1, Upsert("1", {"id": "1", "a": 1, "lob": "x"}))
    b.add(2, Upsert("1", {"id": "1", "a": 2}, partial=True))
    assert b.entries["1"].kind == "replace"
    assert doc(b.entries["1"].body) == {"id": "1", "a": 2, "lob": "x"}
    b.add(3, Delete("1"))
    b.add(4, Upsert("1", {"id": "1", "a": 3}, partial=True))
    assert b.entries["1"].kind == "replace"  # after a delete the partial image is all there is
    b.add(5, Upsert("9", {"id": "9", "a": 1}, partial=True))
    b.add(6, Upsert("9", {"id": "9", "b": 1}, partial=True))
    assert b.entries["9"].kind == "update"
    assert doc(b.entries["9"].body) == {"id": "9", "a": 1, "b": 1}


def test_bytes_follow_the_current_entries() -> None:
    b = batch()
    b.add(1, Upsert("1", {"id": "1", "text": "x" * 100}))
    b.add(2, Upsert("1", {"id": "1"}))
    assert b.bytes == ENTRY_OVERHEAD + len(b'{"id":"1"}')


def test_truncate_clears_the_batch_and_goes_first() -> None:
    b = batch()
    b.add(1, Upsert("1", {"id": "1"}))
    b.add_truncate(2)
    b.add(3, Upsert("2", {"id": "2"}))
    assert b.truncate
    assert list(b.entries) == ["2"]
    assert b.offsets == [1, 2, 3]


def test_size_bytes_and_linger_bounds() -> None:
    limits = ConsumerSettings(batch_size=3, batch_bytes=1024, linger_ms=100)
    b = batch(now=10.0)
    assert not b.is_due(99.0, limits)  # empty batches are never due
    b.add(1, Upsert("1", {"id": "1"}))
    assert not b.is_due(10.05, limits)
    assert b.is_due(10.2, limits)
    b.add(2, Upsert("1", {"id": "1"}))
    b.add(3, None)
    assert b.is_full(limits)  # counted in records, not distinct ids
    big = batch()
    big.add(1, Upsert("1", {"id": "1", "t": "x" * 2000}))
    assert big.is_full(limits)
