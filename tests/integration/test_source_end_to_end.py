"""Source → relay → Kafka → consumer → Meilisearch: after random mutations the index equals the table."""

from __future__ import annotations

import importlib.util
import random
import time
from collections.abc import Callable
from pathlib import Path

import meilisearch
import pytest
from sqlalchemy import create_engine, text

from tests.integration.relay_helpers import cli

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(
        importlib.util.find_spec("cdc_sync.cli.consume") is None,
        reason="the consume command is not available",
    ),
]


def mutate(engine: object, rng: random.Random, live: set[int], next_id: list[int], n: int) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        for _ in range(n):
            roll = rng.random()
            if roll < 0.4 or not live:
                ident = next_id[0]
                next_id[0] += 1
                conn.execute(
                    text("INSERT INTO items VALUES (:i, :t, :s)"),
                    {"i": ident, "t": f"title {ident}", "s": rng.choice(["OK", "DRAFT"])},
                )
                live.add(ident)
            elif roll < 0.7:
                ident = rng.choice(sorted(live))
                conn.execute(
                    text("UPDATE items SET title = :t, status = :s WHERE id = :i"),
                    {"i": ident, "t": f"v{rng.randint(0, 999)}", "s": rng.choice(["OK", "DRAFT"])},
                )
            elif roll < 0.85:
                ident = rng.choice(sorted(live))
                conn.execute(text("DELETE FROM items WHERE id = :i"), {"i": ident})
                live.discard(ident)
            else:
                old = rng.choice(sorted(live))
                new = next_id[0]
                next_id[0] += 1
                conn.execute(text("UPDATE items SET id = :n WHERE id = :o"), {"n": new, "o": old})
                live.discard(old)
                live.add(new)


def test_random_mutations_end_with_the_index_equal_to_the_table(
    sqlite_url: str,
    make_config: Callable[..., Path],
    meili: meilisearch.Client,
    index_uid: str,
) -> None:
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT, status TEXT)"))
    table = {
        "name": "ITEMS",
        "primary_key": ["ID"],
        "index": index_uid,
        "filter": "status <> 'DRAFT'",
    }
    config = make_config(sqlite_url, tables=[table])
    assert cli(config, "source", "install").returncode == 0
    rng = random.Random(4)
    live: set[int] = set()
    next_id = [1]
    for _ in range(3):
        mutate(engine, rng, live, next_id, 150)
        done = cli(config, "relay", "--once")
        assert done.returncode == 0, done.stderr
    done = cli(config, "consume", "--until-caught-up", timeout=180)
    assert done.returncode == 0, done.stderr

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, title, status FROM items WHERE status <> 'DRAFT'"))
        expected = {
            str(r.id): {"id": str(r.id), "title": r.title, "status": r.status} for r in rows
        }
    assert len(expected) > 50
    deadline = time.monotonic() + 30
    while True:
        docs = meili.index(index_uid).get_documents({"limit": 10_000}).results
        found = {d.id: {k: dict(d)[k] for k in ("id", "title", "status")} for d in docs}
        if found == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert found == expected
    engine.dispose()


def test_a_truncate_captured_by_the_trigger_clears_the_index_in_order(
    pg_url: str,
    make_config: Callable[..., Path],
    meili: meilisearch.Client,
    index_uid: str,
) -> None:
    """PostgreSQL → relay → Kafka (3 partitions) → consumer: rows changed before a TRUNCATE
    leave the index, rows written after it stay (the consumer's barrier, docs/truncates.md).

    Invariant: once the consumer caught up, the index equals the table."""
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS items"))
        conn.execute(text("DROP TABLE IF EXISTS cdc_change_log"))
        conn.execute(text("CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT, status TEXT)"))
    table = {"name": "ITEMS", "primary_key": ["ID"], "index": index_uid}
    config = make_config(pg_url, tables=[table])
    assert cli(config, "source", "install").returncode == 0

    def write(*statements: str) -> None:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
        done = cli(config, "relay", "--once")
        assert done.returncode == 0, done.stderr

    write(*(f"INSERT INTO items VALUES ({i}, 'before {i}', 'OK')" for i in range(1, 41)))
    done = cli(config, "consume", "--until-caught-up", timeout=180)
    assert done.returncode == 0, done.stderr
    write(
        "UPDATE items SET title = 'changed' WHERE id <= 10",
        "TRUNCATE items",
        *(f"INSERT INTO items VALUES ({i}, 'after {i}', 'OK')" for i in (5, 41, 42)),
    )
    done = cli(config, "consume", "--until-caught-up", timeout=180)
    assert done.returncode == 0, done.stderr
    expected = {"5": "after 5", "41": "after 41", "42": "after 42"}
    deadline = time.monotonic() + 30
    while True:
        docs = meili.index(index_uid).get_documents({"limit": 1000}).results
        found = {d.id: dict(d)["title"] for d in docs}
        if found == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert found == expected
    engine.dispose()
