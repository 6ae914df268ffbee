"""Relay throughput from a change-log backlog, as a ratio to a bare producer (SPEC §10: ≥ 15,000/s).

Run against the local stack (``eval "$(dev/stack env)"`` first)::

    .venv/bin/python bench/relay_rate.py [--rows 100000] [--runs 3] [--db postgresql] [--db sqlite]

Each run creates a fresh table, installs the triggers and inserts N rows in
one statement (on PostgreSQL N keys packed 1000 to a change-log row; SQLite
writes one row per key). ``--one-row-statements`` inserts them one statement
each instead (PostgreSQL, inside one ``DO`` block): N one-key change-log rows,
as OLTP writes leave them. The relay then drains the log in process,
timed from its first batch to the last acknowledged one (start-up — table
reflection, topic creation — is timed apart). Its records are read back from
Kafka and sent again, in the same run, by a bare librdkafka producer with the
relay's producer settings to a fresh topic of the same partitions: the ratio
relay / bare producer says how much of the Kafka client's own rate the relay
keeps. Medians over the runs; every run is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from sqlalchemy import create_engine, text

from cdc_sync.config import Settings
from cdc_sync.kafka.admin import ensure_topics
from cdc_sync.kafka.producer import producer_config
from cdc_sync.source.database import create_source_engine
from cdc_sync.source.install import install
from cdc_sync.source.service import RelayService
from cdc_sync.state.store import StateStore

PARTITIONS = 6
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
ONE_ROW_FILL = (
    "DO $$ BEGIN FOR i IN 1..{rows} LOOP "
    "INSERT INTO bench_items VALUES (i, 'title ' || i, 'OK', i * 1.5); END LOOP; END $$"
)
Record = tuple[bytes | None, bytes | None]


def pg_admin_url() -> str:
    return os.environ["PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1)


def source_url(db: str, workdir: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}"
    admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{os.environ['PG_URL'].rpartition('/')[0]}/{name}"


def drop_database(url: str) -> None:
    admin = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)'))
    admin.dispose()


def bench_settings(url: str, batch_size: int) -> Settings:
    return Settings(
        source={"url": url},  # type: ignore[arg-type]
        kafka={  # type: ignore[arg-type]
            "bootstrap_servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
            "topic_prefix": f"bench{uuid.uuid4().hex[:8]}",
            "partitions": PARTITIONS,
        },
        meilisearch={"url": os.environ.get("MEILI_URL", "http://127.0.0.1:7700")},  # type: ignore[arg-type]
        relay={"batch_size": batch_size},  # type: ignore[arg-type]
        tables=[{"name": "BENCH_ITEMS", "primary_key": ["ID"]}],  # type: ignore[list-item]
    )


def fill(settings: Settings, db: str, rows: int, one_row: bool = False) -> None:
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
        if one_row and db == "postgresql":
            conn.execute(text(ONE_ROW_FILL.format(rows=int(rows))))
        else:
            conn.execute(text(FILL[db]), {"rows": rows})
    engine.dispose()


def drain(settings: Settings, workdir: Path) -> tuple[float, float, float, int]:
    """(start-up s, drain s, drain CPU s, events): `relay --once`'s loop, start-up timed apart.

    CPU is this process's (every thread, librdkafka's included): less sensitive
    than the wall clock to other work on a shared machine.
    """
    state = StateStore(f"sqlite:///{workdir / f'state-{uuid.uuid4().hex[:8]}.db'}")
    service = RelayService(settings, state, once=True)
    try:
        started = time.perf_counter()
        service.start()
        ready, cpu = time.perf_counter(), time.process_time()
        while service.step().active:
            pass
        done, cpu = time.perf_counter(), time.process_time() - cpu
    finally:
        service.close()
        state.close()
    return ready - started, done - ready, cpu, service.published


def read_back(settings: Settings, topic: str, count: int) -> list[Record]:
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "group.id": f"bench-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        records: list[Record] = []
        deadline = time.monotonic() + 120
        while len(records) < count and time.monotonic() < deadline:
            for msg in consumer.consume(10_000, 1.0):
                if msg.error() is None:
                    records.append((msg.key(), msg.value()))
        assert len(records) == count, (len(records), count)
        return records
    finally:
        consumer.close()


def bare_producer(settings: Settings, records: list[Record]) -> float:
    """Seconds a bare librdkafka producer with the relay's settings takes for `records`."""
    topic = f"{settings.kafka.topic_prefix}.bare"
    ensure_topics(settings.kafka, [topic])
    producer = Producer(producer_config(settings.kafka))
    started = time.perf_counter()
    for key, value in records:
        while True:
            try:
                producer.produce(topic, value=value, key=key)
                break
            except BufferError:
                producer.poll(0.05)
    remaining = producer.flush(60)
    elapsed = time.perf_counter() - started
    assert remaining == 0, remaining
    return elapsed


