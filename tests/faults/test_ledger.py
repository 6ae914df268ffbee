"""The fault suite's own yardstick: the ledger must flag an index behind a committed offset."""

from cdc_sync.events.model import ChangeEvent
from tests.faults.ledger import Ledger
from tests.integration.consumer_support import Stream


def ledger_of(*events: ChangeEvent) -> Ledger:
    stream = Stream()
    for event in events:  # one partition; deletes get their tombstone
        for value in [b"v", *([None] if event.op == "d" else [])]:
            stream.records.append(("cdc.ITEMS", b"k", value))
            stream.placed.append((0, len(stream.placed)))
    ledger = Ledger()
    ledger.add(stream, list(events), "cdc")
    return ledger


def upsert(no: str, name: str) -> ChangeEvent:
    return ChangeEvent("u", {"ITEM_NO": no}, after={"ITEM_NO": no, "NAME": name}, table="ITEMS")


def test_an_index_behind_the_committed_offset_is_a_violation() -> None:
    ledger = ledger_of(
        upsert("a", "one"), upsert("a", "two"), ChangeEvent("d", {"ITEM_NO": "a"}, table="ITEMS")
    )
    one = {"id": "a", "item_no": "a", "name": "one"}
    two = {"id": "a", "item_no": "a", "name": "two"}
    where = ("cdc.ITEMS", 0)
    assert ledger.violations({where: 1}, {"ITEMS": {"a": one}}) == []
    assert ledger.violations({where: 1}, {"ITEMS": {"a": two}}) == []  # applied, not committed
    assert ledger.violations({where: 1}, {"ITEMS": {}}) == []  # the delete, applied
    assert ledger.violations({where: 2}, {"ITEMS": {"a": one}}) != []
    assert ledger.violations({where: 4}, {"ITEMS": {"a": two}}) != []  # the delete was committed
    assert ledger.violations({where: -1}, {"ITEMS": {}}) == []  # nothing committed yet
