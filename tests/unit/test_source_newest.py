"""The newest modified time of a timestamp-capture table: one MAX over the modified column,
on SQLite for real and compiled for Oracle (MAX is an aggregate of standard SQL; Oracle Database
SQL Language Reference, "MAX")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, create_engine, text
from sqlalchemy.dialects import oracle

from cdc_sync.config import TableSettings
from cdc_sync.source.newest import NewestModified, newest_query


def test_the_newest_value_of_the_modified_column(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 's.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, modified TIMESTAMP)"))
        conn.execute(
            text("INSERT INTO notes VALUES (1, '2024-05-01 09:00:00'), (2, '2024-05-01 10:30:00')")
        )
    table = TableSettings.model_validate(
        {
            "name": "NOTES",
            "primary_key": ["ID"],
            "capture": "timestamp",
            "modified_column": "MODIFIED",
        }
    )
    newest = NewestModified(engine)
    assert newest.read([table]) == {"NOTES": dt.datetime(2024, 5, 1, 10, 30)}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO notes VALUES (3, '2024-05-02 08:00:00')"))
    assert newest.read([table]) == {"NOTES": dt.datetime(2024, 5, 2, 8, 0)}
    engine.dispose()


def test_compiled_for_oracle() -> None:
    """Names as SQLAlchemy's Oracle reflection returns them: case-insensitive (upper-case in
    the dictionary) as lower case (SQLAlchemy docs, Oracle dialect, "Identifier Casing")."""
    crasivttst = Table(
        "crasivttst",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("modified_date", oracle.DATE),
        schema="app",
    )
    sql = str(newest_query(crasivttst.c.modified_date).compile(dialect=oracle.dialect()))
    assert " ".join(sql.split()) == (
        "SELECT max(app.crasivttst.modified_date) AS max_1 FROM app.crasivttst"
    )
