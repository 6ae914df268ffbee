"""Timestamp capture (SPEC §3.2): poll rows whose modified column moved, in keyset order.

No DDL in the source. Each cycle starts at ``watermark - overlap`` and pages
forward in (modified column, primary key) order until it reaches the end; the
watermark (the largest modified value published) is stored in the state store
after each page is acknowledged by Kafka, so a restart resumes from it. The
overlap window picks up rows whose transaction committed late (their modified
value is older than rows already seen). Rows re-read unchanged in the window
are not published again while the process runs: a row is "unchanged" when its
modified value *and* its content are the ones published (a modified column that
ticks once a second, SQLite's CURRENT_TIMESTAMP or Oracle's DATE, gives two
changes within that second the same value). Events are full row images, so a
replay after a restart is harmless.

A composed table (children, lookups) has one poller per table: each child and
lookup table pages by its own modified column under its own watermark, and the
parents its changed rows name are read and published whole.

Limits: hard deletes are invisible (use a soft-delete column, or the periodic
key sweep, `sweep.py`); a row committed
later than `overlap_s` after its modified value, or written by a client whose
clock lags by more than that, is missed; rows whose modified column is NULL are
never seen. Numeric modified columns are read as seconds for the overlap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, Engine, Select, select

from cdc_sync.events.encode import encode
from cdc_sync.events.model import ChangeEvent
from cdc_sync.kafka.producer import Producer
from cdc_sync.source.changelog import chunks, epoch_ms
from cdc_sync.source.dialect import Dialect
from cdc_sync.source.images import (
    KeyTuple,
    delete_event,
    image_query,
    is_soft_deleted,
    key_of_row,
    match_key,
    read_images,
    row_event,
    split_row,
)
from cdc_sync.source.keyset import after_key
from cdc_sync.source.related import attach_related, distinct_keys, with_related
from cdc_sync.source.schema import CapturedTable, RelatedTable
from cdc_sync.source.zone import localize
from cdc_sync.state.store import StateStore

MODIFIED = "cdc_sync_modified"

log = logging.getLogger(__name__)


def page_query(
    table: CapturedTable,
    modified: Column[Any],
    position: Sequence[Any] | None,
    since: Any,
    limit: int,
) -> Select[Any]:
    """One page in (modified column, key) order: after `position`, or from `since` (None: all)."""
    return _page(image_query(table), modified, table.key_columns, position, since, limit)


def related_page_query(
    related: RelatedTable, position: Sequence[Any] | None, since: Any, limit: int
) -> Select[Any]:
    """The same page over a child or lookup table, by its own modified column."""
    assert related.modified is not None
    base = select(*related.table.c)
    return _page(base, related.modified, related.key_columns, position, since, limit)


def _page(
    base: Select[Any],
    modified: Column[Any],
    keys: Sequence[Column[Any]],
    position: Sequence[Any] | None,
    since: Any,
    limit: int,
) -> Select[Any]:
    order = [modified, *keys]
    stmt = base.add_columns(modified.label(MODIFIED))
    if position is not None:
        stmt = stmt.where(after_key(order, position))
    elif since is not None:
        stmt = stmt.where(modified >= since)
    else:
        stmt = stmt.where(modified.is_not(None))
    return stmt.order_by(*order).limit(limit)


def shift(value: Any, seconds: float) -> Any:
    """`value` moved back by the overlap window."""
    if isinstance(value, dt.datetime):
        return value - dt.timedelta(seconds=seconds)
    if isinstance(value, dt.date):
        return value - dt.timedelta(days=max(1, int(seconds // 86400) + 1))
    if isinstance(value, Decimal):
        return value - Decimal(str(seconds))
    if isinstance(value, int | float):
        return value - seconds
    return value


def reads_instants(column: Column[Any]) -> bool:
    """Whether the column's values are read as aware datetimes (a zoned timestamp)."""
    kind = column.type
    return bool(getattr(kind, "timezone", False) or getattr(kind, "local_timezone", False))


def dump_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return {"iso": value.isoformat(), "kind": type(value).__name__}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    return value


def load_value(stored: Any) -> Any:
    if isinstance(stored, dict) and "iso" in stored:
        if stored["kind"] == "date":
            return dt.date.fromisoformat(stored["iso"])
        return dt.datetime.fromisoformat(stored["iso"])
    if isinstance(stored, dict) and "decimal" in stored:
        return Decimal(stored["decimal"])
    return stored


def content_digest(mapping: Any) -> bytes:
    """A fingerprint of a polled row's values: tells a row changed within one tick of its
    modified column from the same row read again."""
    return hashlib.blake2b(repr(tuple(mapping.values())).encode(), digest_size=16).digest()


def parent_events(
    conn: Connection,
    dialect: Dialect,
    table: CapturedTable,
    keys: list[list[Any]],
    ts_ms: int | None,
) -> list[ChangeEvent]:
    """Whole documents of the parents with these keys; a parent gone or filtered out: a delete."""
    images = with_related(conn, dialect, table, read_images(conn, dialect, table, keys))
    events = []
    for key in keys:
        row, inside = images.get(match_key(key), (None, False))
        if row is None or not inside or is_soft_deleted(table, row):
            events.append(delete_event(table, key, None, ts_ms))
        else:
            events.append(row_event(table, "u", row, None, ts_ms))
    return events


