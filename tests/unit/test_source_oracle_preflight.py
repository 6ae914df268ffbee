"""What `cdc-sync check` concludes on Oracle from the facts it gathered (pure, no database)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from sqlalchemy.dialects import oracle
from sqlalchemy.exc import DBAPIError

from cdc_sync.config import Settings
from cdc_sync.source.oracle import preflight
from cdc_sync.source.oracle.preflight import Facts, TableFacts, gather, judge

INSTALLER = frozenset(
    {
        "CREATE SESSION",
        "CREATE TABLE",
        "CREATE SEQUENCE",
        "CREATE ANY TRIGGER",
        "ALTER ANY TRIGGER",
        "DROP ANY TRIGGER",
    }
)
"""docs/oracle.md's list for the example: tables in APP, the change log in CDC_SYNC."""
OWN_SCHEMA = frozenset({"CREATE SESSION", "CREATE TABLE", "CREATE SEQUENCE", "CREATE TRIGGER"})
THIRD_SCHEMA = frozenset(
    {
        "CREATE SESSION",
        "CREATE ANY TABLE",
        "CREATE ANY SEQUENCE",
        "CREATE ANY INDEX",
        "COMMENT ANY TABLE",
        "GRANT ANY OBJECT PRIVILEGE",
        "DROP ANY TABLE",
        "CREATE ANY TRIGGER",
        "ALTER ANY TRIGGER",
        "DROP ANY TRIGGER",
    }
)
"""docs/oracle.md's list when the change log is in a schema of its own (LOGS)."""


