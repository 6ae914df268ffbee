"""Records that change no row: skipped, counted, and reported without flooding the log.

Heartbeats, transaction metadata and schema changes have their own topics in Debezium
(``__debezium-heartbeat.<prefix>``, ``<prefix>.transaction``, ``<prefix>``); on a table's
topic they mean its `topic` setting (or the connector's routing) points at the wrong one.
Each is counted (``ConsumerStats.skipped``, ``cdc_sync_events_skipped_total{table,kind}``)
and warned about, naming the topic: when a topic first carries a kind, then at most once
every `WARN_EVERY_S` with the count so far. A tombstone without a key (Debezium's, after a
delete in a table without a primary key) is expected there: counted, and noted once at INFO.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from cdc_sync.consumer.stats import ConsumerStats
from cdc_sync.ops import metrics

log = logging.getLogger(__name__)

WARN_EVERY_S = 60.0
KEYLESS_TOMBSTONE = "tombstone without a key"


class SkippedRecords:
    def __init__(self, stats: ConsumerStats, clock: Callable[[], float] = time.monotonic) -> None:
        self.stats = stats
        self.clock = clock
        self.counts: dict[tuple[str, str], int] = {}
        self._reported: dict[tuple[str, str], float] = {}

    def skip(self, topic: str, table: str, kind: str) -> None:
        """Count one record of `kind` on `topic` (the topic of `table`), reporting it when due."""
        key = (topic, kind)
        count = self.counts[key] = self.counts.get(key, 0) + 1
        self.stats.skipped += 1
        metrics.events_skipped(table, kind)
        now = self.clock()
        last = self._reported.get(key)
        if last is not None and (kind == KEYLESS_TOMBSTONE or now - last < WARN_EVERY_S):
            return
        self._reported[key] = now
        if kind == KEYLESS_TOMBSTONE:
            log.info("skipping tombstones without a key on topic %s (table %s)", topic, table)
            return
        log.warning(
            "skipped %d Debezium %s record(s) on topic %s (table %s): they change no row. "
            "A table's topic should carry only its change events: check the table's `topic` "
            "and the connector's topic routing",
            count,
            kind,
            topic,
            table,
        )
