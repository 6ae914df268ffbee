"""`source uninstall --table`: one table's capture removed and its change-log rows purged.

A table taken out of the config keeps its triggers, which go on logging every
change, and its rows in the change log, which no relay publishes and which a
relay's walk of the log in id order passes on every batch. This drops the
table's triggers (its children's and lookups' too while it is still configured)
and deletes its rows, leaving the change log and the other tables as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Delete, Engine, Table, delete, func, inspect, or_, select
from sqlalchemy.sql.elements import ColumnElement

from cdc_sync.config import Settings, TableSettings
from cdc_sync.errors import CdcSyncError
from cdc_sync.source.changelog import changelog_table, fold
from cdc_sync.source.dialect import Dialect, dialect_for
from cdc_sync.source.install import changelog_exists, trigger_tables
from cdc_sync.source.schema import CapturedTable, reflect_tables


@dataclass(frozen=True)
class Removed:
    name: str
    """The name the change log knows the table by."""
    configured: bool
    triggers: int
    """Statements run to drop its triggers (0: the table no longer exists)."""


def purge_query(changelog: Table, names: Sequence[str]) -> Delete:
    """Delete the rows logged under these names (see `logged_under`)."""
    return delete(changelog).where(logged_under(changelog, names))


def logged_under(changelog: Table, names: Sequence[str]) -> ColumnElement[bool]:
    """Rows logged under these names, or under their lookups' (``<name>..<lookup>``); names
    compare case-insensitively, as configured names may be written either way."""
    logged = func.upper(changelog.c.table_name)
    under = [n.upper() for n in names]
    lookups = [logged.startswith(f"{n}..", autoescape=True) for n in under]
    return or_(logged.in_(under), *lookups)


def uninstall_tables(
    engine: Engine, settings: Settings, names: Sequence[str], force: bool = False
) -> list[Removed]:
    """Drop the named tables' triggers and purge their change-log rows.

    A table still configured with unpublished rows is refused without `force`; a table
    no longer configured is purged at once (no relay of this config publishes its rows).
    """
    with engine.begin() as conn:
        dialect = dialect_for(conn.dialect, notify=settings.source.notify)
        changelog = changelog_table(settings.source, home=dialect.changelog_home(conn))
        found = [_captured(conn, settings, name) for name in names]
        has_log = changelog_exists(conn, changelog)
        configured = [n for n, (_, known) in zip(names, found, strict=True) if known]
        if has_log and configured and not force:
            _refuse_pending(conn, changelog, configured)
        removed = []
        for name, (table, known) in zip(names, found, strict=True):
            drops = _drops(dialect, table)
            for statement in drops:
                conn.exec_driver_sql(statement)
            removed.append(Removed(table.name if table else name, known, len(drops)))
        if has_log:
            conn.execute(purge_query(changelog, [r.name for r in removed]))
    return removed


def _captured(conn: Connection, settings: Settings, name: str) -> tuple[CapturedTable | None, bool]:
    """The table reflected (None when it no longer exists), and whether it is configured."""
    wanted = name.upper()
    for index, table in trigger_tables(settings):
        if wanted in (table.name.upper(), table.qualified_name.upper()):
            found = reflect_tables(conn, [(index, table)], strict=False)
            return (found[0] if found else None), True
    return _unconfigured(conn, name), False


def _unconfigured(conn: Connection, name: str) -> CapturedTable | None:
    """A table no longer configured (``SCHEMA.TABLE`` or ``TABLE``), with its own primary
    key: enough to name the triggers install made on it (its children's and lookups' are
    not known without its config entry)."""
    schema, _, bare = name.rpartition(".")
    inspector = inspect(conn)
    owner = fold(schema) if schema else None
    stored = next((n for n in (fold(bare), bare) if inspector.has_table(n, schema=owner)), None)
    if stored is None:
        return None
    keys = inspector.get_pk_constraint(stored, schema=owner)["constrained_columns"]
    if not keys:
        return None  # install never captured a table without a primary key
    table = TableSettings.model_validate(
        {"name": bare, "schema": schema or None, "primary_key": [str(k) for k in keys]}
    )
    found = reflect_tables(conn, [(0, table)], strict=False)
    return found[0] if found else None


def _drops(dialect: Dialect, table: CapturedTable | None) -> list[str]:
    return [] if table is None else dialect.drop_triggers(table)


def _refuse_pending(conn: Connection, changelog: Table, names: Sequence[str]) -> None:
    waiting = select(func.count()).select_from(changelog).where(logged_under(changelog, names))
    count = conn.execute(waiting).scalar_one()
    if count:
        raise CdcSyncError(
            f"{', '.join(names)}: {count} unpublished changes in "
            f"{changelog.fullname}; run `cdc-sync relay --once` first, or pass --force to "
            "drop them"
        )
