"""Oracle Free (testcontainers): the review fixes of the Oracle path, as a DBA would set it up.

A table owner (not SYSTEM) holds the captured tables; cdc-sync connects as a
user of its own that owns the change log. These run wherever a Docker engine
answers; elsewhere the `oracle_url` fixture skips them with the reason.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from cdc_sync.bootstrap.reader import SourceReader
from cdc_sync.config import Settings, TableSettings
from cdc_sync.source import install
from cdc_sync.source.database import create_source_engine
from cdc_sync.source.oracle import OracleDialect
from tests.integration.relay_helpers import by_key, cli, read_topic

pytestmark = [pytest.mark.oracle, pytest.mark.stack]


INSTALLER = (
    "CREATE TABLE",
    "CREATE SEQUENCE",
    "CREATE ANY TRIGGER",
    "ALTER ANY TRIGGER",
    "DROP ANY TRIGGER",
)
"""What docs/oracle.md lists for install when the tables are in another schema."""


@dataclass(frozen=True)
class Users:
    owner: str
    owner_url: str
    cdc: str
    cdc_url: str
    admin: Engine


def url_for(base: str, user: str, password: str) -> str:
    return make_url(base).set(username=user, password=password).render_as_string(False)


@pytest.fixture
def users(oracle_url: str) -> Iterator[Users]:
    """APP_<n> owns the tables; CDC_<n> is cdc-sync, with only what docs/oracle.md lists."""
    admin = create_engine(oracle_url)
    tag = uuid.uuid4().hex[:6].upper()
    owner, cdc, password = f"APP_{tag}", f"CDC_{tag}", f"P{secrets.token_hex(8)}"
    with admin.begin() as conn:
        for user in (owner, cdc):
            conn.execute(text(f'CREATE USER {user} IDENTIFIED BY "{password}" QUOTA 100M ON USERS'))
            conn.execute(text(f"GRANT CREATE SESSION TO {user}"))
        conn.execute(text(f"GRANT CREATE TABLE TO {owner}"))
        for privilege in INSTALLER:
            conn.execute(text(f"GRANT {privilege} TO {cdc}"))
    yield Users(
        owner, url_for(oracle_url, owner, password), cdc, url_for(oracle_url, cdc, password), admin
    )
    with admin.begin() as conn:
        for user in (owner, cdc):
            conn.execute(text(f"DROP USER {user} CASCADE"))
    admin.dispose()


def owner_table(users: Users, name: str, ddl: str) -> Engine:
    """Create OWNER.<name> as the owner and let cdc-sync read it; returns the owner's engine."""
    engine = create_engine(users.owner_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {name} ({ddl})"))
        conn.execute(text(f"GRANT SELECT ON {name} TO {users.cdc}"))
    return engine


def config_for(make_config: Callable[..., Path], users: Users, **table: Any) -> Path:
    table = {"schema": users.owner, **table}
    return make_config(users.cdc_url, tables=[table], source={"url": users.cdc_url})


def topic(config: Path, users: Users, name: str) -> str:
    import tomllib

    prefix = tomllib.loads(config.read_text())["kafka"]["topic_prefix"]
    return f"{prefix}.{users.owner}.{name}"


def test_trigger_in_the_owners_schema_writes_cdc_syncs_change_log(
    users: Users, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Item 1: the trigger names the change log with its schema and its owner got the grant.

    Invariant: after install, the owner's own writes succeed and reach Kafka.
    """
    owner = owner_table(users, "ITEMS", "ID NUMBER(10) PRIMARY KEY, NAME VARCHAR2(50)")
    config = config_for(make_config, users, name="ITEMS", primary_key=["ID"])
    done = cli(config, "source", "install")
    assert done.returncode == 0, done.stderr
    with owner.begin() as conn:  # the application, as the table's owner
        conn.execute(text("INSERT INTO ITEMS (ID, NAME) VALUES (1, 'one')"))
        conn.execute(text("UPDATE ITEMS SET NAME = 'uno' WHERE ID = 1"))
    with users.admin.connect() as conn:
        logged = conn.execute(text(f"SELECT COUNT(*) FROM {users.cdc}.CDC_CHANGE_LOG")).scalar_one()
    assert logged == 2
    assert trigger_states(users) == [
        ("CDC_ITEMS_TRG", "ENABLED", "VALID"),
        ("CDC_ITEMS_TRUNC", "ENABLED", "VALID"),
    ]
    done = cli(config, "relay", "--once")
    assert done.returncode == 0, done.stderr
    records = read_topic(kafka_bootstrap, topic(config, users, "ITEMS"))
    assert [r.op for r in by_key(records)['{"ID": 1}']] == ["u"]
    done = cli(config, "check")
    assert done.returncode == 0 and "Oracle 23" in done.stdout, done.stdout + done.stderr
    owner.dispose()


def break_the_trigger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the table trigger's text name a change log that does not exist (ORA-00942)."""
    original = OracleDialect.insert_change

    def missing_table(self: OracleDialect, *args: Any) -> str:
        return original(self, *args).replace("CDC_CHANGE_LOG", "NO_SUCH_LOG")

    monkeypatch.setattr(OracleDialect, "insert_change", missing_table)


def install_settings(users: Users, name: str) -> Settings:
    return Settings(
        source={"url": users.cdc_url},
        kafka={"bootstrap_servers": "127.0.0.1:1"},
        meilisearch={"url": "http://127.0.0.1:1"},
        tables=[{"name": name, "schema": users.owner, "primary_key": ["ID"]}],
    )  # type: ignore[arg-type]


def writes_still_work(owner: Engine, table: str) -> None:
    """The owner's insert succeeds (no ORA-04098 from an invalid trigger)."""
    with owner.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} (ID) VALUES (1)"))
    owner.dispose()


def install_fails(users: Users, name: str, match: str) -> install.InstallError:
    """Run install for OWNER.<name> in process; it must fail with `match` in its message."""
    engine = create_source_engine(install_settings(users, name).source)
    try:
        with pytest.raises(install.InstallError, match=match) as raised:
            install.install(engine, install_settings(users, name))
    finally:
        engine.dispose()
    return raised.value


def trigger_states(users: Users) -> list[tuple[str, str, str]]:
    """(name, ALL_TRIGGERS.STATUS, ALL_OBJECTS.STATUS) of the owner's triggers."""
    with users.admin.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.TRIGGER_NAME, t.STATUS, o.STATUS FROM ALL_TRIGGERS t "
                "JOIN ALL_OBJECTS o ON o.OWNER = t.OWNER AND o.OBJECT_NAME = t.TRIGGER_NAME "
                "AND o.OBJECT_TYPE = 'TRIGGER' WHERE t.OWNER = :o ORDER BY 1"
            ),
            {"o": users.owner},
        ).all()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def test_a_trigger_that_does_not_compile_is_dropped_and_install_fails(
    users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 2 of the first review, item 3 of the second: created DISABLE'd, found invalid,
    dropped again (DROP ANY TRIGGER); never enabled, so the owner's writes never fail."""
    owner = owner_table(users, "BROKEN", "ID NUMBER(10) PRIMARY KEY")
    break_the_trigger(monkeypatch)
    assert install_fails(users, "BROKEN", "ORA-00942").exit_code != 0
    assert trigger_states(users) == []
    writes_still_work(owner, "BROKEN")


def test_without_drop_any_trigger_an_invalid_trigger_stays_disabled_and_blocks_nothing(
    users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 3: the drop is refused (ORA-01031), so the invalid trigger stays — disabled,
    as it was created. Invariant: the owner's writes succeed; install fails naming it."""
    owner = owner_table(users, "STUCK", "ID NUMBER(10) PRIMARY KEY")
    with users.admin.begin() as conn:
        conn.execute(text(f"REVOKE DROP ANY TRIGGER FROM {users.cdc}"))
    break_the_trigger(monkeypatch)  # the truncate trigger's text too
    install_fails(users, "STUCK", "left DISABLED")
    assert trigger_states(users) == [
        ("CDC_STUCK_TRG", "DISABLED", "INVALID"),
        ("CDC_STUCK_TRUNC", "DISABLED", "INVALID"),
    ]
    writes_still_work(owner, "STUCK")


def test_a_reinstall_that_does_not_compile_keeps_the_installed_trigger_capturing(
    users: Users, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 3, an upgrade: the new text is compiled under a probe name first; when it fails,
    the installed trigger is untouched. Invariant: the owner's writes are still logged."""
    owner = owner_table(users, "KEPT", "ID NUMBER(10) PRIMARY KEY")
    engine = create_source_engine(install_settings(users, "KEPT").source)
    install.install(engine, install_settings(users, "KEPT"))
    engine.dispose()
    break_the_trigger(monkeypatch)
    install_fails(users, "KEPT", "left as it was")
    assert trigger_states(users) == [  # no probe left
        ("CDC_KEPT_TRG", "ENABLED", "VALID"),
        ("CDC_KEPT_TRUNC", "ENABLED", "VALID"),
    ]
    writes_still_work(owner, "KEPT")
    assert logged_keys(users, "I") == {1}


@pytest.mark.parametrize(
    ("key_type", "refused"),
    [
        ("TIMESTAMP(6) WITH TIME ZONE", True),  # item 5
        ("TIMESTAMP(6) WITH LOCAL TIME ZONE", True),  # item 5
        ("TIMESTAMP(9)", True),  # item 6
        ("TIMESTAMP(6)", False),
    ],
)
def test_keys_that_could_not_be_matched_back_are_refused_at_start(
    users: Users, make_config: Callable[..., Path], key_type: str, refused: bool
) -> None:
    """Items 5 and 6: refused with exit 2 naming the column, before any DDL runs."""
    owner = owner_table(users, "STAMPED", f"AT {key_type} PRIMARY KEY, NAME VARCHAR2(10)")
    config = config_for(make_config, users, name="STAMPED", primary_key=["AT"])
    done = cli(config, "source", "install")
    if refused:
        assert done.returncode == 2, done.stdout + done.stderr
        assert "column AT is " in done.stderr and "primary_key" in done.stderr
    else:
        assert done.returncode == 0, done.stderr
    owner.dispose()


def test_timestamp6_key_round_trips_through_the_relay(
    users: Users, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Item 6, the supported side: a TIMESTAMP(6) key with microseconds finds its row again."""
    owner = owner_table(users, "TICKS", "AT TIMESTAMP(6) PRIMARY KEY, NAME VARCHAR2(10)")
    config = config_for(make_config, users, name="TICKS", primary_key=["AT"])
    assert cli(config, "source", "install").returncode == 0
    with owner.begin() as conn:
        conn.execute(text("INSERT INTO TICKS VALUES (TIMESTAMP '2024-03-01 13:45:10.123456', 'a')"))
    done = cli(config, "relay", "--once")
    assert done.returncode == 0, done.stderr
    [record] = read_topic(kafka_bootstrap, topic(config, users, "TICKS"))
    assert record.op == "c" and record.key == {"AT": "2024-03-01T13:45:10.123456"}
    owner.dispose()


def test_keyset_paging_sees_every_text_key_under_a_linguistic_logon_setting(
    users: Users,
) -> None:
    """Item 7: ORDER BY and `>` must agree; a logon trigger sets a linguistic sort for cdc-sync.

    Invariant: bootstrap's chunks return every row exactly once.
    """
    owner = owner_table(users, "WORDS", "CODE VARCHAR2(10) PRIMARY KEY")
    codes = ["a", "B", "c", "D", "_x", "Zz", "ä", "A1"]
    with owner.begin() as conn:
        for code in codes:
            conn.execute(text("INSERT INTO WORDS VALUES (:c)"), {"c": code})
    with users.admin.begin() as conn:
        conn.execute(
            text(
                f"CREATE TRIGGER {users.cdc}.LINGUISTIC AFTER LOGON ON {users.cdc}.SCHEMA BEGIN "
                "EXECUTE IMMEDIATE 'ALTER SESSION SET NLS_SORT = GERMAN_CI NLS_COMP = LINGUISTIC'; "
                "END;"
            )
        )
    settings = TableSettings(name="WORDS", schema=users.owner, primary_key=["CODE"])
    engine = create_source_engine(
        Settings(  # type: ignore[arg-type]
            source={"url": users.cdc_url},
            kafka={"bootstrap_servers": "x:1"},
            meilisearch={"url": "http://x"},
        ).source
    )
    with engine.connect() as conn:
        session = dict(
            conn.execute(
                text(
                    "SELECT PARAMETER, VALUE FROM NLS_SESSION_PARAMETERS "
                    "WHERE PARAMETER IN ('NLS_SORT', 'NLS_COMP')"
                )
            ).all()
        )
    assert session == {"NLS_SORT": "BINARY", "NLS_COMP": "BINARY"}
    seen = [row["code"] for chunk in SourceReader(engine, settings).chunks(2) for row in chunk]
    assert sorted(seen) == sorted(codes) and len(seen) == len(codes)
    engine.dispose()
    owner.dispose()


def test_char_soft_delete_flag_is_blank_padded(
    users: Users, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Item 8: a CHAR(3) flag holds 'Y  '; configured 'Y' must match it (timestamp capture)."""
    owner = owner_table(
        users, "FLAGGED", "ID NUMBER(10) PRIMARY KEY, DEL_YN CHAR(3) DEFAULT 'N', MODIFIED DATE"
    )
    config = config_for(
        make_config,
        users,
        name="FLAGGED",
        primary_key=["ID"],
        capture="timestamp",
        modified_column="MODIFIED",
        soft_delete={"column": "DEL_YN", "value": "Y"},
    )
    with owner.begin() as conn:
        conn.execute(text("INSERT INTO FLAGGED VALUES (1, 'N', SYSDATE - 1)"))
        conn.execute(text("INSERT INTO FLAGGED VALUES (2, 'Y', SYSDATE - 1)"))
    done = cli(config, "relay", "--once")
    assert done.returncode == 0, done.stderr
    ops = {
        k: [r.op for r in rs]
        for k, rs in by_key(read_topic(kafka_bootstrap, topic(config, users, "FLAGGED"))).items()
    }
    assert ops == {'{"ID": 1}': ["u"], '{"ID": 2}': ["d", "tombstone"]}
    owner.dispose()


def test_check_names_what_the_cdc_user_lacks(
    users: Users, make_config: Callable[..., Path]
) -> None:
    """Item 3: a user without CREATE SEQUENCE is told before install fails."""
    owner = owner_table(users, "CHECKED", "ID NUMBER(10) PRIMARY KEY")
    with users.admin.begin() as conn:
        conn.execute(text(f"REVOKE CREATE SEQUENCE FROM {users.cdc}"))
    config = config_for(make_config, users, name="CHECKED", primary_key=["ID"])
    done = cli(config, "check", "--json")
    assert done.returncode == 3
    assert "lacks CREATE SEQUENCE" in done.stdout, done.stdout
    owner.dispose()


def test_case_twin_columns_are_refused_at_start_and_kept_apart_with_fields(
    users: Users, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """NAME and "Name" are two Oracle columns (a quoted identifier is case-sensitive: Oracle
    SQL Language Reference, "Database Object Naming Rules"); lower-cased they would be one
    field. Refused with exit 2 naming both and the fields entry; with it, both values go out."""
    import re
    import tomllib

    owner = owner_table(
        users, "TWINS", 'ID NUMBER(10) PRIMARY KEY, NAME VARCHAR2(20), "Name" VARCHAR2(20)'
    )
    config = config_for(make_config, users, name="TWINS", primary_key=["ID"])
    done = cli(config, "source", "install")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "tables[0]" in done.stderr and "columns NAME and Name" in done.stderr
    found = re.search(r"fields = (\{[^}]*\})", done.stderr)
    assert found, done.stderr
    fields = tomllib.loads(f"fields = {found.group(1)}")["fields"]
    config = config_for(make_config, users, name="TWINS", primary_key=["ID"], fields=fields)
    assert cli(config, "source", "install").returncode == 0
    with owner.begin() as conn:
        conn.execute(text("""INSERT INTO TWINS (ID, NAME, "Name") VALUES (1, 'upper', 'mixed')"""))
    done = cli(config, "relay", "--once")
    assert done.returncode == 0, done.stderr
    [record] = read_topic(kafka_bootstrap, topic(config, users, "TWINS"))
    assert record.value is not None
    assert (record.value["after"]["NAME"], record.value["after"]["Name"]) == ("upper", "mixed")
    owner.dispose()


def test_a_table_configured_in_lower_case_publishes_to_its_upper_case_topic(
    users: Users, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Oracle stores unquoted names in upper case, and Debezium's topics spell them so
    (oracle.adoc, "Topic names": fulfillment.INVENTORY.CUSTOMERS): the relay publishes where
    the consumer, and a Debezium connector, would read."""
    owner = owner_table(users, "ITEMS", "ID NUMBER(10) PRIMARY KEY, NAME VARCHAR2(20)")
    table = {"name": "items", "schema": users.owner.lower(), "primary_key": ["id"]}
    config = make_config(users.cdc_url, tables=[table], source={"url": users.cdc_url})
    assert cli(config, "source", "install").returncode == 0
    with owner.begin() as conn:
        conn.execute(text("INSERT INTO ITEMS (ID, NAME) VALUES (1, 'one')"))
    done = cli(config, "relay", "--once")
    assert done.returncode == 0, done.stderr
    records = read_topic(kafka_bootstrap, topic(config, users, "ITEMS"))  # <prefix>.APP_….ITEMS
    assert [r.key for r in records] == [{"ID": 1}]
    owner.dispose()


def logged_keys(users: Users, op: str) -> set[int]:
    """The keys the change log holds for `op` (one-key rows: Oracle's triggers never pack)."""
    with users.admin.connect() as conn:
        rows = conn.execute(
            text(f"SELECT PK FROM {users.cdc}.CDC_CHANGE_LOG WHERE OP = :op"), {"op": op}
        ).all()
    return {json.loads(pk)[0] for (pk,) in rows}


def kept_ids(owner: Engine, where: str = "1 = 1") -> set[int]:
    with owner.connect() as conn:
        return {int(i) for (i,) in conn.execute(text(f"SELECT ID FROM BATCHED WHERE {where}"))}


@pytest.fixture
def batched(users: Users, make_config: Callable[..., Path]) -> Iterator[tuple[Engine, Path]]:
    owner = owner_table(users, "BATCHED", "ID NUMBER(10) PRIMARY KEY, NAME VARCHAR2(10)")
    config = config_for(make_config, users, name="BATCHED", primary_key=["ID"])
    done = cli(config, "source", "install")
    assert done.returncode == 0, done.stderr
    yield owner, config
    owner.dispose()


# A duplicate key and a name too long for VARCHAR2(10), before and after the 1,000th row.
BAD_ROWS = {5: (4, "dup"), 700: (700, "far too long"), 1500: (1499, "dup"), 1999: (3, "dup")}


def rows_with_errors() -> list[tuple[int, str]]:
    return [BAD_ROWS.get(i, (i, f"n{i}")) for i in range(2000)]


def test_client_array_insert_with_batch_errors_logs_every_row_it_kept(
    users: Users, batched: tuple[Engine, Path], kafka_bootstrap: str
) -> None:
    """Item 6: ``executemany(..., batcherrors=True)`` keeps the good rows and reports the bad
    (python-oracledb, "Handling Data Errors"); the application commits the good ones.

    Invariant: the change log holds exactly the keys of the rows the table kept, and the
    relay publishes each of them (none lost with a failed iteration, none invented).
    """
    owner, config = batched
    raw = owner.raw_connection()  # the driver's own API: batcherrors is python-oracledb's
    cursor = raw.cursor()
    cursor.executemany(
        "INSERT INTO BATCHED (ID, NAME) VALUES (:1, :2)", rows_with_errors(), batcherrors=True
    )
    errors = cursor.getbatcherrors()
    raw.commit()
    assert sorted(e.offset for e in errors) == sorted(BAD_ROWS)
    kept = kept_ids(owner)
    assert len(kept) == 2000 - len(BAD_ROWS)
    assert logged_keys(users, "I") == kept
    updates = [(f"u{i}" if i % 3 else "much too long", i) for i in sorted(kept)]
    cursor.executemany("UPDATE BATCHED SET NAME = :1 WHERE ID = :2", updates, batcherrors=True)
    assert cursor.getbatcherrors()
    raw.commit()
    raw.close()
    assert logged_keys(users, "U") == kept_ids(owner, "NAME LIKE 'u%'")
    done = cli(config, "relay", "--once")
    assert done.returncode == 0, done.stderr
    published = by_key(read_topic(kafka_bootstrap, topic(config, users, "BATCHED")))
    assert {json.loads(k)["ID"] for k in published} == kept


def test_forall_save_exceptions_logs_every_row_it_kept(
    users: Users, batched: tuple[Engine, Path]
) -> None:
    """Item 6, PL/SQL's own array DML: ``FORALL ... SAVE EXCEPTIONS`` (PL/SQL Language
    Reference, "Handling FORALL Exceptions After FORALL Statement Completes") runs every
    iteration, rolls back the failed ones and raises ORA-24381 at the end; the block
    handles it and commits. Invariant: the kept rows' keys, and only theirs, are logged."""
    owner, _config = batched
    duplicates = " ".join(f"WHEN {i} THEN {BAD_ROWS[i][0]}" for i in (5, 1500, 1999))
    block = (
        "DECLARE\n"
        "    TYPE t_ids IS TABLE OF NUMBER INDEX BY PLS_INTEGER;\n"
        "    v_ids t_ids;\n"
        "BEGIN\n"
        "    FOR i IN 0 .. 1999 LOOP\n"
        f"        v_ids(i + 1) := CASE i {duplicates} ELSE i END;\n"
        "    END LOOP;\n"
        "    FORALL i IN 1 .. v_ids.COUNT SAVE EXCEPTIONS\n"
        "        INSERT INTO BATCHED (ID) VALUES (v_ids(i));\n"
        "EXCEPTION\n"
        "    WHEN OTHERS THEN IF SQLCODE != -24381 THEN RAISE; END IF;\n"
        "END;"
    )
    raw = owner.raw_connection()
    raw.cursor().execute(block)
    raw.commit()
    raw.close()
    kept = kept_ids(owner)
    assert len(kept) == 2000 - 3  # three duplicates; row 700 is only too long as text
    assert logged_keys(users, "I") == kept


def test_a_truncate_by_the_owner_is_logged_and_published_as_a_truncate_event(
    users: Users, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Item 7: TRUNCATE fires no row trigger; the AFTER TRUNCATE ON <owner>.SCHEMA trigger
    logs a whole-table marker, which the relay publishes as op ``t`` without a key.

    Invariant: the truncate's change id lies between the changes before and after it."""
    owner = owner_table(users, "CLEARED", "ID NUMBER(10) PRIMARY KEY, NAME VARCHAR2(10)")
    config = config_for(make_config, users, name="CLEARED", primary_key=["ID"])
    done = cli(config, "source", "install")
    assert done.returncode == 0, done.stderr
    assert ("CDC_CLEARED_TRUNC", "ENABLED", "VALID") in trigger_states(users)
    with owner.begin() as conn:
        conn.execute(text("INSERT INTO CLEARED VALUES (1, 'a')"))
    with owner.connect() as conn:
        conn.execute(text("TRUNCATE TABLE CLEARED"))  # DDL: commits on its own
    with owner.begin() as conn:
        conn.execute(text("INSERT INTO CLEARED VALUES (2, 'b')"))
    with users.admin.connect() as conn:
        logged = conn.execute(
            text(f"SELECT OP, PK FROM {users.cdc}.CDC_CHANGE_LOG ORDER BY ID")
        ).all()
    assert [tuple(r) for r in logged] == [("I", "[1]"), ("D", "[]"), ("I", "[2]")]
    done = cli(config, "relay", "--once")
    assert done.returncode == 0, done.stderr
    records = read_topic(kafka_bootstrap, topic(config, users, "CLEARED"))
    ordered = sorted(
        (r.value["source"]["change_id"], r.op, r.key) for r in records if r.value is not None
    )
    assert [(op, key) for _, op, key in ordered] == [("c", {"ID": 1}), ("t", {}), ("c", {"ID": 2})]
    owner.dispose()


THIRD_SCHEMA = (
    "CREATE ANY TABLE",
    "CREATE ANY SEQUENCE",
    "CREATE ANY INDEX",
    "COMMENT ANY TABLE",
    "GRANT ANY OBJECT PRIVILEGE",
    "DROP ANY TABLE",
)
"""What docs/oracle.md adds for a change log in a schema of its own."""


def test_a_change_log_in_a_third_schema_is_checked_and_installed_as_documented(
    users: Users, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Item 5: `check` names what this layout needs (plain CREATE TABLE is not enough);
    with docs/oracle.md's list install works for the owner's table. cdc-sync's own table
    (no `schema` in the config) needs INSERT on the change log granted to cdc-sync
    directly, which nobody can grant themselves: until a DBA does, its trigger does not
    compile and install says so; afterwards install completes.

    Invariant: the owner's and cdc-sync's own writes reach Kafka."""
    logs = f"LOGS_{users.owner.removeprefix('APP_')}"
    with users.admin.begin() as conn:
        conn.execute(text(f"CREATE USER {logs} NO AUTHENTICATION QUOTA 100M ON USERS"))
    owner = owner_table(users, "ITEMS", "ID NUMBER(10) PRIMARY KEY, NAME VARCHAR2(10)")
    mine = create_engine(users.cdc_url)
    with mine.begin() as conn:
        conn.execute(text("CREATE TABLE MINE (ID NUMBER(10) PRIMARY KEY)"))
    config = make_config(
        users.cdc_url,
        tables=[
            {"name": "ITEMS", "schema": users.owner, "primary_key": ["ID"]},
            {"name": "MINE", "primary_key": ["ID"]},
        ],
        source={"url": users.cdc_url, "changelog_schema": logs},
    )
    try:
        checked = cli(config, "check", "--json")
        assert checked.returncode == 3 and "lacks CREATE ANY TABLE (" in checked.stdout
        with users.admin.begin() as conn:
            for privilege in THIRD_SCHEMA:
                conn.execute(text(f"GRANT {privilege} TO {users.cdc}"))
        first = cli(config, "source", "install")
        assert first.returncode != 0 and "MINE" in first.stderr, first.stderr
        with users.admin.begin() as conn:  # the grants docs/oracle.md has a DBA give
            conn.execute(
                text(f"GRANT SELECT, DELETE, INSERT ON {logs}.CDC_CHANGE_LOG TO {users.cdc}")
            )
        done = cli(config, "source", "install")
        assert done.returncode == 0, done.stderr
        checked = cli(config, "check")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        with owner.begin() as conn:
            conn.execute(text("INSERT INTO ITEMS VALUES (1, 'a')"))
        with mine.begin() as conn:
            conn.execute(text("INSERT INTO MINE VALUES (7)"))
        done = cli(config, "relay", "--once")
        assert done.returncode == 0, done.stderr
        assert [r.op for r in read_topic(kafka_bootstrap, topic(config, users, "ITEMS"))] == ["c"]
    finally:
        cli(config, "source", "uninstall", "--force")
        mine.dispose()
        owner.dispose()
        with users.admin.begin() as conn:
            conn.execute(text(f"DROP USER {logs} CASCADE"))


def test_uninstall_table_on_oracle_drops_the_tables_triggers_and_rows(
    users: Users, make_config: Callable[..., Path]
) -> None:
    """Item 9: a table taken out of the config; its row and truncate triggers go, its rows
    in the change log go, and the change log stays."""
    owner = owner_table(users, "GONE", "ID NUMBER(10) PRIMARY KEY")
    kept = owner_table(users, "KEPT", "ID NUMBER(10) PRIMARY KEY")
    both = make_config(
        users.cdc_url,
        tables=[
            {"name": n, "schema": users.owner, "primary_key": ["ID"]} for n in ("GONE", "KEPT")
        ],
        source={"url": users.cdc_url},
    )
    assert cli(both, "source", "install").returncode == 0
    with owner.begin() as conn:
        conn.execute(text("INSERT INTO GONE VALUES (1)"))
        conn.execute(text("INSERT INTO KEPT VALUES (1)"))
    one = config_for(make_config, users, name="KEPT", primary_key=["ID"])
    done = cli(one, "source", "uninstall", "--table", f"{users.owner}.GONE")
    assert done.returncode == 0, done.stderr
    assert [t for t, _, _ in trigger_states(users)] == ["CDC_KEPT_TRG", "CDC_KEPT_TRUNC"]
    with users.admin.connect() as conn:
        names = conn.execute(text(f"SELECT TABLE_NAME FROM {users.cdc}.CDC_CHANGE_LOG")).all()
    assert [n for (n,) in names] == [f"{users.owner}.KEPT"]
    owner.dispose()
    kept.dispose()
