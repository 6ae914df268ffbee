"""The relay's hop alone: commit → record produced, woken by NOTIFY vs polling, in the same run.

Run against the local stack (``eval "$(dev/stack env)"`` first)::

    .venv/bin/python bench/relay_latency.py [--rate 100] [--rate 1000] [--seconds 10]

For each rate and each wake-up mode (`[source] notify = true`: the triggers
NOTIFY and the relay LISTENs; `false`: the relay only polls, paced by
`relay.poll_interval_ms`), it starts `cdc-sync relay` as a service on a fresh
PostgreSQL table, commits one insert per transaction at a steady rate, and
takes each change's delay from its commit to the Kafka create time of its
record (set when the relay produces it; both clocks are this machine's). No
consumer and no Meilisearch run, so the figure is the relay's share of
bench/latency.py's "relay" hop without their CPU competing.
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
from typing import Any

import orjson
import psycopg
import tomli_w
from confluent_kafka import Consumer, TopicPartition

MODES = {"listen": True, "poll": False}


def config(url: str, prefix: str, tmp: str, notify: bool) -> dict[str, Any]:
    return {
        "source": {"url": url, "notify": notify},
        "kafka": {
            "bootstrap_servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
            "topic_prefix": prefix,
        },
        "meilisearch": {"url": "http://127.0.0.1:9"},
        "state": {"url": f"sqlite:///{tmp}/state.db"},
        "http": {"enabled": False},
        "logging": {"level": "WARNING"},
        "tables": [{"name": "ITEMS", "primary_key": ["ID"]}],
    }


def measure(rate: float, seconds: float, notify: bool) -> dict[str, Any]:
    admin = os.environ["PG_URL"]
    name = f"relaylat_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin.rpartition('/')[0]}/{name}"
    prefix = f"relaylat{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT)")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "config.toml"
            path.write_text(tomli_w.dumps(config(url, prefix, tmp, notify)))
            base = [sys.executable, "-m", "cdc_sync", "--config", str(path)]
            subprocess.run([*base, "source", "install"], check=True, capture_output=True)
            relay = subprocess.Popen([*base, "relay"])
            try:
                committed = write(url, rate, seconds)
            finally:
                relay.terminate()
                relay.wait(30)
        delays = sorted(produced(prefix, committed))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {
        "changes": len(delays),
        "p50_ms": round(statistics.median(delays) * 1000, 1),
        "p90_ms": round(percentile(delays, 0.90) * 1000, 1),
        "p99_ms": round(percentile(delays, 0.99) * 1000, 1),
    }


def write(url: str, rate: float, seconds: float) -> dict[int, float]:
    """Commit one insert every 1/rate s; the wall-clock time of each commit."""
    committed: dict[int, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO items VALUES (0, 'warm-up')")
        time.sleep(3)  # the relay is up and has published the warm-up
        start = time.monotonic()
        for ident in range(1, int(rate * seconds) + 1):
            while time.monotonic() < start + (ident - 1) / rate:
                time.sleep(0.0005)
            conn.execute("INSERT INTO items VALUES (%s, 't')", (ident,))
            committed[ident] = time.time()
    time.sleep(2)  # the last changes reach Kafka
    return committed


def produced(prefix: str, committed: dict[int, float]) -> list[float]:
    """Each change's delay from its commit to its record's Kafka create time."""
    consumer = Consumer(
        {
            "bootstrap.servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
            "group.id": f"{prefix}-reader",
            "enable.auto.commit": False,
        }
    )
    topic = f"{prefix}.ITEMS"
    delays: dict[int, float] = {}
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        deadline = time.monotonic() + 60
        while len(delays) < len(committed) and time.monotonic() < deadline:
            for msg in consumer.consume(1000, 0.5):
                if msg.error() is None and msg.value() is not None:
                    ident = orjson.loads(msg.key())["ID"]
                    if ident in committed:
                        delays[ident] = msg.timestamp()[1] / 1000 - committed[ident]
    finally:
        consumer.close()
    return list(delays.values())


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q + 0.5) - 1))]


def figure(quick: bool) -> dict[str, Any]:
    """Relay hop p50/p90/p99 at 100 and 1,000 changes/s, LISTEN vs polling."""
    seconds = 5 if quick else 10
    return {
        f"{rate}_per_s": {mode: measure(rate, seconds, notify) for mode, notify in MODES.items()}
        for rate in (100, 1000)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, action="append")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    for rate in args.rate or [100, 1000]:
        for _ in range(args.runs):
            for mode, notify in MODES.items():
                r = measure(rate, args.seconds, notify)
                print(
                    f"{rate:6.0f}/s {mode:6}: relay hop p50 {r['p50_ms']} ms, p90 {r['p90_ms']} ms, "
                    f"p99 {r['p99_ms']} ms ({r['changes']} changes; load {os.getloadavg()[0]:.1f})"
                )


if __name__ == "__main__":
    main()
