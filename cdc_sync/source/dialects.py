"""The `Dialect` of each database cdc-sync reads; `dialect_for` picks the one of an engine.

Above the dialect modules (`oracle`, `postgresql`, `sqlite`), which build on `dialect`
and `schema`: whoever needs the dialect of a connection imports this module.
"""

from __future__ import annotations

from sqlalchemy.engine import Dialect as SADialect

from cdc_sync.errors import ConfigError
from cdc_sync.source.dialect import Dialect
from cdc_sync.source.oracle import OracleDialect
from cdc_sync.source.postgresql import PostgresDialect
from cdc_sync.source.sqlite import SqliteDialect


def dialect_for(sa_dialect: SADialect, *, notify: bool = True) -> Dialect:
    known: dict[str, type[Dialect]] = {
        "oracle": OracleDialect,
        "postgresql": PostgresDialect,
        "sqlite": SqliteDialect,
    }
    try:
        return known[sa_dialect.name](sa_dialect, notify=notify)
    except KeyError:
        raise ConfigError(
            [
                f"source.url: database {sa_dialect.name!r} is not supported "
                "(oracle, postgresql, sqlite)"
            ]
        ) from None
