"""Naive DATE/TIMESTAMP values are wall-clock time of the source's zone (`[source] time_zone`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, create_engine, text
from sqlalchemy.dialects import oracle

from cdc_sync.bootstrap.reader import SourceReader
from cdc_sync.config import SourceSettings, TableSettings
from cdc_sync.documents.mapping import document_for_row
from cdc_sync.errors import ConfigError
from cdc_sync.source.images import IN_FILTER, split_row
from cdc_sync.source.schema import CapturedTable
from cdc_sync.source.zone import naive_times, resolve_zone

SEOUL = dt.timezone(dt.timedelta(hours=9))


def test_time_zone_key_names_zones_and_rejects_others() -> None:
    for name in ("Asia/Seoul", "UTC", "+09:00", "-03:30"):
        assert SourceSettings(url="sqlite://", time_zone=name)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a time zone"):
        SourceSettings(url="sqlite://", time_zone="Mars/Base")  # type: ignore[arg-type]


def test_naive_time_columns_are_dates_and_timestamps_without_zone() -> None:
    table = Table(
        "t",
        MetaData(),
        Column("id", oracle.DATE, primary_key=True),
        Column("modified", oracle.DATE),
        Column("at", oracle.TIMESTAMP),
        Column("zoned", oracle.TIMESTAMP(timezone=True)),
        Column("local", oracle.TIMESTAMP(local_timezone=True)),
        Column("n", Integer),
    )
    assert naive_times(table, skip=["id"]) == {"modified", "at"}


def test_relay_rows_carry_the_zone_on_non_key_columns_only() -> None:
    """A DATE of 09:00 in Seoul is 00:00 UTC: ts_ms and epoch fields must say so; the key stays."""
    table = Table(
        "t", MetaData(), Column("day", DateTime, primary_key=True), Column("modified", DateTime)
    )
    settings = TableSettings(
        name="T",
        primary_key=["DAY"],
        fields={"DAY": "day", "MODIFIED": {"name": "modified", "type": "epoch"}},  # type: ignore[dict-item]
    )
    names = {"day": "DAY", "modified": "MODIFIED"}
    captured = CapturedTable(settings, table, [table.c.day], names, SEOUL, frozenset({"MODIFIED"}))
    nine = dt.datetime(2024, 3, 1, 9, 0)
    row, inside = split_row(captured, {table.c.day: nine, table.c.modified: nine, IN_FILTER: 1})
    assert inside and row == {"DAY": nine, "MODIFIED": nine.replace(tzinfo=SEOUL)}
    document = document_for_row(settings, row).document
    assert document is not None
    assert document["modified"] == dt.datetime(2024, 3, 1, 0, 0, tzinfo=dt.UTC).timestamp()


def test_bootstrap_reads_naive_times_in_the_configured_zone(tmp_path: Path) -> None:
    """Except for debezium tables: their documents come from Debezium's own conversion."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE T (ID INTEGER PRIMARY KEY, MODIFIED DATETIME)"))
        conn.execute(text("INSERT INTO T VALUES (1, '2024-03-01 09:00:00.000000')"))
    settings = TableSettings(name="T", primary_key=["ID"])
    [[row]] = SourceReader(engine, settings, time_zone="+09:00").chunks(10)
    assert row["MODIFIED"] == dt.datetime(2024, 3, 1, 9, 0, tzinfo=SEOUL)
    [[utc]] = SourceReader(engine, settings).chunks(10)  # SQLite's own clock is UTC
    assert utc["MODIFIED"] == dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
    debezium = TableSettings(name="T", primary_key=["ID"], capture="debezium")
    [[as_read]] = SourceReader(engine, debezium, time_zone="+09:00").chunks(10)
    assert as_read["MODIFIED"] == dt.datetime(2024, 3, 1, 9, 0)  # as the consumer gets it
    engine.dispose()


def test_a_database_zone_we_cannot_name_asks_for_the_key(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as conn:
        assert resolve_zone(conn, None) is dt.UTC
        assert resolve_zone(conn, "Asia/Seoul").utcoffset(dt.datetime(2024, 1, 1)) == (
            dt.timedelta(hours=9)
        )
    engine.dispose()
    with pytest.raises(ConfigError, match=r"source\.time_zone"):
        from cdc_sync.source import zone

        class Answer:
            def scalar_one(self) -> str:
                return "<+0930>-09:30"

        class Conn:
            dialect = oracle.dialect()

            def execute(self, _: object) -> Answer:
                return Answer()

        zone.resolve_zone(Conn(), None)  # type: ignore[arg-type]
