"""Repairs the continuous verifier routes through the stream (docs/verify.md).

- Trigger capture: `log_changes` writes a change-log row per key, its ``pk`` spelled by
  the database with the very expression the table's triggers use, so the relay takes it
  like any change: in id order, under the same per-key hold across relays, publishing
  the row's *current* image (or a delete) when it gets there.
- Timestamp capture: the verifier leaves the keys in the state store (`VerifyLog`), and
  `RepairDrain`, in the relay's own loop, reads their current images and publishes them
  between polls: the table's one publisher reads and publishes in one order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Engine,
    Insert,
    Select,
    Table,
    bindparam,
    cast,
    insert,
    literal,
    literal_column,
    select,
)

from cdc_sync.kafka.producer import Producer
from cdc_sync.source.dialect import Dialect
from cdc_sync.source.schema import CapturedTable
from cdc_sync.source.timestamp import load_value, parent_events, publish
from cdc_sync.state.verify import VerifyLog

log = logging.getLogger(__name__)

REPAIR_POLL_S = 0.25
"""How often the relay looks for repairs asked of it (one small state-store query)."""


def log_changes_query(dialect: Dialect, changelog: Table, table: CapturedTable) -> Insert:
    """``INSERT INTO <change log> SELECT '<table>', 'U', <the trigger's pk> FROM (the key as
    bind values)``, one row per set of bind values ``k0``, ``k1``, …"""
    values = []
    for i, column in enumerate(table.key_columns):
        bound = bindparam(f"k{i}", type_=column.type)
        # SQLite types by value: a CAST to a declared DATETIME would make a number of it
        values.append(
            (bound if dialect.name == "sqlite" else cast(bound, column.type)).label(column.name)
        )
    key = select(*values).subquery("k")
    logged: Select[Any] = select(
        literal(table.name), literal("U"), literal_column(dialect.key_json(table, "k"))
    ).select_from(key)
    return insert(changelog).from_select(["table_name", "op", "pk"], logged)


def log_changes(
    engine: Engine,
    dialect: Dialect,
    changelog: Table,
    table: CapturedTable,
    keys: Sequence[Sequence[Any]],
) -> None:
    """One change-log row per key, in one transaction."""
    if not keys:
        return
    rows = [{f"k{i}": value for i, value in enumerate(key)} for key in keys]
    with engine.begin() as conn:
        conn.execute(log_changes_query(dialect, changelog, table), rows)


class RepairDrain:
    """Publishes the current documents of the keys the verifier asked for (timestamp tables)."""

    def __init__(
        self,
        engine: Engine,
        dialect: Dialect,
        tables: Sequence[CapturedTable],
        topics: dict[str, str],
        producer: Producer,
        requests: VerifyLog,
        batch_size: int = 1000,
    ) -> None:
        self.engine, self.dialect, self.producer = engine, dialect, producer
        self.tables = {t.settings.qualified_name: t for t in tables}
        self.topics, self.requests, self.batch_size = topics, requests, batch_size
        self._next_at = 0.0

    def run(self, force: bool = False) -> int:
        """Publish what is asked (looking at most every REPAIR_POLL_S); events published."""
        now = time.monotonic()
        if not force and now < self._next_at:
            return 0
        pending = self.requests.pending_repairs(list(self.tables), self.batch_size)
        if not pending:
            self._next_at = now + REPAIR_POLL_S
            return 0
        by_table: dict[str, list[list[Any]]] = {}
        for _, name, key in pending:
            by_table.setdefault(name, []).append([load_value(v) for v in key])
        published = 0
        with self.engine.connect() as conn:
            for name, keys in by_table.items():
                table = self.tables[name]
                events = parent_events(conn, self.dialect, table, keys, None)
                published += publish(self.producer, self.topics[table.name], events)
        self.requests.done_repairs([request_id for request_id, _, _ in pending])
        log.info("published %d documents the verifier asked for", published)
        return published
