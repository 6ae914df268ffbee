"""cdc-sync's reflection hook: the types reflected columns get, per database.

SQLAlchemy's reflection gives each column a type; a few need another one for
cdc-sync to read, bind and compare their values exactly. One ``column_reflect``
listener, registered for every source engine, makes those changes where the
column is reflected, so every later query (relay, bootstrap, verify, sweep)
uses the same types.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.types import to_instance

from cdc_sync.source.float32 import float32_type
from cdc_sync.source.oracle.driver import exact_numbers
from cdc_sync.source.oracle.types import read_type


def reflected_type(inspector: Any, table: Table, column: dict[str, Any]) -> None:
    """``column_reflect`` listener: replace ``column["type"]`` where cdc-sync needs another."""
    column["type"] = to_instance(column["type"])  # reflection may give a type's class
    if inspector.dialect.name == "oracle":
        exact_numbers(inspector, table, column)
        column["type"] = read_type(column["type"])
    single = float32_type(inspector.dialect.name, column["type"])
    if single is not None:
        column["type"] = single


def prepare_reflection() -> None:
    """Register `reflected_type` (process-wide, idempotent)."""
    if not event.contains(Table, "column_reflect", reflected_type):
        event.listen(Table, "column_reflect", reflected_type)
