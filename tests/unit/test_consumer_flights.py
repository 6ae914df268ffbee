from collections import deque

from cdc_sync.config import TableSettings
from cdc_sync.consumer.batch import PartitionBatch
from cdc_sync.consumer.flights import Flight, halves, superseded, without_superseded
from cdc_sync.documents.mapping import Delete, Upsert
from cdc_sync.kafka.types import Partition

P = Partition("cdc.T", 0)
TABLE = TableSettings(name="T", primary_key=["ID"])


def flight(*ops: Upsert | Delete, truncate: bool = False, sent: bool = True) -> Flight:
    b = PartitionBatch(P, TABLE, 0.0)
    if truncate:
        b.add_truncate(0)
    for i, op in enumerate(ops):
        b.add(i + 1, op)
    f = Flight(b)
    f.sent = sent
    return f


def test_ids_of_later_sent_flights_are_superseded() -> None:
    first = flight(Upsert("a", {}), Upsert("b", {}), Upsert("c", {}))
    second = flight(Upsert("b", {}))
    third = flight(Delete("c"))
    unsent = flight(Upsert("a", {}), sent=False)
    flights = deque([first, second, third, unsent])
    ids = superseded(flights, first)
    assert ids == {"b", "c"}
    remaining = without_superseded(list(first.batch.entries.values()), ids)
    assert [e.doc_id for e in remaining] == ["a"]  # the older image of b and c is not resent
    assert superseded(flights, third) == set()  # nothing later was sent


def test_a_later_truncate_supersedes_everything() -> None:
    first = flight(Upsert("a", {}))
    later = flight(truncate=True)
    ids = superseded(deque([first, later]), first)
    assert ids is None
    assert without_superseded(list(first.batch.entries.values()), ids) == []


def test_parts_put_truncate_first_and_split_in_halves() -> None:
    f = flight(Upsert("a", {}), Delete("b"), Upsert("c", {}, partial=True), truncate=True)
    assert [p.kind for p in f.parts()] == ["truncate", "delete", "replace", "update"]
    entries = list(flight(*(Upsert(str(i), {}) for i in range(5))).batch.entries.values())
    left, right = halves(entries)
    assert len(left) == 2 and len(right) == 3
