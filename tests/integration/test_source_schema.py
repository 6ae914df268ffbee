"""Reflection finds configured tables however the database spells them."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from cdc_sync.config import TableSettings
from cdc_sync.source.tables import reflect_tables


@pytest.mark.parametrize("created_as", ["CRASIVTTST", "crasivttst", "CrasivtTst"])
def test_sqlite_table_found_with_its_primary_key(sqlite_url: str, created_as: str) -> None:
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {created_as} (ID INTEGER PRIMARY KEY, TITLE TEXT)"))
    table = TableSettings(name="CRASIVTTST", primary_key=["ID"])
    with engine.connect() as conn:
        [found] = reflect_tables(conn, [(0, table)])
    assert [c.name.upper() for c in found.table.primary_key.columns] == ["ID"]
    engine.dispose()
