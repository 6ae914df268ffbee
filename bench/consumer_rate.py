"""Sustained rate of `cdc-sync consume --until-caught-up` vs a direct bulk load (SPEC §10).

Runs against the local stack (``eval "$(dev/stack env)"`` first):

    .venv/bin/python bench/consumer_rate.py [--events 100000]

Publishes N row events (distinct keys) in the relay format, bulk-loads the same
documents straight into one index, then lets the consumer apply the topic to
another index of the same Meilisearch, and prints both rates and their ratio.
The consumer's rate is taken between its partition assignment and the moment
the group's committed offsets reached the end offsets (both from its own log),
so process start-up and the group join are not counted.

Each run also reports how Meilisearch indexed either index (its batches: how
many, documents per batch, time busy, idle gaps between them) and the CPU
seconds Meilisearch spent on either load and the consumer spent in all; on a
shared machine the sink's indexing competes with the consumer for the cores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import meilisearch
import orjson
import tomli_w
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from cdc_sync.config import ConsumerSettings
from cdc_sync.events.encode import encode_key, encode_value
from cdc_sync.events.model import ChangeEvent

ROOT = Path(__file__).resolve().parents[1]
BULK_BATCH = ConsumerSettings().batch_size  # the consumer's task size


def row(i: int, shape: str) -> dict[str, Any]:
    """A small 6-field row, or ("text") an 8-field row with about 200 characters of text."""
    small = {
        "ID": i,
        "CASE_NO": f"C-{i:08d}",
        "TITLE": f"case {i} about item {i % 977} in region {i % 13}",
        "STATUS": ("OPEN", "CLOSED", "DRAFT")[i % 3],
        "AMOUNT": i % 10_000,
        "MODIFIED_DATE": "2024-05-01T12:00:00",
    }
    if shape == "small":
        return small
    body = f"note {i}: the customer reported item {i % 977} missing from region {i % 13}. "
    return {**small, "BODY": (body * 3)[:150], "OWNER": f"agent-{i % 41:03d}"}


def rows(n: int, shape: str = "small") -> list[dict[str, Any]]:
    return [row(i, shape) for i in range(n)]


def document(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(row["ID"]), **{k.lower(): v for k, v in row.items()}}


def wait_all(client: meilisearch.Client, uids: list[int]) -> None:
    for uid in uids:
        task = client.wait_for_task(uid, timeout_in_ms=600_000, interval_in_ms=50)
        assert task.status == "succeeded", task.error


def bulk_load(client: meilisearch.Client, uid: str, docs: list[dict[str, Any]]) -> float:
    """The physical limit: payloads serialised in advance, every task enqueued at once.

    Same batch size as the consumer's tasks; Meilisearch batches the enqueued
    tasks of an index together, so all of them are in flight from the start.
    """
    wait_all(client, [client.create_index(uid, {"primaryKey": "id"}).task_uid])
    index = client.index(uid)
    payloads = [orjson.dumps(docs[i : i + BULK_BATCH]) for i in range(0, len(docs), BULK_BATCH)]
    started = time.monotonic()
    tasks = [index.add_documents_raw(p, "id", "application/json").task_uid for p in payloads]
    wait_all(client, tasks)
    return time.monotonic() - started


def publish(bootstrap: str, topic: str, data: Iterable[dict[str, Any]]) -> None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "partitioner": "murmur2_random", "linger.ms": 20}
    )
    now = int(time.time() * 1000)
    for row in data:
        event = ChangeEvent(op="c", key={"ID": row["ID"]}, after=row, table="CRASIVTTST")
        while True:
            try:
                producer.produce(topic, key=encode_key(event.key), value=encode_value(event, now))
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(120) == 0


def log_time(line: dict[str, Any]) -> float:
    return dt.datetime.fromisoformat(line["ts"].replace("Z", "+00:00")).timestamp()


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds a process has used so far (0 when unknown)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def meili_pid() -> int | None:
    """The local stack's Meilisearch (its CPU is the sink's share of the machine)."""
    try:
        return int((ROOT / ".stack" / "meili" / "meilisearch.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def consume(
    config: Path, log: Path, profile: str | None
) -> tuple[tuple[float, float], dict[str, Any], int, float]:
    """((assigned, caught up) epoch seconds, the consumer's stats, its peak RSS in bytes,
    its CPU seconds)."""
    env = {**os.environ, "CDC_SYNC__LOGGING__FORMAT": "json"}
    # py-spy (sampling, in its own process) shows where the consumer's time goes
    beside = Path(sys.executable).with_name("py-spy")  # pip install -e '.[bench]'
    spy = [
        str(beside) if beside.exists() else "py-spy",
        "record",
        "--format",
        "raw",
        "--rate",
        "250",
        "-o",
        profile or "",
        "--",
    ]
    command = [sys.executable, "-m", "cdc_sync", "--config", str(config)]
    # /usr/bin/time reports the child's own peak RSS; wait4 on a child forked from this
    # process would count the pages it inherited before exec.
    usage = log.with_suffix(".rss")
    time_rss = ["/usr/bin/time", "-f", "%U %S %M", "-o", str(usage)]
    with log.open("wb") as err:
        done = subprocess.run(
            [*(spy if profile else time_rss), *command, "consume", "--until-caught-up"],
            stderr=err,
            env=env,
            cwd=ROOT,
            timeout=3600,
        )
    if done.returncode != 0:
        raise SystemExit(f"consume exited with {done.returncode}: {log.read_text()[-2000:]}")
    user, system, rss_kib = (0.0, 0.0, 0) if profile else usage.read_text().split()[-3:]
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    assigned = next(log_time(x) for x in lines if x["msg"].startswith("assigned "))
    caught = next(log_time(x) for x in lines if x["msg"].startswith("caught up"))
    stats = next(x["stats"] for x in lines if x["msg"] == "consumer stopped")
    return (assigned, caught), stats, int(rss_kib) * 1024, float(user) + float(system)


def timeline(
    client: meilisearch.Client, uid: str, assigned: float, caught: float
) -> dict[str, Any]:
    """Where the consumer's run went, from its index's tasks: before the first task was
    enqueued, between the first and the last finished task, and after it."""
    tasks, cursor = [], None
    while True:
        query: dict[str, Any] = {"indexUids": [uid], "types": ["documentAdditionOrUpdate"]}
        query |= {"limit": 1000} | ({"from": cursor} if cursor is not None else {})
        page = client.get_tasks(query)
        tasks += page.results
        cursor = page.next_
        if cursor is None:
            return _timeline(tasks, assigned, caught)


def _timeline(tasks: list[Any], assigned: float, caught: float) -> dict[str, Any]:
    def at(moment: Any) -> float:
        if isinstance(moment, str):
            moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00")[:26] + "+00:00")
        return float(moment.timestamp())

    first = min(at(t.enqueued_at) for t in tasks)
    started = min(at(t.started_at) for t in tasks)
    last = max(at(t.finished_at) for t in tasks)
    sizes = sorted(int((t.details or {}).get("receivedDocuments", 0)) for t in tasks)
    return {
        "tasks": len(tasks),
        "documents_per_task_p50": sizes[len(sizes) // 2],
        "to_first_enqueue_s": round(first - assigned, 3),
        "first_started_to_last_finished_s": round(last - started, 3),
        "after_last_finished_s": round(caught - last, 3),
    }


def batches(url: str, key: str, uid: str) -> dict[str, Any]:
    """How Meilisearch indexed an index's documents: its batches, their sizes and
    durations, and the time between them (the queue was empty, or the scheduler busy)."""
    found: list[dict[str, Any]] = []
    cursor: int | None = None
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
        while True:
            params: dict[str, Any] = {"indexUids": uid, "limit": 1000}
            if cursor is not None:
                params["from"] = cursor
            page = http.get("/batches", params=params).raise_for_status().json()
            found += page["results"]
            cursor = page.get("next")
            if cursor is None:
                break
    found = [b for b in found if b.get("details", {}).get("receivedDocuments")]
    found.sort(key=lambda b: b["uid"])

    def at(moment: str) -> float:
        return dt.datetime.fromisoformat(moment.replace("Z", "+00:00")[:26] + "+00:00").timestamp()

    docs = sorted(int(b["details"]["receivedDocuments"]) for b in found)
    spans = [(at(b["startedAt"]), at(b["finishedAt"])) for b in found]
    gaps = [max(0.0, spans[i + 1][0] - spans[i][1]) for i in range(len(spans) - 1)]
    strategies: dict[str, int] = {}
    for b in found:
        name = str(b.get("batchStrategy", "?"))
        strategies[name] = strategies.get(name, 0) + 1
    return {
        "batches": len(found),
        "tasks": sum(int(b["stats"]["totalNbTasks"]) for b in found),
        "documents_per_batch": {"min": docs[0], "p50": docs[len(docs) // 2], "max": docs[-1]},
        "busy_s": round(sum(end - start for start, end in spans), 3),
        "span_s": round(spans[-1][1] - spans[0][0], 3),
        "gaps_s": round(sum(gaps), 3),
        "strategies": strategies,
    }


def measure(
    events: int,
    shape: str = "small",
    partitions: int = 6,
    direct: bool = True,
    profile: str | None = None,
) -> dict[str, Any]:
    """One run: publish, bulk-load the same documents directly (unless not `direct`), consume."""
    bootstrap, url, key = (
        os.environ[v] for v in ("KAFKA_BOOTSTRAP_SERVERS", "MEILI_URL", "MEILI_MASTER_KEY")
    )
    run = uuid.uuid4().hex[:8]
    client = meilisearch.Client(url, key, timeout=120)
    prefix, direct_uid, consumer_uid = f"bench{run}", f"bench_direct_{run}", f"bench_consumer_{run}"
    topic = f"{prefix}.APP.CRASIVTTST"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)
    result: dict[str, Any] = {"events": events, "shape": shape}
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "bench.toml"
        config.write_text(
            tomli_w.dumps(
                {
                    "source": {"url": f"sqlite:///{tmp}/unused.db"},
                    "kafka": {
                        "bootstrap_servers": bootstrap,
                        "topic_prefix": prefix,
                        "group_id": f"bench-{run}",
                        "dead_letter_topic": f"bench-dlq-{run}",
                        "partitions": partitions,
                    },
                    "meilisearch": {"url": url, "api_key": key},
                    "state": {"url": f"sqlite:///{tmp}/state.db"},
                    "http": {"enabled": False},
                    "tables": [
                        {
                            "name": "CRASIVTTST",
                            "schema": "APP",
                            "primary_key": ["ID"],
                            "index": consumer_uid,
                        }
                    ],
                }
            )
        )
        try:
            print(f"publishing {events} {shape} events to {topic} ...", flush=True)
            publish(bootstrap, topic, (row(i, shape) for i in range(events)))
            if direct:
                print("direct bulk load ...", flush=True)
                docs = [document(row(i, shape)) for i in range(events)]
                sink_cpu = cpu_seconds(meili_pid())
                result["direct_s"] = bulk_load(client, direct_uid, docs)
                result["direct_meili_cpu_s"] = round(cpu_seconds(meili_pid()) - sink_cpu, 2)
                result["direct_batches"] = batches(url, key, direct_uid)
                del docs
            print("consume --until-caught-up ...", flush=True)
            sink_cpu = cpu_seconds(meili_pid())
            (assigned, caught), stats, rss, cpu = consume(
                config, Path(tmp) / "consume.log", profile
            )
            result["consume_meili_cpu_s"] = round(cpu_seconds(meili_pid()) - sink_cpu, 2)
            result["consumer_cpu_s"] = round(cpu, 2)
            consume_s = caught - assigned
            result["timeline"] = timeline(client, consumer_uid, assigned, caught)
            result["consume_batches"] = batches(url, key, consumer_uid)
            count = client.index(consumer_uid).get_stats().number_of_documents
            assert count == events, f"consumer index holds {count} documents"
        finally:
            for uid in (direct_uid, consumer_uid):
                client.delete_index(uid)
            admin.delete_topics([topic, f"bench-dlq-{run}"])
    result |= {"consume_s": consume_s, "peak_rss_mib": round(rss / 2**20, 1)}
    result |= {"received": stats["received"], "retries": stats["retries"]}
    if direct:
        result["ratio"] = round(result["direct_s"] / consume_s, 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--shape", choices=("small", "text"), default="small")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--no-direct", action="store_true", help="skip the bulk load (memory runs)")
    parser.add_argument("--profile", help="write the consumer's py-spy samples (collapsed stacks)")
    args = parser.parse_args()
    r = measure(args.events, args.shape, args.partitions, not args.no_direct, args.profile)
    n = args.events
    if "direct_s" in r:
        direct_s = r["direct_s"]
        print(f"direct bulk load : {n} docs in {direct_s:6.1f}s = {n / direct_s:8.0f} docs/s")
    print(
        f"consume          : {n} docs in {r['consume_s']:6.1f}s = {n / r['consume_s']:8.0f} docs/s "
        f"(received {r['received']}, retries {r['retries']}, peak RSS {r['peak_rss_mib']} MiB)"
    )
    print(f"timeline         : {r['timeline']}")
    for name in ("direct", "consume"):
        if f"{name}_batches" in r:
            print(f"{name + ' batches':17s}: {r[f'{name}_batches']}")
    cpu = {
        k: r[k] for k in ("direct_meili_cpu_s", "consume_meili_cpu_s", "consumer_cpu_s") if k in r
    }
    print(f"cpu seconds      : {cpu}")
    if "ratio" in r:
        print(f"ratio            : {r['ratio']:.2f} (target >= 0.95)")


def figure(quick: bool) -> dict[str, Any]:
    """Consumer rate / direct bulk load, both document shapes, median of 5 runs (2 if quick)."""
    runs, events = (2, 20_000) if quick else (5, 100_000)
    out: dict[str, Any] = {"events": events}
    for shape in ("small", "text"):
        results = [measure(events, shape) for _ in range(runs)]
        ratios = [r["ratio"] for r in results]
        out[shape] = {
            "ratio_median": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratios": ratios,
            "runs": results,
        }
    return out


if __name__ == "__main__":
    main()
