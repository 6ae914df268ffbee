"""`cdc-sync check` on Oracle: version, privileges and (for debezium tables) redo settings.

Which privileges each command needs for the configured layout is decided in
`privileges`; this module reads the facts and the redo settings.

What the connected user holds comes from documented views it can always read:
``SESSION_PRIVS`` (system privileges, from roles too) and ``ALL_TAB_PRIVS``
(object grants to the user, PUBLIC or an enabled role). ``V$DATABASE`` needs a
grant of its own (SELECT_CATALOG_ROLE or SELECT on ``V_$DATABASE``): when it
cannot be read, the check says what it could not see instead of guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from cdc_sync.config import ChildSettings, LookupSettings, Settings, TableSettings
from cdc_sync.source.changelog import fold
from cdc_sync.source.oracle.privileges import Facts, TableFacts, missing, needs

MINIMUM_VERSION = (19,)
Named = TableSettings | ChildSettings | LookupSettings

SESSION_PRIVILEGES = text("SELECT PRIVILEGE FROM SESSION_PRIVS")
TABLE_PRIVILEGES = text(
    "SELECT PRIVILEGE, GRANTEE FROM ALL_TAB_PRIVS\n"
    "WHERE TABLE_SCHEMA = :owner AND TABLE_NAME = :name\n"
    "  AND (GRANTEE IN (USER, 'PUBLIC') OR GRANTEE IN (SELECT ROLE FROM SESSION_ROLES))"
)
CURRENT_USER = text("SELECT USER FROM DUAL")
REDO_SETTINGS = text(
    "SELECT LOG_MODE, SUPPLEMENTAL_LOG_DATA_MIN, SUPPLEMENTAL_LOG_DATA_ALL FROM V$DATABASE"
)
ALL_COLUMN_LOGGING = text(
    "SELECT COUNT(*) FROM ALL_LOG_GROUPS\n"
    "WHERE OWNER = :owner AND TABLE_NAME = :name AND LOG_GROUP_TYPE = 'ALL COLUMN LOGGING'"
)

STATEMENTS = {
    "session_privileges": SESSION_PRIVILEGES,
    "table_privileges": TABLE_PRIVILEGES,
    "current_user": CURRENT_USER,
    "redo_settings": REDO_SETTINGS,
    "all_column_logging": ALL_COLUMN_LOGGING,
}
"""Every query `check` runs on Oracle, by name (rendered and parsed by the SQL review tests)."""


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)


def judge(facts: Facts) -> Findings:
    """What is missing, from facts gathered once (pure: tested without a database)."""
    out = Findings()
    version = ".".join(str(v) for v in facts.version[:2])
    out.facts.append(f"Oracle {version}")
    if facts.version[: len(MINIMUM_VERSION)] < MINIMUM_VERSION:
        out.problems.append(f"Oracle {version} is older than 19c, the oldest cdc-sync supports")
    out.problems += missing(facts.user, needs(facts))
    debezium = [t for t in facts.tables if t.capture == "debezium"]
    if debezium:
        _judge_redo(facts, debezium, out)
    return out


def _judge_redo(facts: Facts, tables: Sequence[TableFacts], out: Findings) -> None:
    if facts.redo is None:
        out.unchecked.append(
            "ARCHIVELOG and supplemental logging for debezium tables (V$DATABASE is not "
            "visible to this user: SELECT_CATALOG_ROLE or SELECT on V_$DATABASE shows it)"
        )
        return
    log_mode, minimal, all_columns = facts.redo
    if log_mode != "ARCHIVELOG":
        out.problems.append(f"the database runs in {log_mode} mode; Debezium needs ARCHIVELOG")
    if minimal not in ("YES", "IMPLICIT"):
        out.problems.append("minimal supplemental logging is off (ADD SUPPLEMENTAL LOG DATA)")
    if all_columns != "YES":
        without = [t for t in tables if not t.all_column_logging]
        if without:
            out.problems.append(
                f"no (ALL) COLUMNS supplemental logging on {_names(without)} "
                "(ALTER TABLE ... ADD SUPPLEMENTAL LOG DATA (ALL) COLUMNS)"
            )


def _names(tables: Sequence[TableFacts]) -> str:
    return ", ".join(f"{t.owner}.{t.name}" for t in tables)


def gather(
    conn: Connection, settings: Settings, changelog_exists: bool, changelog_indexed: bool = True
) -> Facts:
    """Read the facts `judge` needs; names as the dictionary stores them."""

    def stored(name: str | None) -> str:
        return str(conn.dialect.denormalize_name(name)) if name else ""

    user = str(conn.execute(CURRENT_USER).scalar_one())
    privileges = frozenset(r[0] for r in conn.execute(SESSION_PRIVILEGES))

    def granted(owner: str, name: str) -> list[tuple[str, str]]:
        """(privilege, grantee): to the user, PUBLIC or one of its enabled roles."""
        rows = conn.execute(TABLE_PRIVILEGES, {"owner": owner, "name": name})
        return [(str(r[0]), str(r[1])) for r in rows]

    def grants(owner: str, name: str) -> frozenset[str]:
        return frozenset(p for p, _ in granted(owner, name))

    def facts_of(named: Named, capture: str, related: bool = False) -> TableFacts:
        owner = stored(_fold(named.schema_)) or user
        name = stored(_fold(named.name))
        logging = None
        if capture == "debezium":
            params = {"owner": owner, "name": name}
            logging = bool(conn.execute(ALL_COLUMN_LOGGING, params).scalar_one())
        return TableFacts(owner, name, capture, grants(owner, name), logging, related)

    tables = []
    for t in settings.tables:
        tables.append(facts_of(t, t.capture))
        tables += [facts_of(c, t.capture, related=True) for c in t.children]
        tables += [facts_of(lk, t.capture, related=True) for lk in t.lookups]
    source = settings.source
    cl_owner = stored(_fold(source.changelog_schema)) or user
    cl_name = stored(_fold(source.changelog_table))
    log_grants = granted(cl_owner, cl_name) if cl_owner != user else []
    redo = None
    if any(t.capture == "debezium" for t in settings.tables):
        try:
            row = conn.execute(REDO_SETTINGS).one()
            redo = (str(row[0]), str(row[1]), str(row[2]))
        except DBAPIError:
            conn.rollback()
    version = tuple(conn.dialect.server_version_info or (0,))
    return Facts(
        version,
        user,
        privileges,
        cl_owner,
        changelog_exists,
        tables,
        redo,
        frozenset(p for p, _ in log_grants),
        changelog_name=cl_name,
        changelog_direct_grants=frozenset(p for p, grantee in log_grants if grantee == user),
        changelog_indexed=changelog_indexed,
        lookups=any(t.lookups for t in settings.tables if t.capture == "trigger"),
        repairs=any(_repaired(settings, t) for t in settings.tables if t.capture == "trigger"),
    )


def _repaired(settings: Settings, table: TableSettings) -> bool:
    """Continuous verification repairs the table (its own `verify`, else `[verify]`)."""
    own = table.verify
    return own.enabled and (settings.verify.repair if own.repair is None else own.repair)


def _fold(name: str | None) -> str | None:
    return fold(name) if name else None
