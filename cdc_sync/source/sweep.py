"""Hard deletes in timestamp capture: a periodic sweep of the index's ids against the source.

Timestamp polling cannot see a row that is gone. Every `delete_sweep_interval`
the sweep pages through the index's document ids (`page` at a time), asks the
source which of those keys still exist inside the table's filter and not
soft-deleted (one IN list of at most 1000 keys per page), and publishes a
delete, through Kafka like every other change, for each id that does not.
It reads every id of the index and the rows of those keys each time: its cost
(keys read, ids deleted, seconds) is logged and recorded as a ``sweep`` run,
which `cdc-sync status` shows.

The sweep runs in the relay's loop, between polls, so a delete it publishes
is ordered before any later upsert of the same key the poller publishes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import meilisearch
from sqlalchemy import Engine

from cdc_sync.errors import TerminalError
from cdc_sync.events.encode import encode
from cdc_sync.kafka.producer import Producer
from cdc_sync.ops import metrics
from cdc_sync.sink.ids import key_values
from cdc_sync.sink.indexes import document_ids
from cdc_sync.sink.meili import classify
from cdc_sync.source.dialect import Dialect
from cdc_sync.source.images import delete_event, is_soft_deleted, match_key, read_images
from cdc_sync.source.key_types import id_value
from cdc_sync.source.schema import CapturedTable
from cdc_sync.state.store import StateStore, process_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    ids_read: int
    deleted: int
    seconds: float


def typed_key(table: CapturedTable, doc_id: str) -> list[Any]:
    """A document id back to bind values of the key columns (ValueError: not a key of them)."""
    parts = key_values(doc_id)
    return [id_value(c, v) for c, v in zip(table.key_columns, parts, strict=True)]


class DeleteSweep:
    def __init__(
        self,
        engine: Engine,
        dialect: Dialect,
        table: CapturedTable,
        topic: str,
        producer: Producer,
        state: StateStore,
        client: meilisearch.Client,
        interval_s: float,
        page: int = 1000,
    ) -> None:
        self.engine, self.dialect, self.table = engine, dialect, table
        self.topic, self.producer, self.state, self.client = topic, producer, state, client
        self.interval_s = interval_s
        self.page = min(page, 1000)
        self.next_at = time.monotonic() + interval_s

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def run(self) -> SweepResult:
        """One sweep over the whole index; raises TransientError when a dependency fails."""
        name = self.table.name
        started = time.monotonic()
        run_id = self.state.start_run("sweep", name, process_name())
        ids_read = deleted = 0
        try:
            uid, id_field = self.table.settings.index_uid, self.table.settings.id_field
            for ids in document_ids(self.client, uid, id_field, self.page):
                ids_read += len(ids)
                deleted += self._sweep_page(ids)
        except meilisearch.errors.MeilisearchError as exc:
            self.state.finish_run(run_id, "failed", ids_read, error=str(exc))
            raise classify(exc) from None
        except Exception as exc:
            self.state.finish_run(run_id, "failed", ids_read, error=str(exc))
            raise
        finally:
            self.next_at = time.monotonic() + self.interval_s
        seconds = time.monotonic() - started
        details = {"keys_read": ids_read, "deleted": deleted, "seconds": round(seconds, 3)}
        self.state.finish_run(run_id, "succeeded", ids_read, details=details)
        for note, value in details.items():  # the table's line in `status`
            metrics.PUBLISHED_ACTIVITY.note(name, f"sweep_{note}", value)
        log.info(
            "delete sweep of %s: %d keys read, %d deleted, %.2fs",
            name,
            ids_read,
            deleted,
            seconds,
            extra={"fields": {"table": name, **details}},
        )
        return SweepResult(ids_read, deleted, seconds)

    def _sweep_page(self, ids: list[str]) -> int:
        keys: list[list[Any]] = []
        for doc_id in ids:
            try:
                keys.append(typed_key(self.table, doc_id))
            except (TerminalError, ValueError) as exc:
                log.warning(
                    "delete sweep: id %r is not a key of %s: %s", doc_id, self.table.name, exc
                )
        with self.engine.connect() as conn:
            images = read_images(conn, self.dialect, self.table, keys)
        gone = []
        for key in keys:
            row, inside = images.get(match_key(key), (None, False))
            if row is None or not inside or is_soft_deleted(self.table, row):
                gone.append(key)
        if gone:
            now_ms = int(time.time() * 1000)
            for key in gone:
                for record_key, value in encode(
                    delete_event(self.table, key, None, now_ms), now_ms
                ):
                    self.producer.send(self.topic, record_key, value)
            self.producer.flush()
        return len(gone)