def facts(**changes: object) -> Facts:
    base = Facts(
        version=(19, 22, 0, 0, 0),
        user="CDC_SYNC",
        privileges=INSTALLER,
        changelog_owner="CDC_SYNC",
        changelog_exists=False,
        tables=[TableFacts("APP", "CRASIVTTST", "trigger", frozenset({"SELECT"}))],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_complete_installer_passes_and_reports_the_version() -> None:
    found = judge(facts())
    assert found.problems == [] and found.unchecked == [] and found.facts == ["Oracle 19.22"]


def test_old_versions_are_named() -> None:
    found = judge(facts(version=(18, 3, 0)))
    assert found.problems == ["Oracle 18.3 is older than 19c, the oldest cdc-sync supports"]


def problem(found: preflight.Findings, privilege: str) -> str:
    """The problem line naming `privilege` (each lacking privilege has one)."""
    [line] = [p for p in found.problems if f" lacks {privilege} (" in p]
    return line


def test_missing_system_privileges_are_listed() -> None:
    """The identity column needs CREATE SEQUENCE; a trigger in another schema CREATE ANY TRIGGER
    (SQL Language Reference, CREATE TRIGGER prerequisites)."""
    found = judge(facts(privileges=frozenset({"CREATE SESSION", "CREATE TABLE", "CREATE TRIGGER"})))
    assert "source install" in problem(found, "CREATE SEQUENCE")
    assert "APP.CRASIVTTST" in problem(found, "CREATE ANY TRIGGER")
    have = frozenset({"CREATE ANY TRIGGER", "ALTER ANY TRIGGER", "DROP ANY TRIGGER"})
    existing = judge(facts(changelog_exists=True, privileges=have))
    assert existing.problems == []  # the change log exists: no CREATE TABLE / SEQUENCE needed


def test_everything_in_its_own_schema_needs_no_any_privilege() -> None:
    own = [TableFacts("CDC_SYNC", "CRASIVTTST", "trigger", frozenset())]
    assert judge(facts(privileges=OWN_SCHEMA, tables=own)).problems == []
    assert "source install" in problem(
        judge(facts(privileges=OWN_SCHEMA - {"CREATE TRIGGER"}, tables=own)), "CREATE TRIGGER"
    )


def test_triggers_in_another_schema_need_alter_and_drop_any_trigger() -> None:
    """ALTER TRIGGER and DROP TRIGGER of a trigger in another schema need ALTER ANY TRIGGER
    and DROP ANY TRIGGER (PL/SQL Language Reference, ALTER TRIGGER / DROP TRIGGER
    prerequisites): install enables a trigger after its check, drops one that did not
    compile and the probe of a re-install; uninstall drops them."""
    found = judge(facts(privileges=INSTALLER - {"ALTER ANY TRIGGER", "DROP ANY TRIGGER"}))
    assert "source install" in problem(found, "ALTER ANY TRIGGER")
    drop = problem(found, "DROP ANY TRIGGER")
    assert "source install" in drop and "source uninstall" in drop


def test_a_change_log_in_a_third_schema_needs_the_any_privileges() -> None:
    """Creating, commenting and indexing a table in another schema, and granting on it,
    need the ANY privileges (SQL Language Reference: CREATE TABLE, CREATE SEQUENCE for the
    identity column, CREATE INDEX, COMMENT, GRANT prerequisites); plain CREATE TABLE is
    not enough."""
    third = facts(changelog_owner="LOGS", changelog_grants=frozenset({"SELECT", "DELETE"}))
    found = judge(third)
    for privilege in (
        "CREATE ANY TABLE",
        "CREATE ANY SEQUENCE",
        "CREATE ANY INDEX",
        "COMMENT ANY TABLE",
        "GRANT ANY OBJECT PRIVILEGE",
    ):
        assert "source install" in problem(found, privilege), privilege
    assert "source uninstall" in problem(found, "DROP ANY TABLE")
    assert judge(replace(third, privileges=THIRD_SCHEMA)).problems == []
    existing = replace(third, changelog_exists=True, privileges=THIRD_SCHEMA - {"CREATE ANY INDEX"})
    assert judge(existing).problems == []  # the change log and its index exist
    assert "source install" in problem(
        judge(replace(existing, changelog_indexed=False)), "CREATE ANY INDEX"
    )


def test_the_relay_needs_select_delete_and_for_lookups_insert_on_a_foreign_change_log() -> None:
    """The relay reads and deletes the change log; a lookup change makes it log the parents
    that use it (an INSERT ... SELECT into the change log)."""
    base = facts(
        changelog_owner="LOGS",
        changelog_exists=True,
        changelog_grants=frozenset({"SELECT", "DELETE"}),
        privileges=THIRD_SCHEMA,
    )
    assert judge(base).problems == []
    lookups = judge(replace(base, lookups=True))
    assert "relay" in problem(lookups, "INSERT on LOGS.CDC_CHANGE_LOG")
    granted = replace(
        base, lookups=True, changelog_grants=frozenset({"SELECT", "DELETE", "INSERT"})
    )
    assert judge(granted).problems == []
    assert "relay" in problem(
        judge(replace(base, changelog_grants=frozenset())), "SELECT on LOGS.CDC_CHANGE_LOG"
    )


def test_own_tables_writing_a_foreign_change_log_need_a_direct_insert_grant() -> None:
    """A trigger runs with its owner's rights and a role's privileges do not count inside
    it; the installer cannot grant itself (ORA-01749), so a DBA must, once the change log
    exists. A grant through a role (or PUBLIC) is not enough."""
    own = [TableFacts("CDC_SYNC", "CRASIVTTST", "trigger", frozenset())]
    base = facts(
        changelog_owner="LOGS",
        changelog_exists=True,
        changelog_grants=frozenset({"SELECT", "DELETE", "INSERT"}),
        privileges=THIRD_SCHEMA - {"CREATE ANY TRIGGER"} | {"CREATE TRIGGER"},
        tables=own,
    )
    found = problem(judge(base), "INSERT on LOGS.CDC_CHANGE_LOG granted to CDC_SYNC directly")
    assert "source install" in found
    direct = replace(base, changelog_direct_grants=frozenset({"INSERT"}))
    assert judge(direct).problems == []


def test_children_and_lookup_tables_count_as_captured_tables() -> None:
    own = TableFacts("CDC_SYNC", "CRASIVTTST", "trigger", frozenset())
    codes = TableFacts("CODES", "STATUS_CODE", "trigger", frozenset(), related=True)
    found = judge(facts(privileges=OWN_SCHEMA, tables=[own, codes]))
    assert "CODES.STATUS_CODE" in problem(found, "CREATE ANY TRIGGER")
    assert "CODES.STATUS_CODE" in problem(found, "SELECT on CODES.STATUS_CODE")


def test_select_on_each_captured_table_and_on_a_foreign_change_log() -> None:
    tables = [
        TableFacts("APP", "CRASIVTTST", "trigger", frozenset()),
        TableFacts("APP", "NOTES", "timestamp", frozenset({"READ"})),
        TableFacts("APP", "LOGGED", "debezium", frozenset()),
    ]
    found = judge(
        facts(
            tables=tables,
            changelog_owner="CDC",
            changelog_grants=frozenset({"SELECT"}),
            redo=("ARCHIVELOG", "YES", "YES"),
        )
    )
    assert "relay" in problem(found, "SELECT on APP.CRASIVTTST")
    assert not any("NOTES" in p for p in found.problems)  # READ is enough
    assert "relay" in problem(found, "DELETE on CDC.CDC_CHANGE_LOG")
    anything = facts(
        tables=tables,
        privileges=INSTALLER | {"SELECT ANY TABLE"},
        redo=("ARCHIVELOG", "YES", "YES"),
    )
    assert judge(anything).problems == []


def test_debezium_redo_settings_or_an_honest_not_checked() -> None:
    dbz = [TableFacts("APP", "CRASIVTTST", "debezium", frozenset(), all_column_logging=False)]
    unseen = judge(facts(tables=dbz, redo=None))
    assert unseen.problems == [] and "V$DATABASE is not visible" in unseen.unchecked[0]
    off = judge(facts(tables=dbz, redo=("NOARCHIVELOG", "NO", "NO")))
    assert [p.split(" ")[:3] for p in off.problems] == [
        ["the", "database", "runs"],
        ["minimal", "supplemental", "logging"],
        ["no", "(ALL)", "COLUMNS"],
    ]
    table_level = [replace(dbz[0], all_column_logging=True)]
    assert judge(facts(tables=table_level, redo=("ARCHIVELOG", "IMPLICIT", "NO"))).problems == []
    assert judge(facts(tables=dbz, redo=("ARCHIVELOG", "YES", "YES"))).problems == []


class Answer:
    def __init__(self, rows: list[tuple[object, ...]]) -> None:
        self.rows = rows

    def scalar_one(self) -> object:
        return self.rows[0][0]

    def one(self) -> tuple[object, ...]:
        return self.rows[0]

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        return iter(self.rows)


class OracleConnection:
    """Answers preflight's queries like a 19c database where V$DATABASE is not visible."""

    def __init__(self) -> None:
        self.dialect = oracle.dialect()
        self.dialect.server_version_info = (19, 22, 0, 0, 0)
        self.asked: list[tuple[object, dict[str, object] | None]] = []
        self.rolled_back = False

    def execute(self, statement: object, params: dict[str, object] | None = None) -> Answer:
        self.asked.append((statement, params))
        if statement is preflight.CURRENT_USER:
            return Answer([("CDC_SYNC",)])
        if statement is preflight.SESSION_PRIVILEGES:
            return Answer([(p,) for p in INSTALLER])
        if statement is preflight.TABLE_PRIVILEGES:
            granted = [("SELECT", "CDC_SYNC"), ("INSERT", "CDC_ROLE")]
            return Answer(granted if params and params["name"] == "CRASIVTTST" else [])
        if statement is preflight.ALL_COLUMN_LOGGING:
            return Answer([(0,)])
        if statement is preflight.REDO_SETTINGS:
            raise DBAPIError("SELECT ... FROM V$DATABASE", None, Exception("ORA-00942"))
        raise AssertionError(statement)

    def rollback(self) -> None:
        self.rolled_back = True


def test_gather_reads_names_as_stored_and_admits_what_it_cannot_see() -> None:
    settings = Settings(
        source={"url": "oracle://x"},
        kafka={"bootstrap_servers": "x:1"},
        meilisearch={"url": "http://x"},
        tables=[
            {"name": "CRASIVTTST", "schema": "APP", "primary_key": ["ID"]},
            {"name": "LOGGED", "schema": "APP", "primary_key": ["ID"], "capture": "debezium"},
        ],
    )  # type: ignore[arg-type]
    conn = OracleConnection()
    found = gather(conn, settings, changelog_exists=True)  # type: ignore[arg-type]
    assert found.version[:2] == (19, 22) and found.user == "CDC_SYNC"
    assert [(t.owner, t.name, t.grants) for t in found.tables] == [
        ("APP", "CRASIVTTST", frozenset({"SELECT", "INSERT"})),
        ("APP", "LOGGED", frozenset()),
    ]
    assert found.redo is None and conn.rolled_back  # V$DATABASE not visible: not guessed
    verdict = judge(found)
    assert verdict.problems == [] and "V$DATABASE is not visible" in verdict.unchecked[0]


def test_continuous_verification_of_trigger_tables_needs_insert_on_a_foreign_change_log() -> None:
    """A continuous verifier repairs a `trigger` table by inserting change-log rows
    (docs/verify.md), so in a change log of a schema of its own it needs INSERT there, as
    the relay's lookup fan-out does (SQL Language Reference, INSERT prerequisites: the
    INSERT object privilege on a table in another schema, or INSERT ANY TABLE)."""
    base = facts(
        changelog_owner="LOGS",
        changelog_exists=True,
        changelog_grants=frozenset({"SELECT", "DELETE"}),
        privileges=THIRD_SCHEMA,
    )
    assert judge(base).problems == []  # no table verified with repairs
    verified = replace(base, repairs=True)
    assert "verify --continuous" in problem(judge(verified), "INSERT on LOGS.CDC_CHANGE_LOG")
    granted = replace(verified, changelog_grants=frozenset({"SELECT", "DELETE", "INSERT"}))
    assert judge(granted).problems == []
    assert judge(replace(verified, privileges=THIRD_SCHEMA | {"INSERT ANY TABLE"})).problems == []
