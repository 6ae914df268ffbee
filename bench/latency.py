"""Change → searchable latency with relay and consumer running (SPEC §10: p50 < 100 ms, p99 < 400 ms).

Run against the local stack (``eval "$(dev/stack env)"`` first)::

    python bench/latency.py --rate 100 --seconds 30

Starts `cdc-sync relay` and `cdc-sync consume` as services on a fresh
PostgreSQL table with triggers, commits one insert every 1/rate seconds (one
transaction each), and measures from each commit until the document is
returned by Meilisearch (all pending ids asked for in one request).

Each change's delay is then cut into hops from timestamps on one clock: the
Kafka record's create time (set when the relay produces it), and the
Meilisearch task that carried it (the first task of the index enqueued after
that create time which finished before the document was seen):

- relay: commit → produced (trigger, relay wake-up or poll, row read, produce call);
- consumer: produced → task enqueued (producer linger, fetch, decode, batching, HTTP);
- task wait: enqueued → started (Meilisearch busy with earlier tasks);
- indexing: started → finished;
- seen: finished → the document returned to this bench (the bench's own polling).
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import tomli_w
from confluent_kafka import Consumer, TopicPartition
from sqlalchemy import create_engine, text

HOPS = ("relay", "consumer", "task wait", "indexing", "seen")


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


class Meili:
    def __init__(self) -> None:
        key = os.environ.get("MEILI_MASTER_KEY", "")
        self.http = httpx.Client(
            base_url=os.environ["MEILI_URL"], headers={"Authorization": f"Bearer {key}"}
        )

    def visible(self, uid: str, ids: list[int]) -> set[int]:
        body = {"ids": [str(i) for i in ids], "fields": ["id"], "limit": len(ids)}
        response = self.http.post(f"/indexes/{uid}/documents/fetch", json=body)
        if response.status_code == 404:
            return set()
        response.raise_for_status()
        return {int(d["id"]) for d in response.json()["results"]}

    def tasks(self, uid: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"indexUids": uid, "limit": 1000}
        while True:
            page = self.http.get("/tasks", params=params).json()
            found += page["results"]
            if page.get("next") is None:
                return found
            params["from"] = page["next"]


@dataclass
class Change:
    committed: float
    seen: float | None = None
    produced: float | None = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    result = measure(args.rate, args.seconds)
    print(
        f"{result['changes']} changes at {args.rate:.0f}/s: p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, max {result['max_ms']} ms (targets: p50 < 100, p99 < 400)"
    )
    print(f"{'hop':12} {'p50 ms':>8} {'p99 ms':>8}")
    for hop, (p50, p99) in result["hops_ms"].items():
        print(f"{hop:12} {p50:8.1f} {p99:8.1f}")
    print(f"tasks: {result['tasks']}, documents per task p50 {result['docs_per_task_p50']}")


def measure(rate: float, seconds: float) -> dict[str, Any]:
    name, url = pg_database()
    uid = f"latency_{uuid.uuid4().hex[:8]}"
    meili = Meili()
    prefix = f"lat{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE lat_items (id INTEGER PRIMARY KEY, title TEXT)")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "config.toml"
            config.write_text(tomli_w.dumps(settings(url, prefix, uid, tmp)))
            base = [sys.executable, "-m", "cdc_sync", "--config", str(config)]
            subprocess.run([*base, "source", "install"], check=True, capture_output=True)
            for command in ("relay", "consume"):
                procs.append(subprocess.Popen([*base, command], stderr=subprocess.DEVNULL))
            with psycopg.connect(url, autocommit=True) as conn:
                changes = run(conn, meili, uid, rate, seconds)
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            produced_at(prefix, changes)
            tasks = meili.tasks(uid)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        drop_database(name)
        meili.http.delete(f"/indexes/{uid}")
    return summarise(changes, tasks)


def settings(url: str, prefix: str, uid: str, tmp: str) -> dict[str, Any]:
    return {
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


def run(
    conn: psycopg.Connection[Any], meili: Meili, uid: str, rate: float, seconds: float
) -> dict[int, Change]:
    # Warm up: the first change creates topics and the index.
    write(conn, 0)
    deadline = time.monotonic() + 60
    while not meili.visible(uid, [0]):
        if time.monotonic() > deadline:
            raise SystemExit("the pipeline did not deliver the first change within 60 s")
        time.sleep(0.05)
    changes: dict[int, Change] = {}
    pending: list[int] = []
    total = int(rate * seconds)
    start = time.monotonic()
    next_id = 1
    while next_id <= total or pending:
        now = time.monotonic()
        while next_id <= total and now >= start + (next_id - 1) / rate:
            write(conn, next_id)
            changes[next_id] = Change(time.time())
            pending.append(next_id)
            next_id += 1
            now = time.monotonic()
        if pending:
            seen = meili.visible(uid, pending)
            when = time.time()
            for ident in seen:
                changes[ident].seen = when
            pending = [i for i in pending if i not in seen]
        if now > start + seconds + 60:
            raise SystemExit(f"{len(pending)} changes not searchable 60 s after the last write")
        time.sleep(0.001)
    return changes


def write(conn: psycopg.Connection[Any], ident: int) -> None:
    conn.execute("INSERT INTO lat_items VALUES (%s, %s)", (ident, f"t{ident}"))


def produced_at(prefix: str, changes: dict[int, Change]) -> None:
    """The Kafka create time of each change's record, read back from the topic."""
    consumer = Consumer(
        {
            "bootstrap.servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
            "group.id": f"{prefix}-reader",
            "enable.auto.commit": False,
        }
    )
    try:
        topics = [t for t in consumer.list_topics(timeout=10).topics if t.startswith(prefix + ".")]
        topic = next(t for t in topics if not t.endswith(".dlq"))
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        missing = {i for i in changes}
        deadline = time.monotonic() + 30
        while missing and time.monotonic() < deadline:
            for msg in consumer.consume(1000, 0.5):
                if msg.error() is None and msg.key() and msg.value():
                    ident = int(orjson.loads(msg.key())["ID"])
                    if ident in missing:
                        changes[ident].produced = msg.timestamp()[1] / 1000
                        missing.discard(ident)
    finally:
        consumer.close()