def measure(
    db: str, rows: int, batch_size: int, workdir: Path, one_row: bool = False
) -> dict[str, Any]:
    settings = bench_settings(source_url(db, workdir), batch_size)
    try:
        fill(settings, db, rows, one_row)
        startup_s, drain_s, cpu_s, published = drain(settings, workdir)
    finally:
        if db == "postgresql":
            drop_database(settings.source.url.get_secret_value())
    assert published == rows, (published, rows)
    topic = settings.topic_of(settings.tables[0])
    bare_s = bare_producer(settings, read_back(settings, topic, rows))
    return {
        "relay_per_s": rows / drain_s,
        "bare_producer_per_s": rows / bare_s,
        "ratio": bare_s / drain_s,
        "relay_cpu_us_per_change": cpu_s / rows * 1e6,
        "startup_s": startup_s,
        "whole_run_per_s": rows / (startup_s + drain_s),
    }


def summary(db: str, rows: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("relay_per_s", "bare_producer_per_s", "ratio", "relay_cpu_us_per_change")
    return {
        "db": db,
        "rows": rows,
        **{f"median_{k}": statistics.median(r[k] for r in runs) for k in keys},
        "runs": runs,
    }


def figure(quick: bool) -> dict[str, Any]:
    """Relay rate on PostgreSQL from a 100,000-row backlog, as a ratio to a bare producer."""
    rows = 30_000 if quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        runs = [measure("postgresql", rows, 1000, Path(tmp)) for _ in range(1 if quick else 3)]
    return summary("postgresql", rows, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", action="append", choices=sorted(FILL))
    parser.add_argument(
        "--one-row-statements",
        action="store_true",
        help="fill the backlog with single-row INSERTs (one-key change-log rows)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for db in args.db or ["postgresql"]:
            runs = []
            for _ in range(args.runs):
                run = measure(db, args.rows, args.batch_size, Path(tmp), args.one_row_statements)
                runs.append(run)
                print(
                    f"{db:<11} {args.rows} changes: relay {run['relay_per_s']:8.0f}/s, "
                    f"bare producer {run['bare_producer_per_s']:8.0f}/s, "
                    f"ratio {run['ratio']:.3f}; relay CPU {run['relay_cpu_us_per_change']:.1f} µs/change, "
                    f"start-up {run['startup_s']:.2f} s, "
                    f"whole run {run['whole_run_per_s']:.0f}/s"
                )
            result = summary(db, args.rows, runs)
            verdict = "ok" if result["median_relay_per_s"] >= 15_000 else "BELOW TARGET"
            print(
                f"{db:<11} median: relay {result['median_relay_per_s']:.0f}/s "
                f"(target 15,000: {verdict}), ratio to bare producer {result['median_ratio']:.3f}, "
                f"relay CPU {result['median_relay_cpu_us_per_change']:.1f} µs/change"
            )


if __name__ == "__main__":
    main()
