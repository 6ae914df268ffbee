"""How much of the change log waits for the relay, per table (for status; bounded cost)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Engine, func, select

from cdc_sync.config import SourceSettings
from cdc_sync.source.changelog import changelog_table, epoch_ms


def changelog_backlog(
    engine: Engine, source: SourceSettings, tables: Iterable[str], cap: int
) -> dict[str, tuple[int, dt.datetime | None]]:
    """Per table: change-log rows waiting (counted up to `cap`) and the oldest one's time."""
    log = changelog_table(source).c
    found: dict[str, tuple[int, dt.datetime | None]] = {}
    with engine.connect() as conn:
        for name in tables:
            waiting = select(log.id).where(log.table_name == name).limit(cap).subquery()
            rows = conn.execute(select(func.count()).select_from(waiting)).scalar_one()
            oldest = None
            if rows:
                first = conn.execute(
                    select(log.changed_at).where(log.table_name == name).order_by(log.id).limit(1)
                ).scalar()
                ms = epoch_ms(first)
                oldest = None if ms is None else dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
            found[name] = (int(rows), oldest)
    return found
