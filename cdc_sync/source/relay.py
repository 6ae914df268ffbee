"""The trigger-mode relay: change log → current row images → Kafka, then delete what was published.

One batch is one database transaction:

1. lock change-log rows in id order (SKIP LOCKED where the database has row
   locks, so several relays share the log without double work) and take whole
   rows while they hold at most `batch_size` changes (a packed row holds many:
   see `cdc_sync.source.changelog`); rows locked beyond that wait for the next
   batch, unlocked at commit;
2. hold back rows with a key that still has an earlier change-log row outside
   the batch (another relay is publishing it), so per-key order holds across
   relays;
3. keep the last change per (table, key) and read the current row images in
   chunks of at most 1000 keys; a missing row or one outside the row filter
   becomes a delete; a whole-table marker (a TRUNCATE) becomes a truncate event
   with its change id, which the consumer orders against the others
   (docs/truncates.md);
4. produce the events and wait for every delivery report (`flush`);
5. only then delete the published change-log rows and commit.

A failure anywhere before the commit rolls back: nothing is deleted, the rows
are unlocked and published again by the next attempt (at-least-once).
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Delete,
    Engine,
    Insert,
    Select,
    Table,
    delete,
    insert,
    literal,
    literal_column,
    select,
)

from cdc_sync.events.encode import encode
from cdc_sync.events.model import ChangeEvent, Op
from cdc_sync.kafka.producer import Producer
from cdc_sync.ops import metrics
from cdc_sync.source.changelog import (
    Change,
    blocked_identities,
    chunks,
    epoch_ms,
    expand,
    last_per_key,
    parse_pk,
    ready_rows,
)
from cdc_sync.source.dialect import Dialect
from cdc_sync.source.images import (
    delete_event,
    match_key,
    read_images,
    row_event,
    truncate_event,
)
from cdc_sync.source.related import with_related
from cdc_sync.source.schema import CapturedTable, RelatedTable

log = logging.getLogger(__name__)

CRASH_HOOK = "CDC_SYNC_TEST_EXIT_AFTER_FLUSH"
"""Test hook: when set, the process exits right after the flush, before the delete."""


@dataclass(frozen=True)
class BatchResult:
    locked: int
    """Changes (keys) taken into the batch (0: the log is empty for us)."""
    published: int
    """Changes published, their rows deleted (the others wait for another relay)."""
    events: int
    more: bool = False
    """Rows were left for the next batch, or as many were locked as asked for."""

    @property
    def full(self) -> bool:
        """More is probably waiting and nothing was held back: go again at once."""
        return self.more and self.published == self.locked


def pending_query(changelog: Table, tables: Iterable[str]) -> Select[Any]:
    """The change-log rows of our tables in id order (the dialect adds the lock and the bound)."""
    cl = changelog.c
    return (
        select(cl.id, cl.table_name, cl.op, cl.pk, cl.changed_at)
        .where(cl.table_name.in_(sorted(tables)))
        .order_by(cl.id)
    )


def older_query(
    dialect: Dialect, changelog: Table, tables: Iterable[str], batch: Sequence[Change]
) -> Select[Any]:
    """Rows of our tables before the batch's last id that are not ours (held or late)."""
    cl = changelog.c
    ours = list(dict.fromkeys(c.id for c in batch))  # a packed row's keys share its id
    return select(cl.id, cl.table_name, cl.pk).where(
        cl.id < max(ours), cl.table_name.in_(sorted(tables)), dialect.ids_not_in(cl.id, ours)
    )


def delete_query(dialect: Dialect, changelog: Table, ids: Sequence[int]) -> Delete:
    """Delete the change-log rows `ids` (at most 1000)."""
    return delete(changelog).where(dialect.ids_in(changelog.c.id, ids))


def fan_out_query(
    dialect: Dialect,
    changelog: Table,
    parent: CapturedTable,
    lookup: RelatedTable,
    keys: Sequence[Sequence[Any]],
) -> Insert:
    """Log a change of every parent whose reference is one of ≤ 1000 lookup keys."""
    logged: Select[Any] = select(
        literal(parent.name),
        literal("U"),
        literal_column(dialect.key_json(parent, dialect.table_ref(parent.table))),
    ).where(dialect.key_condition(lookup.parent_columns, keys))
    return insert(changelog).from_select(["table_name", "op", "pk"], logged)


def next_lock(batch_size: int, limit: int, locked: int, taken: int) -> int:
    """How many rows the next batch locks, after one that locked `locked` of `limit` rows
    and took `taken` of them.

    As many as it took when packed rows left some over (rows a batch cannot hold cost a
    lock and a read of up to 1000 keys each, and are kept from other relays meanwhile);
    twice as many after a batch that took all it asked for, up to `batch_size`;
    `batch_size` again once the log is drained.
    """
    if taken < locked:
        return taken
    if locked < limit:
        return batch_size
    return min(2 * limit, batch_size)


