"""The database's own zone is the default for naive date-times (PostgreSQL: the session's)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, text

from cdc_sync.database_url import normalise_url
from cdc_sync.source.zone import resolve_zone

pytestmark = pytest.mark.stack


def test_postgresql_zone_is_the_sessions_time_zone(pg_url: str) -> None:
    engine = create_engine(normalise_url(pg_url))
    with engine.connect() as conn:
        conn.execute(text("SET TIME ZONE 'Asia/Seoul'"))
        zone = resolve_zone(conn, None)
        assert zone.utcoffset(dt.datetime(2024, 1, 1)) == dt.timedelta(hours=9)
        assert resolve_zone(conn, "UTC") == dt.UTC or str(resolve_zone(conn, "UTC")) == "UTC"
    engine.dispose()
