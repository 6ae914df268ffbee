"""PostgreSQL capture: statement-level triggers with transition tables, on the real server."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from cdc_sync.source.install import install, uninstall
from tests.integration.postgres_support import clean_engine, run, settings
from tests.integration.relay_helpers import by_key, cli, read_topic

pytestmark = pytest.mark.stack

CHANNEL = "cdc_sync.cdc_change_log"
LEGACY_ROW_TRIGGER = """
CREATE OR REPLACE FUNCTION cdc_items_fn() RETURNS trigger LANGUAGE plpgsql AS $cdc$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO cdc_change_log (table_name, op, pk) VALUES ('ITEMS', 'D', json_build_array(OLD.id)::text);
    ELSE
        INSERT INTO cdc_change_log (table_name, op, pk) VALUES ('ITEMS', 'U', json_build_array(NEW.id)::text);
    END IF;
    RETURN NULL;
END
$cdc$;
CREATE TRIGGER cdc_items_trg AFTER INSERT OR UPDATE OR DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION cdc_items_fn();
"""


ITEMS = {"name": "ITEMS", "primary_key": ["ID"]}


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    yield from clean_engine(pg_url)


def logged(engine: Engine) -> list[tuple[str, Any]]:
    """(op, key values) of every key in the change log, in id order (the keys of a packed
    row, a list of keys, in the row's own order)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT op, pk FROM cdc_change_log ORDER BY id")).all()
    found = []
    for op, pk in rows:
        value = json.loads(pk)
        found += [(op, key) for key in (value if isinstance(value[0], list) else [value])]
    return found


def take(engine: Engine) -> list[tuple[str, Any]]:
    found = logged(engine)
    run(engine, "DELETE FROM cdc_change_log")
    return found


def triggers(engine: Engine, table: str) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
                    "AND NOT tgisinternal ORDER BY tgname"
                ),
                {"t": table},
            ).scalars()
        )


