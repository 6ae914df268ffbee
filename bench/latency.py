"""Change → searchable latency with relay and consumer running (SPEC §10: p50 < 300 ms, p99 < 1 s).

Run against the local stack (``eval "$(dev/stack env)"`` first)::

    python bench/latency.py --rate 100 --seconds 30

Starts `cdc-sync relay` and `cdc-sync consume` as services on a fresh
PostgreSQL table with triggers, commits one insert every 1/rate seconds, and
measures from each commit until the document can be fetched from Meilisearch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import meilisearch
import tomli_w
from sqlalchemy import create_engine, text


def pg_database() -> tuple[str, str]:
    admin_url = os.environ["PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"latency_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, f"{os.environ['PG_URL'].rpartition('/')[0]}/{name}"


def drop_database(name: str) -> None:
    admin_url = os.environ["PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    name, url = pg_database()
    uid = f"latency_{uuid.uuid4().hex[:8]}"
    meili = meilisearch.Client(os.environ["MEILI_URL"], os.environ.get("MEILI_MASTER_KEY"))
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE lat_items (id INTEGER PRIMARY KEY, title TEXT)"))
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        prefix = f"lat{uuid.uuid4().hex[:8]}"
        config.write_text(
            tomli_w.dumps(
                {
                    "source": {"url": url},
                    "kafka": {
                        "bootstrap_servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
                        "topic_prefix": prefix,
                        "group_id": prefix,
                        "dead_letter_topic": f"{prefix}.dlq",
                    },
                    "meilisearch": {
                        "url": os.environ["MEILI_URL"],
                        "api_key": os.environ.get("MEILI_MASTER_KEY", ""),
                    },
                    "state": {"url": f"sqlite:///{tmp}/state.db"},
                    "http": {"enabled": False},
                    "logging": {"level": "WARNING"},
                    "tables": [{"name": "LAT_ITEMS", "primary_key": ["ID"], "index": uid}],
                }
            )
        )
        base = [sys.executable, "-m", "cdc_sync", "--config", str(config)]
        subprocess.run([*base, "source", "install"], check=True)
        try:
            for command in ("relay", "consume"):
                procs.append(subprocess.Popen([*base, command], stderr=subprocess.DEVNULL))
            latencies = run(engine, meili, uid, args.rate, args.seconds)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            engine.dispose()
            drop_database(name)
            meili.delete_index(uid)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"{len(latencies)} changes at {args.rate:.0f}/s: p50 {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms "
        f"(targets: p50 < 300 ms, p99 < 1000 ms)"
    )


def run(
    engine: object, meili: meilisearch.Client, uid: str, rate: float, seconds: float
) -> list[float]:
    index = meili.index(uid)
    # Warm up: the first change creates topics and the index.
    write(engine, 0)
    deadline = time.monotonic() + 60
    while not visible(index, 0):
        if time.monotonic() > deadline:
            raise SystemExit("the pipeline did not deliver the first change within 60 s")
        time.sleep(0.05)
    pending: dict[int, float] = {}
    latencies: list[float] = []
    total = int(rate * seconds)
    start = time.monotonic()
    next_id = 1
    while next_id <= total or pending:
        now = time.monotonic()
        if next_id <= total and now >= start + (next_id - 1) / rate:
            write(engine, next_id)
            pending[next_id] = time.monotonic()
            next_id += 1
            continue
        for ident in sorted(pending)[:50]:
            if visible(index, ident):
                latencies.append(time.monotonic() - pending.pop(ident))
        if now > start + seconds + 60:
            raise SystemExit(f"{len(pending)} changes not searchable 60 s after the last write")
        time.sleep(0.002)
    return latencies


def write(engine: object, ident: int) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text("INSERT INTO lat_items VALUES (:i, :t)"), {"i": ident, "t": f"t{ident}"})


def visible(index: meilisearch.index.Index, ident: int) -> bool:
    try:
        index.get_document(str(ident))
        return True
    except meilisearch.errors.MeilisearchApiError:
        return False


if __name__ == "__main__":
    main()
