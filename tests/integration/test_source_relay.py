"""Trigger capture and the relay against real SQLite, PostgreSQL and Kafka."""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from cdc_sync.source.relay import CRASH_HOOK
from tests.integration.relay_helpers import by_key, cli, java_partition, read_topic, relays_at_once

pytestmark = pytest.mark.stack

TABLE = {"name": "ITEMS", "primary_key": ["ID"], "filter": "status <> 'DRAFT'"}
DDL = "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50), status VARCHAR(10), price NUMERIC(10, 2))"


@pytest.fixture(params=["sqlite", "postgresql"])
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'source.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def engine_for(url: str) -> Engine:
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


@pytest.fixture
def source(source_url: str) -> Iterator[Engine]:
    engine = engine_for(source_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS items"))
        conn.execute(text("DROP TABLE IF EXISTS cdc_change_log"))
        conn.execute(text(DDL))
    yield engine
    engine.dispose()


def run(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def topic_of(config: Path) -> tuple[str, int]:
    kafka = tomllib.loads(config.read_text())["kafka"]
    return f"{kafka['topic_prefix']}.ITEMS", kafka["partitions"]


def relay_once(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    done = cli(config, "relay", "--once", env=env)
    assert done.returncode == 0, done.stderr
    return done


def test_insert_update_delete_and_key_change_give_the_expected_events(
    source: Engine, source_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    config = make_config(source_url, tables=[TABLE])
    done = cli(config, "source", "install")
    assert done.returncode == 0, done.stderr
    topic, partitions = topic_of(config)

    run(source, *(f"INSERT INTO items VALUES ({i}, 'n{i}', 'OK', {i}.50)" for i in (1, 2, 3)))
    relay_once(config)
    run(
        source,
        "UPDATE items SET name = 'renamed' WHERE id = 1",
        "DELETE FROM items WHERE id = 2",
        "UPDATE items SET id = 4 WHERE id = 3",
    )
    relay_once(config)
    run(source, "UPDATE items SET status = 'DRAFT' WHERE id = 1")  # leaves the filter
    relay_once(config)

    records = read_topic(kafka_bootstrap, topic)
    keys = by_key(records)
    ops = {k: [r.op for r in rs] for k, rs in keys.items()}
    assert ops == {
        '{"ID": 1}': ["c", "u", "d", "tombstone"],
        '{"ID": 2}': ["c", "d", "tombstone"],
        '{"ID": 3}': ["c", "d", "tombstone"],
        '{"ID": 4}': ["c"],
    }
    renamed = keys['{"ID": 1}'][1].value
    assert renamed is not None
    assert {k.upper(): v for k, v in renamed["after"].items()} == {
        "ID": 1,
        "NAME": "renamed",
        "STATUS": "OK",
        "PRICE": 1.5,
    }
    assert renamed["source"]["connector"] == "cdc-sync" and renamed["source"]["change_id"] > 0
    for record in records:
        assert record.raw_key == json.dumps(record.key, separators=(",", ":")).encode()
        assert record.partition == java_partition(record.raw_key, partitions)
    with source.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM cdc_change_log")).scalar_one() == 0


def test_bad_config_exits_2_before_changing_anything(
    source: Engine, source_url: str, make_config: Callable[..., Path]
) -> None:
    cases = [
        ({"name": "NOPE", "primary_key": ["ID"]}, "table NOPE does not exist"),
        ({"name": "ITEMS", "primary_key": ["ID"], "modified_column": "MISSING"}, "MISSING"),
        ({"name": "ITEMS", "primary_key": ["NAME"]}, "does not match the primary key"),
        ({"name": "ITEMS", "primary_key": ["ID"], "filter": "no_such_col = 1"}, "filter"),
    ]
    for table, message in cases:
        done = cli(make_config(source_url, tables=[table]), "source", "install")
        assert done.returncode == 2, (table, done.stderr)
        assert message in done.stderr
    run(source, "CREATE TABLE nokey (id INTEGER, name VARCHAR(10))")
    done = cli(
        make_config(source_url, tables=[{"name": "NOKEY", "primary_key": ["ID"]}]),
        "source",
        "install",
    )
    assert done.returncode == 2 and "has no primary key" in done.stderr
    run(source, "CREATE TABLE cdc_change_log (id INTEGER PRIMARY KEY, other VARCHAR(10))")
    done = cli(make_config(source_url, tables=[TABLE]), "source", "install")
    assert done.returncode == 2 and "is not a cdc-sync change log" in done.stderr
    with source.connect() as conn:
        assert not any("cdc" in t for t in inspect(conn).get_table_names() if t != "cdc_change_log")
        assert inspect(conn).get_columns("cdc_change_log")[1]["name"] == "other"


def test_crash_between_flush_and_delete_republishes(
    source: Engine, source_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    config = make_config(source_url, tables=[TABLE])
    assert cli(config, "source", "install").returncode == 0
    run(source, *(f"INSERT INTO items VALUES ({i}, 'n{i}', 'OK', 1)" for i in range(1, 21)))
    crashed = cli(config, "relay", "--once", env={CRASH_HOOK: "137"})
    assert crashed.returncode == 137
    with source.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM cdc_change_log")).scalar_one() == 20
    topic, _ = topic_of(config)
    assert len(read_topic(kafka_bootstrap, topic)) == 20  # published before the crash
    relay_once(config)
    keys = by_key(read_topic(kafka_bootstrap, topic))
    assert len(keys) == 20 and all([r.op for r in rs] == ["c", "c"] for rs in keys.values())
    with source.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM cdc_change_log")).scalar_one() == 0


def test_uninstall_removes_only_our_objects(
    source: Engine, source_url: str, make_config: Callable[..., Path]
) -> None:
    config = make_config(source_url, tables=[TABLE])
    assert cli(config, "source", "install").returncode == 0
    assert cli(config, "source", "install").returncode == 0  # idempotent
    run(source, "INSERT INTO items VALUES (1, 'a', 'OK', 1)")
    refused = cli(config, "source", "uninstall")
    assert refused.returncode == 1 and "unpublished" in refused.stderr
    assert cli(config, "source", "uninstall", "--force").returncode == 0
    run(source, "INSERT INTO items VALUES (2, 'b', 'OK', 1)")  # no trigger left to fail
    with source.connect() as conn:
        assert "cdc_change_log" not in inspect(conn).get_table_names()


def test_two_relays_on_postgresql_share_the_log(
    pg_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    engine = engine_for(pg_url)
    run(engine, "DROP TABLE IF EXISTS items", "DROP TABLE IF EXISTS cdc_change_log", DDL)
    config = make_config(pg_url, tables=[TABLE], relay={"batch_size": 50})
    assert cli(config, "source", "install").returncode == 0
    run(engine, "INSERT INTO items SELECT g, 'n' || g, 'OK', g FROM generate_series(1, 2000) g")
    run(engine, "UPDATE items SET name = 'v2' WHERE id % 4 = 0")
    outputs = relays_at_once(config)
    counts = [int(out.split()[1]) for out in outputs]
    topic, _ = topic_of(config)
    keys = by_key(read_topic(kafka_bootstrap, topic))
    assert len(keys) == 2000
    assert sum(counts) == sum(len(rs) for rs in keys.values())
    for key, records in keys.items():
        ident = json.loads(key)["ID"]
        assert records[-1].value is not None
        assert records[-1].value["after"]["name"] == ("v2" if ident % 4 == 0 else f"n{ident}")
        assert len(records) <= (2 if ident % 4 == 0 else 1), (key, [r.op for r in records])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM cdc_change_log")).scalar_one() == 0
    engine.dispose()


def test_a_truncate_on_postgresql_is_published_as_a_truncate_event_in_order(
    pg_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """TRUNCATE fires no row trigger; the table's AFTER TRUNCATE trigger logs a whole-table
    marker (op D, key ``[]``) and the relay publishes it as Debezium does a truncate: op
    ``t``, no key (postgresql.adoc, "truncate events"), its change id between those of the
    changes before and after it, so the consumer orders it (docs/truncates.md)."""
    engine = engine_for(pg_url)
    run(engine, "DROP TABLE IF EXISTS items", "DROP TABLE IF EXISTS cdc_change_log", DDL)
    config = make_config(pg_url, tables=[TABLE])
    assert cli(config, "source", "install").returncode == 0
    topic, _ = topic_of(config)
    run(engine, *(f"INSERT INTO items VALUES ({i}, 'n{i}', 'OK', 1)" for i in (1, 2, 3)))
    relay_once(config)
    run(engine, "UPDATE items SET name = 'x' WHERE id = 1", "TRUNCATE items")
    run(engine, "INSERT INTO items VALUES (4, 'n4', 'OK', 1)")
    relay_once(config)
    records = read_topic(kafka_bootstrap, topic)
    [truncate] = [r for r in records if r.op == "t"]
    assert truncate.raw_key is None and truncate.value is not None
    assert truncate.value["before"] is None and truncate.value["after"] is None
    ids = {
        json.dumps(r.key): r.value["source"]["change_id"]
        for r in records
        if r.value is not None and r.op != "t"
    }
    at = truncate.value["source"]["change_id"]
    assert ids['{"ID": 4}'] > at > max(ids[f'{{"ID": {i}}}'] for i in (2, 3))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM cdc_change_log")).scalar_one() == 0
    engine.dispose()


OTHER = {"name": "OTHERS", "primary_key": ["ID"]}


def test_uninstall_table_removes_a_tables_capture_and_purges_its_rows(
    source: Engine, source_url: str, make_config: Callable[..., Path]
) -> None:
    """A table dropped from the config leaves its triggers logging and its rows in the change
    log, where the relay's walk passes them on every batch. `source uninstall --table`
    drops its triggers and deletes its rows; the other tables' capture and rows stay."""
    run(source, "DROP TABLE IF EXISTS others", "CREATE TABLE others (id INTEGER PRIMARY KEY)")
    both = make_config(source_url, tables=[TABLE, OTHER])
    assert cli(both, "source", "install").returncode == 0
    run(source, "INSERT INTO items VALUES (1, 'a', 'OK', 1)", "INSERT INTO others VALUES (1)")
    pending = cli(both, "source", "uninstall", "--table", "OTHERS")
    assert pending.returncode == 1 and "unpublished" in pending.stderr  # still configured
    items_only = make_config(source_url, tables=[TABLE])
    done = cli(items_only, "source", "uninstall", "--table", "OTHERS")
    assert done.returncode == 0, done.stderr
    assert "OTHERS" in done.stdout
    run(source, "INSERT INTO others VALUES (2)", "INSERT INTO items VALUES (2, 'b', 'OK', 1)")
    with source.connect() as conn:
        left = conn.execute(text("SELECT table_name FROM cdc_change_log ORDER BY id")).all()
    assert [r[0] for r in left] == ["ITEMS", "ITEMS"]  # OTHERS: purged, and no longer logged
    run(source, "DROP TABLE others")
