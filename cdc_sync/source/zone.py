"""The source's time zone: what a DATE or TIMESTAMP without a zone means as an instant.

A naive value read from the source is wall-clock time in the source's zone
(``SYSDATE`` is the database server's clock). `[source] time_zone` names that
zone; unset, the database is asked (`Dialect.database_zone_query`). At the
edge, the relay and bootstrap give such values of non-key columns that zone,
so ISO text carries its offset and epoch fields and ``ts_ms`` are true
instants. Key columns stay as read: they are the document id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, text
from sqlalchemy import types as sqltypes

from cdc_sync.config import time_zone_of
from cdc_sync.errors import ConfigError
from cdc_sync.source.dialects import dialect_for


def resolve_zone(conn: Connection, configured: str | None) -> dt.tzinfo:
    """The configured zone, else the database's (ConfigError when it names none we know)."""
    if configured:
        return time_zone_of(configured)
    query = dialect_for(conn.dialect).database_zone_query()
    if query is None:
        return dt.UTC
    name = str(conn.execute(text(query)).scalar_one()).strip()
    try:
        return time_zone_of(name)
    except ValueError:
        raise ConfigError(
            [
                f"source.time_zone: the database reports its zone as {name!r}, which is not an "
                "IANA name or offset; set [source] time_zone (e.g. 'Asia/Seoul')"
            ]
        ) from None


def naive_times(table: Table, skip: Iterable[str] = ()) -> frozenset[str]:
    """Columns whose values are date-times without a zone (Oracle DATE and TIMESTAMP too)."""
    skipped = set(skip)
    return frozenset(
        c.name
        for c in table.columns
        if c.name not in skipped
        and isinstance(c.type, sqltypes.DateTime)
        and not c.type.timezone
        and not getattr(c.type, "local_timezone", False)
    )


def localize(value: Any, zone: dt.tzinfo) -> Any:
    """A naive datetime as an instant in `zone`; anything else unchanged."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value
