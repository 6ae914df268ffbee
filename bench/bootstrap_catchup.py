"""Bootstrap's catch-up and fence, on a direct link to Meilisearch and on a slow one.

Run by hand against the local stack (``eval "$(dev/stack env)"`` first)::

    python bench/bootstrap_catchup.py --runs 5 [--rows 2000] [--burst 2000] [--rate 200]

Per run, a SQLite table of ``--rows`` rows is bootstrapped (in this process)
while change events of the same keys — full images and deletes, in random order, as
inserts, updates and deletes make them — are published straight to the table's topic:
``--burst`` of them the moment the load has ended (the changes a long load leaves
behind) and ``--rate`` per second throughout. No consumer runs. Measured:

- tasks: document writes the catch-up enqueued (every accepted write call after the load);
- catch-up: from the end of the load to the swap done (rounds, fence, last round, swap);
- fence: from the fence raised to the fence lifted (``set_fence`` → ``clear_fence``).

The slow link (bench/links.py) is tests/faults/proxy.py in front of Meilisearch: 0-200 ms
added to every request, 503 to one document write in ten (seeded per run). The same script
measures any checkout of the code: ``PYTHONPATH=<checkout> python bench/bootstrap_catchup.py``
imports that checkout's ``cdc_sync`` (printed first).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sqlite3
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import meilisearch
import tomli_w
from confluent_kafka import Producer
from links import slow_link

import cdc_sync
from cdc_sync.bootstrap.run import Options, TableBootstrap
from cdc_sync.config import load_settings
from cdc_sync.events.encode import encode_key, encode_value
from cdc_sync.events.model import ChangeEvent
from cdc_sync.kafka.admin import ensure_topics
from cdc_sync.sink.meili import meili_client
from cdc_sync.source.database import create_source_engine
from cdc_sync.state.store import StateStore

ROOT = Path(__file__).resolve().parents[1]


class TimedStore(StateStore):
    """The state store, noting when the fence was first raised and when it was lifted."""

    fenced_at: float | None = None
    lifted_at: float | None = None

    def set_fence(self, table_name: str, holder: str, ttl_s: float) -> None:
        super().set_fence(table_name, holder, ttl_s)
        if self.fenced_at is None:
            self.fenced_at = time.monotonic()

    def clear_fence(self, table_name: str) -> None:
        super().clear_fence(table_name)
        self.lifted_at = time.monotonic()


class Changes(threading.Thread):
    """Change events of the table's keys: a burst when asked, and `rate` per second."""

    def __init__(self, topic: str, rows: int, rate: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.topic, self.rows, self.rate = topic, rows, rate
        self.draw = random.Random(seed)
        self.producer = Producer({"bootstrap.servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"]})
        self.halt = threading.Event()
        self.sent = 0

    def publish(self, count: int) -> None:
        now = int(time.time() * 1000)
        for _ in range(count):
            key = {"ID": self.draw.randint(1, self.rows)}
            if self.draw.random() < 0.2:
                event = ChangeEvent("d", key, before=key, table="ITEMS")
            else:
                row = {**key, "TITLE": f"changed {self.sent}", "N": self.sent}
                event = ChangeEvent("u", key, after=row, table="ITEMS")
            self.producer.produce(self.topic, encode_value(event, now), encode_key(key))
            if event.op == "d":
                self.producer.produce(self.topic, None, encode_key(key))
            self.sent += 1
        assert self.producer.flush(30) == 0

    def run(self) -> None:
        while not self.halt.wait(0.05):
            self.publish(int(self.rate * 0.05))


def make_source(path: Path, rows: int) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE ITEMS (ID INTEGER PRIMARY KEY, TITLE TEXT, N INTEGER)")
    db.executemany(
        "INSERT INTO ITEMS VALUES (?, ?, 0)", ((i, f"row {i}") for i in range(1, rows + 1))
    )
    db.commit()
    db.close()