def test_each_multi_row_statement_logs_every_changed_key_once(engine: Engine, pg_url: str) -> None:
    """Invariant: each changed row's key logged once per statement, op by what happened
    to its key, one transaction id for all rows of a transaction."""
    run(engine, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    install(engine, settings(pg_url, [ITEMS]))
    run(engine, "INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 5) g")
    assert take(engine) == [("I", [i]) for i in range(1, 6)]
    run(engine, "UPDATE items SET name = name || '!'", "DELETE FROM items WHERE id <= 2")
    found = logged(engine)
    assert sorted(found[:5]) == [("U", [i]) for i in range(1, 6)]
    assert sorted(found[5:]) == [("D", [1]), ("D", [2])]
    with engine.connect() as conn:
        txids = conn.execute(text("SELECT DISTINCT txid FROM cdc_change_log")).scalars().all()
    assert len(txids) == 1 and txids[0]
    take(engine)
    run(engine, "UPDATE items SET name = 'x' WHERE id > 100", "DELETE FROM items WHERE id > 100")
    assert logged(engine) == []


def test_key_changes_log_deleted_and_inserted_keys_by_key(engine: Engine, pg_url: str) -> None:
    """Invariant: old keys gone after an UPDATE are logged D, new keys I, kept keys U
    (old and new rows cannot be paired; keys can), for single and composite keys."""
    run(
        engine,
        "CREATE TABLE items (id INTEGER PRIMARY KEY DEFERRABLE INITIALLY IMMEDIATE, name TEXT)",
        "CREATE TABLE pairs (a INTEGER, b VARCHAR(5), v TEXT, PRIMARY KEY (a, b))",
    )
    pairs = {"name": "PAIRS", "primary_key": ["A", "B"]}
    install(engine, settings(pg_url, [ITEMS, pairs]))
    run(engine, "INSERT INTO items SELECT g, 'n' FROM generate_series(1, 3) g")
    run(engine, "INSERT INTO pairs VALUES (1, 'x', 'v'), (1, 'y', 'v'), (2, 'x', 'v')")
    take(engine)
    run(engine, "UPDATE items SET id = id + 1")  # 1,2,3 -> 2,3,4: key 1 gone, key 4 new
    assert sorted(take(engine)) == [("D", [1]), ("I", [4]), ("U", [2]), ("U", [3])]
    run(engine, "UPDATE pairs SET b = 'z' WHERE a = 2")
    assert sorted(take(engine)) == [("D", [2, "x"]), ("I", [2, "z"])]
    run(engine, "UPDATE pairs SET a = a + 10, v = 'w' WHERE b IN ('x', 'y')")
    assert sorted(take(engine)) == [
        ("D", [1, "x"]),
        ("D", [1, "y"]),
        ("I", [11, "x"]),
        ("I", [11, "y"]),
    ]


def test_upsert_and_merge_are_captured(engine: Engine, pg_url: str) -> None:
    """Invariant: statements firing several events (ON CONFLICT, MERGE) log every key."""
    run(engine, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    install(engine, settings(pg_url, [ITEMS]))
    run(engine, "INSERT INTO items VALUES (1, 'a'), (2, 'b')")
    take(engine)
    run(
        engine,
        "INSERT INTO items VALUES (2, 'B'), (3, 'c') "
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
    )
    assert sorted(take(engine)) == [("I", [3]), ("U", [2])]
    with engine.connect() as conn:
        if conn.dialect.server_version_info < (15,):  # type: ignore[operator]
            pytest.skip("MERGE needs PostgreSQL 15")
    run(
        engine,
        "MERGE INTO items t USING (VALUES (1, 'del'), (2, 'upd'), (9, 'new')) s (id, name) "
        "ON t.id = s.id "
        "WHEN MATCHED AND s.name = 'del' THEN DELETE "
        "WHEN MATCHED THEN UPDATE SET name = s.name "
        "WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.name)",
    )
    assert sorted(take(engine)) == [("D", [1]), ("I", [9]), ("U", [2])]


def test_install_replaces_the_row_trigger_of_earlier_versions(engine: Engine, pg_url: str) -> None:
    """Invariant: after install over an earlier version's row trigger, each change is
    logged exactly once (no trigger left from the old shape); uninstall leaves nothing."""
    run(engine, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    config = settings(pg_url, [ITEMS])
    install(engine, config)
    run(engine, "DROP TRIGGER cdc_items_trg_i ON items", "DROP TRIGGER cdc_items_trg_u ON items")
    run(engine, "DROP TRIGGER cdc_items_trg_d ON items", LEGACY_ROW_TRIGGER)
    run(engine, "INSERT INTO items VALUES (1, 'a')")
    assert take(engine) == [("U", [1])]  # the legacy trigger is live
    install(engine, config)
    install(engine, config)  # idempotent
    assert triggers(engine, "items") == [
        "cdc_items_trg_d",
        "cdc_items_trg_i",
        "cdc_items_trg_t",  # TRUNCATE (docs/truncates.md)
        "cdc_items_trg_u",
    ]
    run(engine, "INSERT INTO items VALUES (2, 'b')", "UPDATE items SET name = 'c'")
    assert sorted(take(engine)) == [("I", [2]), ("U", [1]), ("U", [2])]
    uninstall(engine, config)
    assert triggers(engine, "items") == []
    with engine.connect() as conn:
        functions = conn.execute(text("SELECT proname FROM pg_proc WHERE proname LIKE 'cdc_%'"))
        assert functions.all() == []


def test_a_transaction_notifies_the_channel_once_at_commit(engine: Engine, pg_url: str) -> None:
    """Invariant: a relay listening on the change log's channel is woken once per
    committed transaction that logged changes, and not by one that logged none."""
    run(engine, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    install(engine, settings(pg_url, [ITEMS]))
    with psycopg.connect(pg_url, autocommit=True) as listener:
        listener.execute(f'LISTEN "{CHANNEL}"')
        with engine.connect() as conn:
            conn.exec_driver_sql("INSERT INTO items SELECT g, 'n' FROM generate_series(1, 3) g")
            conn.exec_driver_sql("UPDATE items SET name = 'm'")
            assert list(listener.notifies(timeout=0.3)) == []  # nothing before the commit
            conn.commit()
        assert [n.channel for n in listener.notifies(timeout=10, stop_after=1)] == [CHANNEL]
        assert list(listener.notifies(timeout=0.5)) == []  # once, not per statement or row
        run(engine, "UPDATE items SET name = 'z' WHERE id > 100")
        assert list(listener.notifies(timeout=0.5)) == []
        install(engine, settings(pg_url, [ITEMS], notify=False))  # [source] notify = false
        run(engine, "UPDATE items SET name = 'q'")
        assert list(listener.notifies(timeout=0.5)) == []
        assert len(take(engine)) == 3 + 3 + 3  # still logged


def test_an_application_role_writes_without_any_grant_on_the_change_log(
    engine: Engine, pg_url: str
) -> None:
    """Invariant: an application role with privileges on its own table only still writes it,
    and every change is logged: the capture function runs as its installer (SECURITY
    DEFINER) with a pinned search path, so neither the change log's grants nor the writer's
    search_path (a same-named table or function of its own) can change what is logged."""
    run(engine, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    install(engine, settings(pg_url, [ITEMS]))
    role = f"app_{int(time.time() * 1000)}"
    run(
        engine,
        f"CREATE ROLE {role} LOGIN",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON items TO {role}",
        f"CREATE SCHEMA {role} AUTHORIZATION {role}",
    )
    try:
        app = psycopg.connect(pg_url.replace("postgres@", f"{role}@", 1), autocommit=True)
        with app:
            app.execute(f"CREATE TABLE {role}.cdc_change_log (x int)")  # a decoy on its path
            app.execute(f"SET search_path = {role}, public")
            app.execute("INSERT INTO public.items VALUES (1, 'a'), (2, 'b')")
            app.execute("UPDATE public.items SET name = 'c' WHERE id = 2")
            app.execute("DELETE FROM public.items WHERE id = 1")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute("SELECT * FROM public.cdc_change_log")
        assert take(engine) == [("I", [1]), ("I", [2]), ("U", [2]), ("D", [1])]
    finally:
        run(engine, f"DROP SCHEMA {role} CASCADE", f"DROP OWNED BY {role}", f"DROP ROLE {role}")


def test_relay_publishes_the_final_state_of_statement_level_changes(
    engine: Engine, pg_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Invariant: after key-changing and multi-row statements, the last event per key in
    Kafka matches the table: present rows as their image, vanished keys deleted."""
    run(engine, "CREATE TABLE items (id INTEGER PRIMARY KEY DEFERRABLE, name TEXT)")
    config = make_config(pg_url, tables=[ITEMS])
    assert cli(config, "source", "install").returncode == 0
    run(
        engine,
        "INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 50) g",
        "UPDATE items SET id = id + 5 WHERE id > 40",
        "DELETE FROM items WHERE mod(id, 7) = 0",
        "UPDATE items SET name = name || '!' WHERE mod(id, 3) = 0",
    )
    done = cli(config, "relay", "--once")
    assert done.returncode == 0, done.stderr
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, name FROM items")).tuples().all())
    prefix = config.read_text().split('topic_prefix = "')[1].split('"')[0]
    last = {  # a tombstone (None) ends a deleted key's records
        json.loads(k)["ID"]: rs[-1].value
        for k, rs in by_key(read_topic(kafka_bootstrap, f"{prefix}.ITEMS")).items()
    }
    assert set(last) == set(range(1, 56))  # every key ever touched, once per batch
    assert {k for k, v in last.items() if v is not None} == set(rows)
    for key, name in rows.items():
        assert last[key] is not None and last[key]["after"]["name"] == name


def wait_for_keys(bootstrap: str, topic: str, keys: set[int], timeout_s: float) -> float:
    """Seconds until every key is in the topic (fails after `timeout_s`)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        with contextlib.suppress(Exception):  # the topic may not exist yet
            found = {json.loads(k)["ID"] for k in by_key(read_topic(bootstrap, topic, 10))}
            if keys <= found:
                return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"keys {keys} not in {topic} after {timeout_s} s")


def listeners(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        query = "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()"
        return list(conn.execute(text(query)).scalars())


def test_a_notification_wakes_the_relay_and_a_lost_listener_costs_a_poll_not_a_change(
    engine: Engine, pg_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Invariant: a change committed while the relay waits is published without waiting
    out the poll interval (60 s here, and an idle relay's first wait is that long: any
    arrival sooner proves the wake-up); when the listening connection is killed, the
    next change is still published and the relay listens again."""
    run(engine, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    config = make_config(pg_url, tables=[ITEMS], relay={"poll_interval_ms": 60_000})
    assert cli(config, "source", "install").returncode == 0
    prefix = config.read_text().split('topic_prefix = "')[1].split('"')[0]
    topic = f"{prefix}.ITEMS"
    relay = subprocess.Popen(
        [sys.executable, "-m", "cdc_sync", "--config", str(config), "relay"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = wait_for_listener(engine, exclude=None)  # found nothing; now in its 60 s wait
        run(engine, "INSERT INTO items VALUES (1, 'a')")
        assert wait_for_keys(kafka_bootstrap, topic, {1}, 30) < 30
        run(engine, f"SELECT pg_terminate_backend({first})")
        run(engine, "INSERT INTO items VALUES (2, 'b')")
        wait_for_keys(kafka_bootstrap, topic, {2}, 30)
        wait_for_listener(engine, exclude=first)
    finally:
        relay.terminate()
        _, stderr = relay.communicate(timeout=30)
    assert relay.returncode == 0, stderr
    assert "listening on cdc_sync.cdc_change_log failed" in stderr


def wait_for_listener(engine: Engine, exclude: int | None, timeout_s: float = 60) -> int:
    """The pid of the relay's listening connection (other than `exclude`) once it exists."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [pid for pid in listeners(engine) if pid != exclude]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError("the relay never listened")


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("BIGINT", ["1", "9223372036854775807"]),
        ("VARCHAR(20)", ["'a'", "'b.e'"]),
        ("CHAR(4)", ["'ab'", "'abcd'"]),
        ("NUMERIC(12, 2)", ["1.50", "12345678.99"]),
        ("DATE", ["DATE '2024-02-29'", "DATE '1999-12-31'"]),
        (
            "TIMESTAMP",
            ["TIMESTAMP '2024-02-29 10:11:12.123456'", "TIMESTAMP '1999-12-31 00:00:00'"],
        ),
        (
            "UUID",
            ["'7f1c3f7e-3b0a-4c38-9b61-1b7f0f2a5a10'", "'00000000-0000-0000-0000-000000000000'"],
        ),
    ],
)
def test_row_images_are_found_for_every_key_type(
    engine: Engine,
    pg_url: str,
    make_config: Callable[..., Path],
    kafka_bootstrap: str,
    column: str,
    values: list[str],
) -> None:
    """Invariant: the relay reads the current row of every logged key (keys bound as one
    typed array): an existing row is never published as a delete."""
    run(
        engine, "DROP TABLE IF EXISTS keyed", f"CREATE TABLE keyed (k {column} PRIMARY KEY, v TEXT)"
    )
    config = make_config(pg_url, tables=[{"name": "KEYED", "primary_key": ["K"]}])
    assert cli(config, "source", "install").returncode == 0
    run(engine, *(f"INSERT INTO keyed VALUES ({v}, 'x')" for v in values))
    done = cli(config, "relay", "--once")
    assert done.returncode == 0, done.stderr
    prefix = config.read_text().split('topic_prefix = "')[1].split('"')[0]
    records = read_topic(kafka_bootstrap, f"{prefix}.KEYED")
    assert len(records) == 2 and all(r.op == "c" for r in records), [r.op for r in records]
