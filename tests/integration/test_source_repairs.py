"""A repair's change-log row spells its key as the table's own trigger does (real SQLite and
PostgreSQL), so the relay takes both as the same key (docs/verify.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from cdc_sync.config import load_settings
from cdc_sync.source.changelog import changelog_table
from cdc_sync.source.dialect import dialect_for
from cdc_sync.source.repairs import log_changes
from cdc_sync.source.schema import reflect_tables
from tests.integration.relay_helpers import cli

pytestmark = pytest.mark.stack


def log_repairs(engine: Engine, config: Path, keys: list[list[Any]]) -> None:
    """What the verifier does for drifted keys of the config's first (trigger) table."""
    settings = load_settings(config)
    dialect = dialect_for(engine.dialect)
    with engine.connect() as conn:
        (table,) = reflect_tables(conn, [(0, settings.tables[0])])
        changelog = changelog_table(settings.source, home=dialect.changelog_home(conn))
    log_changes(engine, dialect, changelog, table, keys)


SHAPES = {
    "integer": ("ID INTEGER PRIMARY KEY, NAME VARCHAR(20)", ["ID"], "(7, 'n')", [7]),
    "text and integer": (
        "CODE VARCHAR(10), N INTEGER, NAME VARCHAR(20), PRIMARY KEY (CODE, N)",
        ["CODE", "N"],
        "('a \"b\"', 3, 'n')",
        ['a "b"', 3],
    ),
}


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_repair_is_logged_under_the_key_the_trigger_logs(
    database: str,
    shape: str,
    sqlite_url: str,
    make_config: Callable[..., Path],
    request: pytest.FixtureRequest,
) -> None:
    columns, key, row, values = SHAPES[shape]
    url = sqlite_url if database == "sqlite" else request.getfixturevalue("pg_url")
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS cdc_change_log"))
        conn.execute(text("DROP TABLE IF EXISTS things"))
        conn.execute(text(f"CREATE TABLE things ({columns})"))
    config = make_config(url, tables=[{"name": "THINGS", "primary_key": key}])
    assert cli(config, "source", "install").returncode == 0
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO things VALUES {row}"))
    log_repairs(engine, config, [values])
    with engine.connect() as conn:
        logged = conn.execute(text("SELECT op, pk FROM cdc_change_log ORDER BY id")).all()
    engine.dispose()
    assert [r.op for r in logged] == ["I", "U"]
    assert logged[0].pk == logged[1].pk, logged
