"""SQLAlchemy engines for the source database (Oracle, PostgreSQL, SQLite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine

from cdc_sync.config import SourceSettings
from cdc_sync.database_url import normalise_url
from cdc_sync.source.reflection import prepare_reflection


def create_source_engine(source: SourceSettings, **kwargs: Any) -> Engine:
    url = normalise_url(source.url.get_secret_value())
    prepare_reflection()
    options: dict[str, Any] = {"pool_pre_ping": True, **kwargs}
    backend = url.get_backend_name()
    if backend == "oracle":
        from cdc_sync.source.oracle import prepare_driver

        prepare_driver()
        options.setdefault("connect_args", {}).setdefault(
            "tcp_connect_timeout", source.connect_timeout_s
        )
    elif backend == "postgresql":
        options.setdefault("connect_args", {}).setdefault(
            "connect_timeout", int(source.connect_timeout_s)
        )
    elif backend == "sqlite":
        options.setdefault("connect_args", {}).setdefault("timeout", source.connect_timeout_s)
    engine = create_engine(url, **options)
    if backend == "oracle":
        from cdc_sync.source.oracle import prepare_engine

        prepare_engine(engine)
    return engine


def missing_sqlite_file(source: SourceSettings) -> str | None:
    """Why not to connect: a SQLite file that does not exist (connecting would create it)."""
    url = normalise_url(source.url.get_secret_value())
    database = url.database or ":memory:"
    if (
        url.get_backend_name() == "sqlite"
        and database != ":memory:"
        and not Path(database).exists()
    ):
        return f"SQLite database file {database} does not exist"
    return None
