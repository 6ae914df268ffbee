"""Truncate barriers in the state store, shared by every consumer of the group.

One row per consumer group and table: the latest truncate's source position and its status,
``announced`` (consumers hold the table's writes and align their partitions)
or ``enqueued`` (the clear-all task is in Meilisearch's queue: writes go on).
An ack row per partition says that partition was aligned to that position.
The argument is in docs/truncates.md.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Literal, cast

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from cdc_sync.events.position import Position
from cdc_sync.state.records import utcnow
from cdc_sync.state.store import StateStore
from cdc_sync.state.tables import truncate_acks, truncates

Status = Literal["announced", "enqueued"]


@dataclass(frozen=True, slots=True)
class Barrier:
    table: str
    position: Position
    status: Status
    partitions: int
    """The topic's partition count when the truncate was announced."""
    aligned: frozenset[int] = frozenset()
    """Partitions aligned to this position (read while announced)."""

    @property
    def ready(self) -> bool:
        """Every partition is aligned: the clear-all may be enqueued."""
        return len(self.aligned) >= self.partitions


class TruncateLog:
    """The barriers' rows of one consumer group (tables created with the store's). Each
    group aligns, acks and clears its own index: groups sharing a store never mix their
    barriers. Errors reach the caller, which decides (see `consumer/truncates.py`)."""

    def __init__(self, store: StateStore, group: str) -> None:
        self.engine = store.engine
        self.group = group

    def announce(self, table: str, position: Position, partitions: int) -> Barrier:
        """Record a truncate unless a later one is recorded; returns the table's barrier."""
        text = position.text()
        row = {"position": text, "status": "announced", "partitions": partitions}
        with contextlib.suppress(IntegrityError), self.engine.begin() as conn:
            conn.execute(
                insert(truncates).values(
                    group_id=self.group, table_name=table, updated_at=utcnow(), **row
                )
            )
        with self.engine.begin() as conn:
            # Only ever forward (or to another kind of position: a new source).
            kind = position.kind + ":"
            conn.execute(
                update(truncates)
                .where(truncates.c.group_id == self.group, truncates.c.table_name == table)
                .where((truncates.c.position < text) | ~truncates.c.position.startswith(kind))
                .values(updated_at=utcnow(), **row)
            )
        found = self.barriers().get(table)
        assert found is not None
        return found

    def mark_enqueued(self, table: str, position: Position) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(truncates)
                .where(truncates.c.group_id == self.group, truncates.c.table_name == table)
                .where(truncates.c.position == position.text())
                .values(status="enqueued", updated_at=utcnow())
            )

    def ack(self, table: str, partition: int, position: Position) -> None:
        """Partition `partition` of the table's topic is aligned to `position`."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(truncate_acks)
                .where(truncate_acks.c.group_id == self.group)
                .where(truncate_acks.c.table_name == table, truncate_acks.c.partition == partition)
                .values(position=position.text())
            ).rowcount
            if not done:
                conn.execute(
                    insert(truncate_acks).values(
                        group_id=self.group,
                        table_name=table,
                        partition=partition,
                        position=position.text(),
                    )
                )

    def barriers(self) -> dict[str, Barrier]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(truncates).where(truncates.c.group_id == self.group)).all()
            announced = [r.table_name for r in rows if r.status == "announced"]
            acks = (
                conn.execute(
                    select(truncate_acks)
                    .where(truncate_acks.c.group_id == self.group)
                    .where(truncate_acks.c.table_name.in_(announced))
                ).all()
                if announced
                else []
            )
        aligned: dict[tuple[str, str], set[int]] = {}
        for ack in acks:
            aligned.setdefault((ack.table_name, ack.position), set()).add(ack.partition)
        return {
            r.table_name: Barrier(
                r.table_name,
                Position.parse(r.position),
                cast(Status, r.status),
                r.partitions,
                frozenset(aligned.get((r.table_name, r.position), ())),
            )
            for r in rows
        }