def _time(value: str) -> float:
    return dt.datetime.fromisoformat(value[:26].rstrip("Z") + "+00:00").timestamp()


def summarise(changes: dict[int, Change], tasks: list[dict[str, Any]]) -> dict[str, Any]:
    delays = sorted(c.seen - c.committed for c in changes.values() if c.seen is not None)
    done = [
        t for t in tasks if t["status"] == "succeeded" and t["type"] == "documentAdditionOrUpdate"
    ]
    done.sort(key=lambda t: t["enqueuedAt"])
    enqueued = [_time(t["enqueuedAt"]) for t in done]
    hops: dict[str, list[float]] = {hop: [] for hop in HOPS}
    for change in changes.values():
        if change.produced is None or change.seen is None:
            continue
        i = bisect.bisect_left(enqueued, change.produced)
        if i >= len(done):
            continue
        task = done[i]
        started, finished = _time(task["startedAt"]), _time(task["finishedAt"])
        if finished > change.seen + 0.002:  # not the task that carried it
            continue
        hops["relay"].append(change.produced - change.committed)
        hops["consumer"].append(enqueued[i] - change.produced)
        hops["task wait"].append(started - enqueued[i])
        hops["indexing"].append(finished - started)
        hops["seen"].append(change.seen - finished)
    per_task = [t["details"].get("receivedDocuments", 0) for t in done]
    return {
        "changes": len(delays),
        "p50_ms": round(statistics.median(delays) * 1000, 1),
        "p99_ms": round(percentile(delays, 0.99) * 1000, 1),
        "max_ms": round(delays[-1] * 1000, 1),
        "hops_ms": {
            hop: (
                round(statistics.median(v) * 1000, 1) if v else float("nan"),
                round(percentile(sorted(v), 0.99) * 1000, 1) if v else float("nan"),
            )
            for hop, v in hops.items()
        },
        "hops_matched": len(hops["relay"]),
        "tasks": len(done),
        "docs_per_task_p50": statistics.median(per_task) if per_task else 0,
    }


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q + 0.5) - 1))]


def figure(quick: bool) -> dict[str, Any]:
    """Change → searchable at 100 and 1,000 changes/s, with each hop's share."""
    seconds = 10 if quick else 30
    return {f"{rate}_per_s": measure(rate, seconds) for rate in (100, 1000)}


if __name__ == "__main__":
    main()