def write_config(folder: Path, meili_url: str, uid: str) -> Path:
    config = {
        "source": {"url": f"sqlite:///{folder / 'source.db'}"},
        "kafka": {
            "bootstrap_servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
            "topic_prefix": f"catchup{uuid.uuid4().hex[:8]}",
            "partitions": 3,
        },
        "meilisearch": {"url": meili_url, "api_key": os.environ["MEILI_MASTER_KEY"]},
        "state": {"url": f"sqlite:///{folder / 'state.db'}"},
        "http": {"enabled": False},
        "logging": {"format": "json", "level": "WARNING"},
        "tables": [{"name": "ITEMS", "primary_key": ["ID"], "index": uid}],
    }
    path = folder / "bench.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def counting(job: TableBootstrap, armed: threading.Event) -> list[int]:
    """Count the document writes Meilisearch accepted once `armed` is set."""
    accepted: list[int] = []
    for name in ("add_documents", "delete_documents"):
        original = getattr(job.http, name)

        def counted(*args: Any, _call: Callable[..., int] = original, **kwargs: Any) -> int:
            uid = _call(*args, **kwargs)
            if armed.is_set():
                accepted.append(uid)
            return uid

        setattr(job.http, name, counted)
    return accepted


def one_run(args: argparse.Namespace, slow: bool, seed: int) -> dict[str, Any]:
    rows, burst, rate = args.rows, args.burst, args.rate
    uid = f"bench_catchup_{uuid.uuid4().hex[:8]}"
    admin = meilisearch.Client(os.environ["MEILI_URL"], os.environ["MEILI_MASTER_KEY"])
    with (
        tempfile.TemporaryDirectory() as tmp,
        slow_link(seed) if slow else nullcontext(os.environ["MEILI_URL"]) as url,
    ):
        folder = Path(tmp)
        make_source(folder / "source.db", rows)
        settings = load_settings(write_config(folder, url, uid))
        table = settings.tables[0]
        topic = settings.topic_of(table)
        ensure_topics(settings.kafka, [topic])
        store = TimedStore(settings.state.url)
        engine = create_source_engine(settings.source)
        job = TableBootstrap(
            settings,
            table,
            store,
            engine,
            meili_client(settings.meilisearch),
            "bench",
            Options(batch_size=args.batch_size, terminal=False),
        )
        armed = threading.Event()
        accepted = counting(job, armed)
        changes = Changes(topic, rows, rate, seed)
        moments: dict[str, float] = {}

        def loaded() -> None:
            moments["loaded"] = time.monotonic()
            changes.publish(burst)
            armed.set()

        job.hooks = {
            "loaded": loaded,
            "swapped": lambda: moments.setdefault("swapped", time.monotonic()),
        }
        changes.start()
        try:
            outcome = job.run()
        finally:
            changes.halt.set()
            changes.join(10)
            engine.dispose()
        assert store.fenced_at is not None and store.lifted_at is not None
        admin.delete_index(uid)
        return {
            "tasks": len(accepted),
            "catch_up_s": round(moments["swapped"] - moments["loaded"], 2),
            "fence_s": round(store.lifted_at - store.fenced_at, 2),
            "replayed": outcome.replayed,
            "failures": len(outcome.failures),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument(
        "--links", nargs="+", choices=["direct", "slow"], default=["direct", "slow"]
    )
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # not each retried 503
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # the proxy closing its connections
    print(json.dumps({"code": str(Path(cdc_sync.__file__).parent)}), flush=True)
    for link in args.links:
        runs = []
        for seed in range(1, args.runs + 1):
            run = one_run(args, link == "slow", seed)
            print(json.dumps({"link": link, "seed": seed, **run}), flush=True)
            runs.append(run)
        summary = {
            f"{name}_median": statistics.median(r[name] for r in runs)
            for name in ("tasks", "catch_up_s", "fence_s")
        }
        print(json.dumps({"link": link, **summary, "runs": runs}), flush=True)


if __name__ == "__main__":
    main()
