"""Shared by the PostgreSQL capture tests: a clean database, statements, settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine

from cdc_sync.config import Settings
from cdc_sync.database_url import normalise_url


def clean_engine(pg_url: str) -> Iterator[Engine]:
    """An engine on a database without the tests' tables and functions (a fixture's body)."""
    engine = create_engine(normalise_url(pg_url))
    run(engine, "DROP TABLE IF EXISTS items, pairs, cdc_change_log")
    run(engine, "DROP FUNCTION IF EXISTS cdc_items_fn(), cdc_pairs_fn()")
    yield engine
    engine.dispose()


def run(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def settings(url: str, tables: list[dict[str, Any]], notify: bool = True) -> Settings:
    return Settings(
        source={"url": url, "notify": notify},  # type: ignore[arg-type]
        kafka={"bootstrap_servers": "127.0.0.1:9"},  # type: ignore[arg-type]
        meilisearch={"url": "http://127.0.0.1:9"},  # type: ignore[arg-type]
        tables=tables,  # type: ignore[arg-type]
    )
