"""PostgreSQL writes a multi-row statement's keys packed, up to 1000 to a change-log row,
and the relay publishes every key of them: against the real PostgreSQL, Kafka and
Meilisearch."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from sqlalchemy import Engine, text

from cdc_sync.source.backlog import changelog_backlog
from cdc_sync.source.install import install
from tests.integration.cli_support import run_cli
from tests.integration.postgres_support import clean_engine, run, settings
from tests.integration.relay_helpers import relays_at_once

pytestmark = pytest.mark.stack

PACKED = 1000
ITEMS = {"name": "ITEMS", "primary_key": ["ID"]}


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    yield from clean_engine(pg_url)


def take(engine: Engine) -> list[tuple[str, str, int, list[Any]]]:
    """(table, op, keys in the row, the keys) of every change-log row in id order; then empty it.

    A row holding one key is that key (``[1]``), a packed one a list of keys."""
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT table_name, op, pk FROM cdc_change_log ORDER BY id"))
        found = []
        for table, op, pk in rows:
            value = json.loads(pk)
            keys = value if isinstance(value[0], list) else [value]
            found.append((table, op, len(keys), keys))
        conn.execute(text("DELETE FROM cdc_change_log"))
    return found


def per_op(found: list[tuple[str, str, int, list[Any]]]) -> dict[str, tuple[int, list[Any]]]:
    """op → (change-log rows, every key logged, sorted)."""
    ops: dict[str, tuple[int, list[Any]]] = {}
    for _, op, _, keys in found:
        rows, logged = ops.get(op, (0, []))
        ops[op] = (rows + 1, sorted(logged + keys))
    return ops


def test_a_multi_row_statement_logs_its_keys_packed_and_a_single_row_as_before(
    engine: Engine, pg_url: str
) -> None:
    """Invariant: every changed key is logged once per statement under its op, at most
    1000 keys to a change-log row (ceil(n / 1000) rows per op), each spelled as a one-key
    row; a row holding one key is that key, exactly as before packing."""
    run(
        engine,
        "CREATE TABLE items (id INTEGER PRIMARY KEY DEFERRABLE INITIALLY IMMEDIATE, name TEXT)",
    )
    install(engine, settings(pg_url, [ITEMS]))
    run(engine, "INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 2500) g")
    found = take(engine)
    assert [n for _, _, n, _ in found] == [1000, 1000, 500]
    assert per_op(found) == {"I": (3, [[i] for i in range(1, 2501)])}
    # old keys 701..2500, new 1701..3500: 701..1700 go, 2501..3500 come, 1701..2500 stay
    run(engine, "UPDATE items SET id = id + 1000, name = name || '!' WHERE id > 700")
    assert per_op(take(engine)) == {
        "D": (1, [[i] for i in range(701, 1701)]),
        "I": (1, [[i] for i in range(2501, 3501)]),
        "U": (1, [[i] for i in range(1701, 2501)]),
    }
    run(engine, "DELETE FROM items WHERE mod(id, 3) <> 0")
    with engine.connect() as conn:
        left = set(conn.execute(text("SELECT id FROM items")).scalars())
    gone = sorted({*range(1, 701), *range(1701, 3501)} - left)
    assert per_op(take(engine)) == {"D": (math.ceil(len(gone) / PACKED), [[i] for i in gone])}
    run(engine, "UPDATE items SET name = 'one' WHERE id = 3")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT op, pk FROM cdc_change_log")).all() == [("U", "[3]")]
    take(engine)
    run(engine, "INSERT INTO items SELECT g, 'n' FROM generate_series(5001, 6001) g")
    with engine.connect() as conn:
        texts = sorted(conn.execute(text("SELECT pk FROM cdc_change_log")).scalars(), key=len)
    assert len(texts) == 2 and texts[0].startswith("[") and not texts[0].startswith("[[")
    assert len(json.loads(texts[1])) == PACKED  # the 1001st key alone: a one-key row


def test_composite_and_text_keys_pack_and_each_reads_back_exactly(
    engine: Engine, pg_url: str
) -> None:
    """Invariant: text keys holding JSON's own brackets, commas and quotes come back
    from a packed row exactly (the relay splits rows on the JSON, not on the text)."""
    run(engine, "CREATE TABLE pairs (a INTEGER, b TEXT, v TEXT, PRIMARY KEY (a, b))")
    install(engine, settings(pg_url, [{"name": "PAIRS", "primary_key": ["A", "B"]}]))
    run(
        engine,
        "INSERT INTO pairs SELECT g, CASE mod(g, 3) WHEN 0 THEN 'x], [' || g "
        "WHEN 1 THEN 'q\"' || g ELSE 'é{' || g END, 'v' FROM generate_series(1, 1200) g",
    )
    with engine.connect() as conn:
        expected = sorted([a, b] for a, b in conn.execute(text("SELECT a, b FROM pairs")))
    found = take(engine)
    assert [n for _, _, n, _ in found] == [1000, 200]
    assert per_op(found) == {"I": (2, expected)}


def test_packed_statements_reach_the_index_with_two_relays_and_small_batches(
    engine: Engine,
    pg_url: str,
    make_config: Callable[..., Path],
    meili: meilisearch.Client,
    index_uid: str,
) -> None:
    """Invariant: after multi-row INSERT, key-changing UPDATE, UPDATE and DELETE of
    thousands of rows, drained by two relays at once with batch_size (300) below the
    packing (1000), the index equals the table and the change log is empty."""
    run(
        engine,
        "CREATE TABLE items (id INTEGER PRIMARY KEY DEFERRABLE INITIALLY IMMEDIATE, "
        "name TEXT, status TEXT)",
    )
    table = {**ITEMS, "index": index_uid, "filter": "status <> 'DRAFT'"}
    config = make_config(pg_url, tables=[table], relay={"batch_size": 300})
    assert run_cli(config, "source", "install").returncode == 0
    run(
        engine,
        "INSERT INTO items SELECT g, 'n' || g, 'OK' FROM generate_series(1, 2500) g",
        "UPDATE items SET id = id + 1000 WHERE id > 700",
        "UPDATE items SET name = name || '!', status = 'DRAFT' WHERE mod(id, 5) = 0",
        "DELETE FROM items WHERE mod(id, 7) = 0",
        "INSERT INTO items VALUES (9999, 'one row', 'OK')",
    )
    relays_at_once(config)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cdc_change_log")).scalar_one() == 0
        rows = conn.execute(text("SELECT id, name, status FROM items WHERE status <> 'DRAFT'"))
        expected = {str(r.id): {"id": str(r.id), "name": r.name} for r in rows}
    done = run_cli(config, "consume", "--until-caught-up", timeout_s=180)
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 30
    while True:
        docs = meili.index(index_uid).get_documents({"limit": 10_000}).results
        found = {d.id: {"id": d.id, "name": d.name} for d in docs}
        if found == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(expected) > 1000
    assert found == expected


def test_the_backlog_counts_the_keys_of_packed_rows(engine: Engine, pg_url: str) -> None:
    """Invariant: status's backlog counts changes waiting (one per key), not change-log
    rows, and stops counting near its cap however many keys a row packs."""
    run(engine, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)")
    config = settings(pg_url, [ITEMS])
    install(engine, config)
    run(
        engine,
        "INSERT INTO items SELECT g, 'n' FROM generate_series(1, 2500) g",
        "UPDATE items SET name = 'm' WHERE id = 7",
    )
    assert changelog_backlog(engine, config.source, ["ITEMS"], 100_000)["ITEMS"][0] == 2501
    counted = changelog_backlog(engine, config.source, ["ITEMS"], 1500)["ITEMS"][0]
    assert 1500 <= counted < 2501
