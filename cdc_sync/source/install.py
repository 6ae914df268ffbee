"""`source print|install|uninstall`: the change log and the triggers of trigger-mode tables."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, func, inspect, select

from cdc_sync.config import Settings, TableSettings
from cdc_sync.errors import CdcSyncError, ConfigError
from cdc_sync.source.changelog import COLUMNS, TABLE_NAME_BYTES, changelog_table
from cdc_sync.source.dialect import Dialect, dialect_for
from cdc_sync.source.schema import CapturedTable, reflect_tables


class InstallError(CdcSyncError):
    """The database refused what install created; nothing broken was left behind."""


@dataclass(frozen=True)
class Plan:
    dialect: Dialect
    changelog: Table
    changelog_exists: bool
    tables: list[CapturedTable]
    index_exists: bool = True
    """The change log's (table_name, id) index, where the dialect has one (an older
    install's change log lacks it: install adds it)."""
    user_schema: str | None = None
    """The installing user's schema, where tables configured without `schema` live."""

    def changelog_statements(self, *, for_review: bool = False) -> list[str]:
        if for_review or not self.changelog_exists:
            return self.dialect.create_changelog(self.changelog)
        if not self.index_exists:
            return self.dialect.create_changelog_index(self.changelog)
        return []

    def grants(self, table: CapturedTable) -> list[str]:
        """The grants triggers in another schema need to write the change log.

        Never to the installing user: nobody may grant themselves a privilege, so its own
        tables' triggers need a grant from the change log's owner (`check` asks for it).
        """
        grants: list[str] = []
        schemas = [t.schema for t in (table.table, *(r.table for r in table.related))]
        for schema in schemas:  # child and lookup tables' triggers write it too
            owner = schema or self.user_schema or self.changelog.schema
            if owner in (None, self.changelog.schema, self.user_schema):
                continue
            if self.changelog.schema:
                grants += [
                    g
                    for g in self.dialect.grant_insert(self.changelog, str(owner))
                    if g not in grants
                ]
        return grants

    def table_statements(self, table: CapturedTable) -> list[str]:
        """What install runs for a table, as a script: grants, triggers, enabling them."""
        return (
            self.grants(table)
            + self.dialect.create_triggers(table, self.changelog)
            + self.dialect.enable_triggers(table)
        )

    def install_statements(self, *, for_review: bool = False) -> list[str]:
        statements = self.changelog_statements(for_review=for_review)
        for table in self.tables:
            statements += [s for s in self.table_statements(table) if s not in statements]
        return statements


def trigger_tables(settings: Settings) -> list[tuple[int, TableSettings]]:
    return [(i, t) for i, t in enumerate(settings.tables) if t.capture == "trigger"]


def overlong_log_names(settings: Settings, table: CapturedTable) -> list[str]:
    """Lookups whose change-log name is wider than ``table_name``: the lookup table's every
    write would fail (ORA-12899 on Oracle, which counts bytes)."""
    index = next(i for i, t in enumerate(settings.tables) if t is table.settings)
    problems = []
    for position, lookup in enumerate(table.lookups):
        width = len(lookup.log_name.encode("utf-8"))
        if width > TABLE_NAME_BYTES:
            problems.append(
                f"tables[{index}].lookups[{position}] ({lookup.settings.qualified_name}): its "
                f"change-log name {lookup.log_name!r} is {width} bytes, more than the "
                f"{TABLE_NAME_BYTES} of the change log's table_name, so its trigger would fail "
                "every write to the table; use shorter names (table, lookup, parent_columns)"
            )
    return problems


def changelog_exists(conn: Connection, changelog: Table) -> bool:
    """Whether the change log exists; ConfigError if a table of that name is not ours."""
    inspector = inspect(conn)
    if not inspector.has_table(changelog.name, schema=changelog.schema):
        return False
    found = {c["name"].lower() for c in inspector.get_columns(changelog.name, changelog.schema)}
    if found != set(COLUMNS):
        raise ConfigError(
            [
                f"source.changelog_table: {changelog.fullname} exists but is not a cdc-sync "
                f"change log (columns {', '.join(sorted(found))}; expected {', '.join(COLUMNS)})"
            ]
        )
    return True


def changelog_index_exists(conn: Connection, changelog: Table) -> bool:
    """Whether the change log has an index on (table_name, id)."""
    indexes = inspect(conn).get_indexes(changelog.name, schema=changelog.schema)
    return any([str(c).lower() for c in i["column_names"]] == ["table_name", "id"] for i in indexes)


def plan(conn: Connection, settings: Settings, strict: bool = True) -> Plan:
    """Check everything first: nothing is changed when the config does not fit the database."""
    dialect = dialect_for(conn.dialect, notify=settings.source.notify)
    changelog = changelog_table(settings.source, home=dialect.changelog_home(conn))
    tables = reflect_tables(conn, trigger_tables(settings), strict=strict)
    problems = [p for t in tables for p in overlong_log_names(settings, t)] if strict else []
    problems += [p for t in tables for p in dialect.foreign_triggers(conn, t)]
    if problems:
        raise ConfigError(problems)
    exists = changelog_exists(conn, changelog)
    indexed = not (exists and dialect.create_changelog_index(changelog))
    if not indexed:
        indexed = changelog_index_exists(conn, changelog)
    return Plan(dialect, changelog, exists, tables, indexed, conn.dialect.default_schema_name)


def script(dialect: Dialect, statements: list[str]) -> str:
    """Statements as a script a DBA can run (Oracle: PL/SQL blocks end with ``/``)."""
    out = []
    for statement in statements:
        if dialect.name == "oracle" and statement.rstrip().endswith("END;"):
            out.append(f"{statement}\n/")
        else:
            out.append(f"{statement};")
    return "\n\n".join(out) + "\n"


def install(engine: Engine, settings: Settings) -> Plan:
    """Create what is missing; stop at the first table whose triggers did not compile."""
    with engine.begin() as conn:
        found = plan(conn, settings)
        for statement in found.changelog_statements():
            conn.exec_driver_sql(statement)
        for table in found.tables:
            for statement in found.grants(table):
                conn.exec_driver_sql(statement)
            failed = found.dialect.install_triggers(conn, table, found.changelog)
            if failed:
                raise InstallError("\n".join(failed))
    return found


def uninstall(engine: Engine, settings: Settings, force: bool = False) -> Plan:
    """Drop our triggers and the change log; refuses while unpublished changes remain."""
    with engine.begin() as conn:
        found = plan(conn, settings, strict=False)
        if found.changelog_exists and not force:
            pending = conn.execute(select(func.count()).select_from(found.changelog)).scalar_one()
            if pending:
                raise CdcSyncError(
                    f"{found.changelog.fullname} holds {pending} unpublished changes; "
                    "run `cdc-sync relay --once` first, or pass --force to drop them"
                )
        for table in found.tables:
            for statement in found.dialect.drop_triggers(table):
                conn.exec_driver_sql(statement)
        if found.changelog_exists:
            for statement in found.dialect.drop_changelog(found.changelog):
                conn.exec_driver_sql(statement)
    return found