class TriggerRelay:
    def __init__(
        self,
        engine: Engine,
        dialect: Dialect,
        changelog: Table,
        tables: Sequence[CapturedTable],
        topics: dict[str, str],
        producer: Producer,
        batch_size: int = 1000,
    ) -> None:
        self.engine = engine
        self.dialect = dialect
        self.changelog = changelog
        self.tables = {t.name: t for t in tables}
        self.lookups = {lk.name: (t, lk) for t in tables for lk in t.lookups}
        """Change-log names of lookup changes → (parent, lookup): fanned out to parents."""
        self.names = sorted([*self.tables, *self.lookups])
        self.packable = frozenset(
            [t.name for t in tables if t.packable]
            + [name for name, (_, lk) in self.lookups.items() if lk.packable]
        )
        """Change-log names whose rows may be packed (several keys in one row)."""
        self.topics = topics
        self.producer = producer
        self.batch_size = batch_size
        self.query = pending_query(changelog, self.names)
        self.lock_rows = batch_size
        """Rows the next batch locks: fewer while packed rows fill batches (`next_lock`)."""

    def run_batch(self) -> BatchResult:
        with self.engine.begin() as conn:
            limit = self.lock_rows
            rows = self.dialect.lock_batch(
                conn, self.query, limit, single_table=len(self.names) == 1
            )
            if not rows:
                self.lock_rows = self.batch_size
                return BatchResult(0, 0, 0)
            # the columns of `pending_query`, in order
            batch, taken = expand((Change(*r) for r in rows), self.packable, self.batch_size)
            self.lock_rows = next_lock(self.batch_size, limit, len(rows), taken)
            ready = batch
            if self.dialect.row_locks:
                older = conn.execute(older_query(self.dialect, self.changelog, self.names, batch))
                held, _ = expand(
                    (Change(r.id, r.table_name, "U", r.pk) for r in older),
                    self.packable,
                    limit=2**62,
                )
                ready = ready_rows(batch, blocked_identities(batch, held))
            latest = last_per_key(ready).values()
            self._fan_out(conn, [c for c in latest if c.table_name in self.lookups])
            events = self._events(conn, [c for c in latest if c.table_name in self.tables])
            self._publish(events)
            if os.environ.get(CRASH_HOOK):
                os._exit(int(os.environ[CRASH_HOOK]))
            for ids in chunks(list(dict.fromkeys(c.id for c in ready)), 1000):
                conn.execute(delete_query(self.dialect, self.changelog, ids))
        more = taken < len(rows) or len(rows) >= limit
        return BatchResult(len(batch), len(ready), len(events), more)

    def _events(self, conn: Any, latest: Any) -> list[ChangeEvent]:
        by_table: dict[str, list[Change]] = defaultdict(list)
        for change in latest:
            by_table[change.table_name].append(change)
        events = []
        for name, changes in by_table.items():
            table = self.tables[name]
            keys = [table.key_values(parse_pk(c.pk)) for c in changes if not c.whole_table]
            images = read_images(conn, self.dialect, table, keys)
            if table.related:
                images = with_related(conn, self.dialect, table, images)
            in_order = iter(keys)
            for change in changes:
                ts_ms = epoch_ms(change.changed_at)
                if change.whole_table:
                    events.append(truncate_event(table, change.id, ts_ms))
                    continue
                key = next(in_order)
                row, inside = images.get(match_key(key), (None, False))
                if row is None or not inside:
                    events.append(delete_event(table, key, change.id, ts_ms))
                else:
                    op: Op = "c" if change.op == "I" else "u"
                    events.append(row_event(table, op, row, change.id, ts_ms))
        return events

    def _fan_out(self, conn: Connection, changes: Sequence[Change]) -> None:
        """A lookup row changed: log a change of every parent referencing its key.

        The parents' change-log rows are written in this transaction (one
        INSERT … SELECT per ≤ 1000 keys, no rows through this process) and go
        out in the following batches, `batch_size` at a time, however many
        parents share the code.
        """
        by_lookup: dict[str, list[Change]] = defaultdict(list)
        for change in changes:
            by_lookup[change.table_name].append(change)
        for name, found in by_lookup.items():
            parent, lookup = self.lookups[name]
            keys = [lookup.parent_values(parse_pk(c.pk)) for c in found]
            for chunk in chunks(keys, 1000):
                conn.execute(fan_out_query(self.dialect, self.changelog, parent, lookup, chunk))

    def _publish(self, events: list[ChangeEvent]) -> None:
        now_ms = int(time.time() * 1000)
        for event in events:
            topic = self.topics[event.table or ""]
            for key, value in encode(event, now_ms):
                self.producer.send(topic, key, value)
        self.producer.flush()
        for table, n in Counter(e.table or "" for e in events).items():
            metrics.relay_published(table, n)
