"""The continuous verifier's rows in the state store: each table's cursor, and the keys it
asks the relay to publish again (timestamp capture, docs/verify.md).

Calls retry the store's connection problems like every other store call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update

from cdc_sync.state.records import aware, utcnow
from cdc_sync.state.store import StateStore
from cdc_sync.state.tables import repairs, verify_cursors

Request = tuple[int, str, list[Any]]
"""(request id, table, key values as JSON values)."""


class VerifyLog:
    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.engine = store.engine

    def cursor(self, table: str) -> dict[str, Any] | None:
        def read() -> dict[str, Any] | None:
            with self.engine.connect() as conn:
                query = select(verify_cursors.c.cursor).where(verify_cursors.c.table_name == table)
                return conn.execute(query).scalar()

        return self.store._retry(read)

    def save_cursor(self, table: str, cursor: dict[str, Any]) -> None:
        def write() -> None:
            values = {"cursor": cursor, "updated_at": utcnow()}
            with self.engine.begin() as conn:
                done = conn.execute(
                    update(verify_cursors)
                    .where(verify_cursors.c.table_name == table)
                    .values(**values)
                ).rowcount
                if not done:
                    conn.execute(insert(verify_cursors).values(table_name=table, **values))

        self.store._retry(write)

    def cursors(self) -> dict[str, tuple[dict[str, Any], dt.datetime]]:
        """Every table's cursor and when it was saved, for status."""

        def read() -> dict[str, tuple[dict[str, Any], dt.datetime]]:
            with self.engine.connect() as conn:
                rows = conn.execute(select(verify_cursors)).all()
            return {r.table_name: (r.cursor, aware(r.updated_at)) for r in rows}

        return self.store._retry(read)

    def request_repairs(self, table: str, keys: Sequence[list[Any]]) -> None:
        """Ask the relay to publish these keys' current images (JSON-ready key values)."""
        if not keys:
            return
        now = utcnow()
        rows = [{"table_name": table, "key": key, "requested_at": now} for key in keys]

        def write() -> None:
            with self.engine.begin() as conn:
                conn.execute(insert(repairs), rows)

        self.store._retry(write)

    def pending_repairs(self, tables: Sequence[str], limit: int) -> list[Request]:
        def read() -> list[Request]:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(repairs.c.id, repairs.c.table_name, repairs.c.key)
                    .where(repairs.c.table_name.in_(sorted(tables)))
                    .order_by(repairs.c.id)
                    .limit(limit)
                ).all()
            return [(r.id, r.table_name, list(r.key)) for r in rows]

        return self.store._retry(read)

    def done_repairs(self, ids: Sequence[int]) -> None:
        def write() -> None:
            with self.engine.begin() as conn:
                for start in range(0, len(ids), 1000):  # Oracle: at most 1000 in an IN list
                    part = list(ids[start : start + 1000])
                    conn.execute(delete(repairs).where(repairs.c.id.in_(part)))

        self.store._retry(write)
