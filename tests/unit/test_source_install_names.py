"""Install refuses a lookup whose change-log name cannot fit the change log's TABLE_NAME.

A lookup's triggers write ``<TABLE>..<LOOKUP>.<PARENT_COLUMNS>`` into
``TABLE_NAME VARCHAR2(261)`` (VARCHAR(261) on PostgreSQL); with long identifiers
(up to 128 bytes each) the name is longer, and every write to the lookup table
would fail with ORA-12899 ("value too large for column"), in the application.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from cdc_sync.config import Settings
from cdc_sync.errors import ConfigError
from cdc_sync.source import install

PARENT = "P" + "A" * 119
LOOKUP = "L" + "B" * 119
COLUMN = "C" + "D" * 29


def config(path: Path, column: str) -> Settings:
    return Settings(
        source={"url": f"sqlite:///{path}"},  # type: ignore[arg-type]
        kafka={"bootstrap_servers": "127.0.0.1:9"},  # type: ignore[arg-type]
        meilisearch={"url": "http://127.0.0.1:9"},  # type: ignore[arg-type]
        tables=[  # type: ignore[list-item]
            {
                "name": PARENT,
                "primary_key": ["ID"],
                "lookups": [
                    {
                        "name": LOOKUP,
                        "key": ["CODE"],
                        "parent_columns": [column],
                        "fields": {"NAME": "name"},
                    },
                ],
            }
        ],
    )


@pytest.mark.parametrize(("column", "fits"), [(COLUMN, False), ("S", True)])
def test_install_checks_the_lookup_log_name_fits(tmp_path: Path, column: str, fits: bool) -> None:
    path = tmp_path / "source.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {LOOKUP} (CODE TEXT PRIMARY KEY, NAME TEXT)")
        conn.exec_driver_sql(f"CREATE TABLE {PARENT} (ID INTEGER PRIMARY KEY, {column} TEXT)")
    settings = config(path, column)
    name = f"{PARENT}..{LOOKUP}.{column}"
    with engine.connect() as conn:
        if fits:
            assert install.plan(conn, settings).tables
            return
        with pytest.raises(ConfigError) as raised:
            install.plan(conn, settings)
    [problem] = raised.value.problems
    assert problem.startswith(f"tables[0].lookups[0] ({LOOKUP})")
    assert f"{len(name)} bytes" in problem and "261" in problem
