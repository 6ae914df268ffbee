"""Relay throughput: changes/s of `relay --once` draining N change-log rows (SPEC §10: ≥ 5,000/s).

Run against the local stack (``eval "$(dev/stack env)"`` first)::

    python bench/relay_rate.py --rows 100000 --db sqlite --db postgresql

For each database it creates a fresh table, installs the triggers, inserts N
rows in one statement (N change-log rows), then times an in-process relay
drain (start-up, topic creation and the final delivery wait included).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from cdc_sync.config import Settings
from cdc_sync.source.database import create_source_engine
from cdc_sync.source.install import install
from cdc_sync.source.service import RelayService
from cdc_sync.state.store import StateStore

FILL = {
    "sqlite": (
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :rows) "
        "INSERT INTO bench_items SELECT n, 'title ' || n, 'OK', n * 1.5 FROM g"
    ),
    "postgresql": (
        "INSERT INTO bench_items SELECT g, 'title ' || g, 'OK', g * 1.5 "
        "FROM generate_series(1, :rows) g"
    ),
}


def source_url(db: str, workdir: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    admin = create_engine(
        os.environ["PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{os.environ['PG_URL'].rpartition('/')[0]}/{name}"


def measure(db: str, rows: int, batch_size: int, workdir: Path) -> float:
    settings = Settings(
        source={"url": source_url(db, workdir)},  # type: ignore[arg-type]
        kafka={  # type: ignore[arg-type]
            "bootstrap_servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
            "topic_prefix": f"bench{uuid.uuid4().hex[:8]}",
            "partitions": 6,
        },
        meilisearch={"url": os.environ.get("MEILI_URL", "http://127.0.0.1:7700")},  # type: ignore[arg-type]
        relay={"batch_size": batch_size},  # type: ignore[arg-type]
        tables=[{"name": "BENCH_ITEMS", "primary_key": ["ID"]}],  # type: ignore[list-item]
    )
    engine = create_source_engine(settings.source)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE bench_items (id INTEGER PRIMARY KEY, title VARCHAR(100), "
                "status VARCHAR(10), price NUMERIC(12, 2))"
            )
        )
    install(engine, settings)
    with engine.begin() as conn:
        conn.execute(text(FILL[db]), {"rows": rows})
    engine.dispose()
    state = StateStore(f"sqlite:///{workdir / f'state-{db}.db'}")
    started = time.perf_counter()
    published = RelayService(settings, state, once=True).run()
    elapsed = time.perf_counter() - started
    state.close()
    assert published == rows, (published, rows)
    if db == "postgresql":
        drop_database(settings.source.url.get_secret_value())
    return rows / elapsed


def drop_database(url: str) -> None:
    admin = create_engine(
        os.environ["PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--db", action="append", choices=sorted(FILL))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for db in args.db or sorted(FILL):
            rate = measure(db, args.rows, args.batch_size, Path(tmp))
            verdict = "ok" if rate >= 5000 else "BELOW TARGET"
            print(f"{db:<11} {args.rows} changes  {rate:8.0f} changes/s  (target 5000: {verdict})")


if __name__ == "__main__":
    main()