class TimestampPoller:
    """Pages one table by (modified column, key) from its watermark and publishes.

    Without `related` it polls the configured table itself; with a child or
    lookup table, it polls that table and republishes the parents it names.
    """

    def __init__(
        self,
        engine: Engine,
        dialect: Dialect,
        table: CapturedTable,
        topic: str,
        producer: Producer,
        state: StateStore,
        batch_size: int = 1000,
        overlap_s: float = 5.0,
        related: RelatedTable | None = None,
    ) -> None:
        self.engine = engine
        self.dialect = dialect
        self.table = table
        self.related = related
        self.topic = topic
        self.producer = producer
        self.state = state
        self.batch_size = batch_size
        self.overlap_s = overlap_s
        if related is None:
            assert table.settings.modified_column
            self.state_key = f"timestamp:{table.name}"
            self.modified = table.column(table.settings.modified_column)
            self.keys = table.key_columns
        else:
            assert related.modified is not None
            self.state_key = f"timestamp:{table.name}:{related.slot}"
            self.modified = related.modified
            self.keys = related.key_columns
        self.position: list[Any] | None = None
        """Keyset position inside the current cycle; None: start a new cycle."""
        self.seen: dict[KeyTuple, tuple[Any, bytes]] = {}
        """Key → (modified value, content digest) published, for rows re-read in the overlap."""

    def watermark(self) -> Any:
        value = load_value(self.state.get_watermark(self.state_key))
        if (
            isinstance(value, dt.datetime)
            and value.tzinfo is None
            and reads_instants(self.modified)
        ):
            # Stored before zoned columns were read as UTC instants: it names no instant.
            log.warning("%s: watermark %s has no zone; polling starts again", self.state_key, value)
            return None
        return value

    def poll(self) -> tuple[int, bool]:
        """Read one page; return (events published, whether more pages follow)."""
        watermark = self.watermark()
        since = None if watermark is None else shift(watermark, self.overlap_s)
        if self.related is None:
            stmt = page_query(self.table, self.modified, self.position, since, self.batch_size)
        else:
            stmt = related_page_query(self.related, self.position, since, self.batch_size)
        with self.engine.connect() as conn:
            mappings = conn.execute(stmt).mappings().all()
            fresh = []
            for mapping in mappings:
                key = match_key(mapping[c] for c in self.keys)
                image = (mapping[MODIFIED], content_digest(mapping))
                if self.seen.get(key) != image:
                    self.seen[key] = image
                    fresh.append(mapping)
            if self.related is None:
                published = self._publish(self._own_events(conn, fresh))
            else:
                published = self._related_events(conn, fresh)
        more = len(mappings) == self.batch_size
        if mappings:
            last = mappings[-1]
            self.position = [last[MODIFIED], *(last[c] for c in self.keys)]
            if watermark is None or self.position[0] > watermark:
                self.state.set_watermark(self.state_key, dump_value(self.position[0]))
        if not more:
            self._end_cycle()
        return published, more

    def _ts_ms(self, modified: Any) -> int | None:
        instant = localize(modified, self.table.zone)
        return epoch_ms(instant) if isinstance(instant, dt.datetime) else None

    def _own_events(self, conn: Connection, mappings: list[Any]) -> list[ChangeEvent]:
        events: list[ChangeEvent] = []
        live: list[tuple[dict[str, Any], int | None]] = []
        for mapping in mappings:
            row, inside = split_row(self.table, mapping)
            ts_ms = self._ts_ms(mapping[MODIFIED])
            if not inside or is_soft_deleted(self.table, row):
                events.append(delete_event(self.table, key_of_row(self.table, row), None, ts_ms))
            else:
                live.append((row, ts_ms))
        if self.table.related and live:
            composed = attach_related(conn, self.dialect, self.table, [r for r, _ in live])
            live = [(row, ts) for row, (_, ts) in zip(composed, live, strict=True)]
        events += [row_event(self.table, "u", row, None, ts_ms) for row, ts_ms in live]
        return events

    def _related_events(self, conn: Connection, mappings: list[Any]) -> int:
        """The parents named by changed child or lookup rows, `batch_size` at a time."""
        assert self.related is not None
        if not mappings:
            return 0
        links = distinct_keys([[m[c] for c in self.related.link_columns] for m in mappings])
        ts_ms = self._ts_ms(max(m[MODIFIED] for m in mappings))
        if self.related.is_child:
            keys = [self.table.key_values(k) for k in links]
            return sum(
                self._publish(parent_events(conn, self.dialect, self.table, list(part), ts_ms))
                for part in chunks(keys, self.batch_size)
            )
        published = 0
        referencing = select(*self.table.key_columns).order_by(*self.table.key_columns)
        for part in chunks(links, 1000):
            stmt = referencing.where(self.dialect.key_condition(self.related.parent_columns, part))
            result = conn.execute(stmt)
            while batch := result.fetchmany(self.batch_size):
                keys = [list(row) for row in batch]
                published += self._publish(
                    parent_events(conn, self.dialect, self.table, keys, ts_ms)
                )
        return published

    def _end_cycle(self) -> None:
        self.position = None
        watermark = self.watermark()
        if watermark is not None:
            horizon = shift(watermark, self.overlap_s)
            self.seen = {
                k: seen
                for k, seen in self.seen.items()
                if seen[0] is not None and seen[0] >= horizon
            }

    def _publish(self, events: list[ChangeEvent]) -> int:
        return publish(self.producer, self.topic, events)


def publish(producer: Producer, topic: str, events: list[ChangeEvent]) -> int:
    """Send the events and wait until Kafka acknowledged every one; how many were sent."""
    if not events:
        return 0
    now_ms = int(time.time() * 1000)
    for event in events:
        for key, value in encode(event, now_ms):
            producer.send(topic, key, value)
    producer.flush()
    return len(events)
