"""SQLAlchemy engines for the source database (Oracle, PostgreSQL, SQLite)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url

from cdc_sync.config import SourceSettings

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "oracle": "oracle+oracledb",
}


def normalise_url(url: str) -> URL:
    """Accept plain ``postgresql://`` and ``oracle://`` URLs; pick our drivers for them."""
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def create_source_engine(source: SourceSettings, **kwargs: Any) -> Engine:
    url = normalise_url(source.url.get_secret_value())
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
    return create_engine(url, **options)
