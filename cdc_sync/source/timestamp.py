"""Timestamp capture (SPEC §3.2): poll rows whose modified column moved, in keyset order.

No DDL in the source. Each cycle starts at ``watermark - overlap`` and pages
forward in (modified column, primary key) order until it reaches the end; the
watermark (the largest modified value published) is stored in the state store
after each page is acknowledged by Kafka, so a restart resumes from it. The
overlap window picks up rows whose transaction committed late (their modified
value is older than rows already seen). Rows re-read in the window are not
published again while the process runs: events are full row images, so a
replay after a restart is harmless.

Limits: hard deletes are invisible (use a soft-delete column); a row committed
later than `overlap_s` after its modified value, or written by a client whose
clock lags by more than that, is missed; rows whose modified column is NULL are
never seen. Numeric modified columns are read as seconds for the overlap.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Engine, Select

from cdc_sync.events.encode import encode
from cdc_sync.events.model import ChangeEvent
from cdc_sync.kafka.producer import Producer
from cdc_sync.source.changelog import epoch_ms
from cdc_sync.source.images import (
    KeyTuple,
    delete_event,
    image_query,
    is_soft_deleted,
    key_of_row,
    match_key,
    row_event,
    split_row,
)
from cdc_sync.source.keyset import after_key
from cdc_sync.source.schema import CapturedTable
from cdc_sync.source.zone import localize
from cdc_sync.state.store import StateStore

MODIFIED = "cdc_sync_modified"


def page_query(
    table: CapturedTable,
    modified: Column[Any],
    position: Sequence[Any] | None,
    since: Any,
    limit: int,
) -> Select[Any]:
    """One page in (modified column, key) order: after `position`, or from `since` (None: all)."""
    order = [modified, *table.key_columns]
    stmt = image_query(table).add_columns(modified.label(MODIFIED))
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


class TimestampPoller:
    def __init__(
        self,
        engine: Engine,
        table: CapturedTable,
        topic: str,
        producer: Producer,
        state: StateStore,
        batch_size: int = 1000,
        overlap_s: float = 5.0,
    ) -> None:
        self.engine = engine
        self.table = table
        self.topic = topic
        self.producer = producer
        self.state = state
        self.batch_size = batch_size
        self.overlap_s = overlap_s
        self.state_key = f"timestamp:{table.name}"
        assert table.settings.modified_column
        self.modified = table.column(table.settings.modified_column)
        self.position: list[Any] | None = None
        """Keyset position inside the current cycle; None: start a new cycle."""
        self.seen: dict[KeyTuple, Any] = {}
        """Key → modified value already published, for rows re-read in the overlap."""

    def watermark(self) -> Any:
        return load_value(self.state.get_watermark(self.state_key))

    def poll(self) -> tuple[int, bool]:
        """Read one page; return (events published, whether more pages follow)."""
        watermark = self.watermark()
        since = None if watermark is None else shift(watermark, self.overlap_s)
        stmt = page_query(self.table, self.modified, self.position, since, self.batch_size)
        with self.engine.connect() as conn:
            mappings = conn.execute(stmt).mappings().all()
        events: list[ChangeEvent] = []
        for mapping in mappings:
            row, inside = split_row(self.table, mapping)
            modified = mapping[MODIFIED]
            key = key_of_row(self.table, row)
            if self.seen.get(match_key(key)) == modified:
                continue
            self.seen[match_key(key)] = modified
            instant = localize(modified, self.table.zone)
            ts_ms = epoch_ms(instant) if isinstance(instant, dt.datetime) else None
            if not inside or is_soft_deleted(self.table, row):
                events.append(delete_event(self.table, key, None, ts_ms))
            else:
                events.append(row_event(self.table, "u", row, None, ts_ms))
        self._publish(events)
        more = len(mappings) == self.batch_size
        if mappings:
            last = mappings[-1]
            self.position = [last[MODIFIED], *(last[c] for c in self.table.key_columns)]
            if watermark is None or self.position[0] > watermark:
                self.state.set_watermark(self.state_key, dump_value(self.position[0]))
        if not more:
            self._end_cycle()
        return len(events), more

    def _end_cycle(self) -> None:
        self.position = None
        watermark = self.watermark()
        if watermark is not None:
            horizon = shift(watermark, self.overlap_s)
            self.seen = {k: m for k, m in self.seen.items() if m is not None and m >= horizon}

    def _publish(self, events: list[ChangeEvent]) -> None:
        if not events:
            return
        now_ms = int(time.time() * 1000)
        for event in events:
            for key, value in encode(event, now_ms):
                self.producer.send(self.topic, key, value)
        self.producer.flush()
