"""What the index may show, given the consumer group's committed offsets.

A committed offset says every record of its partition below it was applied. So for each
key, the index must hold the image of the key's last record below the committed offset,
or of a later record of that key (applied but not committed yet); a delete's image is
"absent". Committed offsets are read before the index, and the index only moves forward
per key, so the check holds while the consumer runs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from cdc_sync.events.model import ChangeEvent
from tests.integration.consumer_support import Stream, expected_document

Image = dict[str, Any] | None
TopicPartition = tuple[str, int]


class Ledger:
    def __init__(self) -> None:
        self.history: dict[tuple[str, str], list[tuple[int, Image]]] = defaultdict(list)
        """(table, document id) → (offset, image) of each of its records, in offset order
        (`produce` checks that each key's records landed in order)."""
        self.partition_of: dict[tuple[str, str], TopicPartition] = {}
        self._seen = 0

    def add(self, stream: Stream, events: list[ChangeEvent], prefix: str) -> None:
        """Record the events `produce` appended to `stream` since the last call."""
        records = iter(zip(stream.records[self._seen :], stream.placed[self._seen :], strict=True))
        for event in events:
            (topic, _, _), (partition, offset) = next(records)
            if event.op == "d":
                next(records)  # its tombstone changes nothing
            doc_id, image = expected_document(event)
            ident = (str(event.table), doc_id)
            self.partition_of[ident] = (topic, partition)  # first: a sampler reads both
            self.history[ident].append((offset, image))
            assert topic == f"{prefix}.{event.table}"
        self._seen = len(stream.records)

    def violations(
        self, committed: dict[TopicPartition, int], docs: dict[str, dict[str, dict[str, Any]]]
    ) -> list[str]:
        """Keys whose document is older than the committed offset allows; [] when none.
        Safe while `add` runs in another thread (a sampler beside the producer): it reads
        a snapshot of the keys."""
        found = []
        for (table, doc_id), history in list(self.history.items()):
            position = committed.get(self.partition_of[(table, doc_id)], -1)
            below = [i for i, (offset, _) in enumerate(history) if offset < position]
            if not below:
                continue
            allowed = [image for _, image in history[below[-1] :]]
            shown = docs[table].get(doc_id)
            if shown not in allowed:
                found.append(
                    f"{table}/{doc_id}: committed up to {position}, index shows {shown}, "
                    f"allowed {allowed}"
                )
        return found
