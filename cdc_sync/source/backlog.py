"""How much of the change log waits for the relay, per table (for status; bounded cost)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, func, select

from cdc_sync.config import SourceSettings
from cdc_sync.source.changelog import changelog_table, epoch_ms, packed_keys
from cdc_sync.source.dialect import Dialect, dialect_for


def changelog_backlog(
    engine: Engine, source: SourceSettings, tables: Iterable[str], cap: int
) -> dict[str, tuple[int, dt.datetime | None]]:
    """Per table: changes waiting — one per key, so a packed row counts each of its keys —
    counted over at most `cap` change-log rows and up to about `cap` changes, and the
    oldest one's time."""
    log = changelog_table(source)
    dialect = dialect_for(engine.dialect)
    packs = engine.dialect.name == "postgresql"  # the only dialect whose triggers pack
    found: dict[str, tuple[int, dt.datetime | None]] = {}
    with engine.connect() as conn:
        for name in tables:
            rows = int(conn.execute(waiting_query(dialect, log, name, cap)).scalar_one())
            changes = rows + _more_in_packed_rows(conn, log, name, cap, rows) if packs else rows
            oldest = None
            if rows:
                first = conn.execute(oldest_query(dialect, log, name)).scalar()
                ms = epoch_ms(first)
                oldest = None if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
            found[name] = (changes, oldest)
    return found


def waiting_query(dialect: Dialect, log: Table, name: str, cap: int) -> Select[Any]:
    """How many of the table's rows wait, counting at most `cap`."""
    waiting = dialect.by_table(select(log.c.id).where(log.c.table_name == name).limit(cap))
    return select(func.count()).select_from(waiting.subquery())


def oldest_query(dialect: Dialect, log: Table, name: str) -> Select[Any]:
    """The change time of the table's oldest waiting row."""
    query = select(log.c.changed_at).where(log.c.table_name == name)
    return dialect.by_table(query.order_by(log.c.id).limit(1))


def _more_in_packed_rows(conn: Connection, log: Table, name: str, cap: int, rows: int) -> int:
    """The keys of packed rows beyond one each, among the first `cap` rows; the rows are
    read only until `cap` changes are counted (a packed row holds up to 1000)."""
    if not rows:
        return 0
    first = select(log.c.pk).where(log.c.table_name == name).limit(cap).subquery()
    packed = conn.execution_options(yield_per=100).execute(
        select(first.c.pk).where(first.c.pk.startswith("[["))
    )
    more = 0
    for (pk,) in packed:
        more += len(packed_keys(pk)) - 1
        if rows + more >= cap:
            break
    packed.close()
    return more
