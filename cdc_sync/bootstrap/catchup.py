"""Catch-up: re-apply a table's change events between two stream positions to an index.

See docs/bootstrap.md for why replaying [P0, E) after the chunk load, under the
consumer fence, leaves no committed change behind.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from cdc_sync.bootstrap.writes import Failure, Target, apply_in_order
from cdc_sync.config import KafkaSettings, TableSettings
from cdc_sync.documents.mapping import DocumentOp, MappingError, operation_for_event
from cdc_sync.errors import TerminalError
from cdc_sync.events.decode import AvroDecoder, DecodeError, NotARowChange, decode_record
from cdc_sync.kafka.reader import Offsets, Record, read_range
from cdc_sync.sink.ids import InvalidKey

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


def catch_up(
    kafka: KafkaSettings,
    table: TableSettings,
    topic: str,
    target: Target,
    start: Offsets,
    end: Offsets,
    batch: int = 5000,
) -> tuple[int, list[Failure]]:
    """Apply every event of the table's `topic` in [start, end) to `target`, in order; wait."""
    failures: list[Failure] = []
    avro = None
    if kafka.schema_registry_url:  # its client's libraries are loaded only for Avro topics
        from cdc_sync.kafka.registry import avro_reader

        avro = avro_reader(kafka)
    records = read_range(kafka, topic, start, end)
    events = operations(table, records, failures, avro)
    applied, write_failures = apply_in_order(target, events, batch)
    log.info(
        "caught up %s on %s: %d operations from %s to %s",
        table.qualified_name,
        target.uid,
        applied,
        start,
        end,
    )
    return applied, failures + write_failures
