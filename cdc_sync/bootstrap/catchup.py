"""Catch-up: re-apply a table's change events between two stream positions to an index.

See docs/bootstrap.md for why replaying [P0, E) after the chunk load, in rounds and
the last one under the consumer fence, leaves no committed change behind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator

from cdc_sync.bootstrap.rounds import Round, records_between
from cdc_sync.bootstrap.writes import Failure, Target, replay
from cdc_sync.config import KafkaSettings, TableSettings
from cdc_sync.documents.fields import MappingError
from cdc_sync.documents.ids import InvalidKey
from cdc_sync.documents.mapping import DocumentOp, operation_for_event
from cdc_sync.errors import TerminalError
from cdc_sync.events.decode import AvroDecoder, DecodeError, NotARowChange, decode_record
from cdc_sync.kafka.reader import Offsets, Record, read_range
from cdc_sync.kafka.registry import avro_reader

log = logging.getLogger(__name__)


class TruncatedDuringLoad(TerminalError):
    """A truncate between P0 and E: chunk images from before it cannot be told apart."""

    code = "truncated_during_load"


def operations(
    table: TableSettings,
    records: Iterable[Record],
    failures: list[Failure],
    avro: AvroDecoder | None = None,
) -> Iterator[DocumentOp]:
    """Decode and map records in order; undecodable ones are recorded as failures.

    A schema registry that does not answer fails the run (TransientError): a
    record is never skipped for want of its schema.
    """
    for record in records:
        try:
            event = decode_record(record.key, record.value, avro=avro)
            if event.op == "t":
                raise TruncatedDuringLoad(
                    f"{table.qualified_name} was truncated while bootstrap read it "
                    f"(partition {record.partition}, offset {record.offset}): nothing was "
                    "swapped; the consumers apply the truncate in order. Run bootstrap again."
                )
            yield operation_for_event(table, event)
        except NotARowChange:
            continue  # the consumer skips it too
        except (DecodeError, MappingError, InvalidKey) as exc:
            failures.append((f"p{record.partition}@{record.offset}", f"catch-up: {exc}"))


class CatchUp:
    """Replays windows of a table's topic into `target`, each compacted per id (one task per
    kind per `batch` documents, whatever the alternations of kinds), and awaits them."""

    def __init__(
        self,
        kafka: KafkaSettings,
        table: TableSettings,
        topic: str,
        target: Target,
        batch: int = 5000,
    ) -> None:
        self.kafka, self.table, self.target, self.batch = kafka, table, target, batch
        self.topic = topic
        self.failures: list[Failure] = []
        self.operations = 0
        """Operations replayed, over every window."""
        self._avro: AvroDecoder | None = None

    def _decoder(self) -> AvroDecoder | None:
        if self.kafka.schema_registry_url and self._avro is None:
            self._avro = avro_reader(self.kafka)
        return self._avro

    def _counted(self, ops: Iterable[DocumentOp]) -> Iterator[DocumentOp]:
        for op in ops:
            self.operations += 1
            yield op

    def window(self, start: Offsets, end: Offsets, fenced: bool = False) -> Round:
        """Apply every event in [start, end) as applying them in order would; wait."""
        began = time.monotonic()
        records = read_range(self.kafka, self.topic, start, end)
        ops = operations(self.table, records, self.failures, self._decoder())
        documents, tasks, failures = replay(self.target, self._counted(ops), self.batch)
        self.failures += failures
        elapsed = time.monotonic() - began
        done = Round(records_between(start, end), documents, tasks, elapsed, fenced)
        log.info(
            "caught up %s on %s%s: %d records → %d documents in %d tasks, %.2fs (%s to %s)",
            self.table.qualified_name,
            self.target.uid,
            " under the fence" if fenced else "",
            done.records,
            done.documents,
            done.tasks,
            done.seconds,
            start,
            end,
        )
        return done
