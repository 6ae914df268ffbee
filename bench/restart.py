"""Restart after a crash: `kill -9` the consumer, start it again, time to the first document applied.

Run against the local stack (``eval "$(dev/stack env)"`` first)::

    python bench/restart.py --trials 5 [--dynamic] [--slow-link]

Each trial kills a running, caught-up consumer with SIGKILL, publishes one new
change, starts the consumer again and measures from that start (process
start-up included) until the new document can be fetched from Meilisearch.
``--dynamic`` turns static group membership off (``kafka.group_instance_id =
""``): the group then waits out the dead member's session before it rebalances.
``--slow-link`` puts the consumer behind bench/bootstrap_catchup.py's slow link to
Meilisearch (0-200 ms added to every request, 503 to one document write in ten); the
document is still looked for directly.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx
import tomli_w
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from links import slow_link

from cdc_sync.events.encode import encode_key, encode_value
from cdc_sync.events.model import ChangeEvent

ROOT = Path(__file__).resolve().parents[1]


def publish(producer: Producer, topic: str, ident: int) -> None:
    row = {"ID": ident, "TITLE": f"title {ident}"}
    event = ChangeEvent(op="c", key={"ID": ident}, after=row, table="ITEMS")
    now = int(time.time() * 1000)
    producer.produce(topic, key=encode_key(event.key), value=encode_value(event, now))
    assert producer.flush(30) == 0


def wait_visible(meili: httpx.Client, uid: str, ident: int, timeout_s: float) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if meili.get(f"/indexes/{uid}/documents/{ident}").status_code == 200:
            return time.monotonic()
        time.sleep(0.01)
    raise SystemExit(f"document {ident} not applied within {timeout_s} s")


def measure(trials: int, dynamic: bool = False, slow: bool = False) -> dict[str, Any]:
    bootstrap, url = os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["MEILI_URL"]
    key = os.environ.get("MEILI_MASTER_KEY", "")
    run = uuid.uuid4().hex[:8]
    prefix, uid = f"restart{run}", f"restart_{run}"
    topic = f"{prefix}.ITEMS"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 6, 1)])[topic].result(30)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    meili = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"})
    seconds: list[float] = []
    proc: subprocess.Popen[bytes] | None = None
    link = slow_link(1) if slow else nullcontext(url)
    with tempfile.TemporaryDirectory() as tmp, link as consumer_url:
        config = Path(tmp) / "restart.toml"
        config.write_text(
            tomli_w.dumps(
                {
                    "source": {"url": f"sqlite:///{tmp}/unused.db"},
                    "kafka": {
                        "bootstrap_servers": bootstrap,
                        "topic_prefix": prefix,
                        "group_id": f"restart-{run}",
                        "group_instance_id": "" if dynamic else "auto",
                        "dead_letter_topic": f"restart-dlq-{run}",
                    },
                    "meilisearch": {"url": consumer_url, "api_key": key},
                    "state": {"url": f"sqlite:///{tmp}/state.db"},
                    "http": {"enabled": False},
                    "logging": {"level": "WARNING"},
                    "tables": [{"name": "ITEMS", "primary_key": ["ID"], "index": uid}],
                }
            )
        )
        command = [sys.executable, "-m", "cdc_sync", "--config", str(config), "consume"]
        try:
            proc = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
            publish(producer, topic, 0)
            wait_visible(meili, uid, 0, 60)
            for trial in range(1, trials + 1):
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                publish(producer, topic, trial)
                started = time.monotonic()
                proc = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.DEVNULL)
                seconds.append(wait_visible(meili, uid, trial, 120) - started)
                print(f"trial {trial}: first document applied {seconds[-1]:.2f} s after restart")
        finally:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
            meili.delete(f"/indexes/{uid}")
            admin.delete_topics([topic, f"restart-dlq-{run}"])
    return {
        "membership": "dynamic" if dynamic else "static",
        "link": "slow" if slow else "direct",
        "runs_s": [round(s, 2) for s in seconds],
        "median_s": round(statistics.median(seconds), 2),
        "max_s": round(max(seconds), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--dynamic", action="store_true", help="static group membership off")
    parser.add_argument("--slow-link", action="store_true", help="Meilisearch behind a slow link")
    args = parser.parse_args()
    result = measure(args.trials, args.dynamic, args.slow_link)
    print(
        f"{result['membership']} membership, {result['link']} link: median {result['median_s']} s, "
        f"max {result['max_s']} s over {args.trials} kill -9 restarts (target < 3 s)"
    )


def figure(quick: bool) -> dict[str, Any]:
    """kill -9 → first document applied, static membership and (for comparison) dynamic."""
    return {
        "static": measure(2 if quick else 5),
        "dynamic": measure(1 if quick else 2, dynamic=True),
    }


if __name__ == "__main__":
    main()
