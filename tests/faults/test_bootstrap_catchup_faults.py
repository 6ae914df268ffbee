"""Bootstrap on PostgreSQL while the relay and consumer run and the application changes the
same keys at 200 changes/s, with Meilisearch behind a slow link that refuses some writes:
0-200 ms added to every request, 503 to one document write in ten.

The catch-up is compacted per id and replayed in rounds before the fence, so its tasks do
not grow with the alternations of inserts, updates and deletes in the topic, and the fence
holds the table's live changes for a short last window only."""

from __future__ import annotations

import itertools
import json
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import meilisearch
import pytest

from cdc_sync.bootstrap.run import staging_uid
from cdc_sync.config import load_settings
from cdc_sync.events.model import ChangeEvent
from cdc_sync.kafka.reader import read_range, watermarks
from tests.conftest import unique
from tests.faults.proxy import HttpProxy, Request, Rule, document_write, slow_link
from tests.faults.support import Application, make_table, wait_index_equals_source
from tests.faults.test_bootstrap_faults import drains, finished
from tests.integration.cli_support import run_cli, start_cli, stop
from tests.integration.consumer_support import produce, wait_for
from tests.integration.test_bootstrap import all_docs, bootstrap_job, make_items, table_config

ROWS = 317
"""Rows only bootstrap can bring: they were there before the triggers."""
RATE = 200
BATCH = 100
LEASE_TTL_S = 3.0


def alternations(config: Path) -> int:
    """Changes of kind (a delete after an upsert, or back) in the table's topic, per key
    order as the relay published them: what cutting runs of one kind would pay per task."""
    settings = load_settings(config)
    topic = settings.topic_of(settings.tables[0])
    low, high = watermarks(settings.kafka, topic)
    kinds = [
        record.value is None or b'"op":"d"' in record.value
        for record in read_range(settings.kafka, topic, low, high)
    ]
    return sum(a != b for a, b in itertools.pairwise(kinds))


def latest_bootstrap(config: Path) -> dict[str, Any]:
    state = json.loads(run_cli(config, "status", "--json").stdout)
    run: dict[str, Any] = next(r for r in state["runs"] if r["kind"] == "bootstrap")
    return run


@pytest.mark.parametrize(
    ("seed", "kill"), [(1, False), (2, True)], ids=["seed=1-once", "seed=2-killed-and-rerun"]
)
def test_bootstrap_behind_a_slow_refusing_link_catches_up_in_rounds_with_a_short_fence(
    seed: int,
    kill: bool,
    make_config: Callable[..., Path],
    pg_url: str,
    index_uid: str,
    meili: meilisearch.Client,
    meili_proxy: HttpProxy,
    tmp_path: Path,
) -> None:
    """Invariants: the index equals the source once the consumer caught up; the catch-up
    enqueues at most one task per kind per batch of documents in each round, whatever the
    alternations; the fence holds the table's live changes for less than 5 s."""
    name = unique("items")
    make_table(pg_url, name, ROWS)
    config = make_config(
        pg_url,
        tables=[{"name": name.upper(), "primary_key": ["ID"], "index": index_uid}],
        meilisearch={"url": f"http://{meili_proxy.address}"},
        state={"lease_ttl_s": LEASE_TTL_S},
        relay={"poll_interval_ms": 50},
    )
    installed = run_cli(config, "source", "install")
    assert installed.returncode == 0, installed.stderr
    slow_link(meili_proxy, seed)
    relay = start_cli(config, "relay", log=tmp_path / "relay.log")
    consumer = start_cli(config, "consume", log=tmp_path / "consumer.log")
    application = Application(pg_url, name, seed, first_id=ROWS + 1, per_s=RATE)
    services = (relay, consumer)
    try:
        application.start()
        wait_for(lambda: application.changes > RATE, 30, "the application to be writing")
        if kill:
            first = start_cli(
                config, "bootstrap", "--batch-size", str(BATCH), log=tmp_path / "b1.log"
            )
            fenced = lambda: any(drains(e.request, index_uid) for e in meili_proxy.exchanges)  # noqa: E731
            wait_for(fenced, 60, "the first run to fence its table", every=0.02)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            time.sleep(LEASE_TTL_S)  # until then a rerun refuses, naming the killed run
        log = tmp_path / "bootstrap.log"
        run = start_cli(config, "bootstrap", "--batch-size", str(BATCH), log=log)
        assert finished(run, log, timeout_s=120) == 0, log.read_text()[-3000:]
        wait_for(lambda: application.changes > 8 * RATE, 30, "changes after the bootstrap")
        application.halt.set()
        application.join(30)
        wait_index_equals_source(meili, index_uid, pg_url, name, timeout_s=60)
        for service in services:
            assert service.poll() is None
    finally:
        application.halt.set()
        stop(services)

    details = latest_bootstrap(config)["details"]
    rounds = details["rounds"]
    assert rounds[-1]["fenced"] and not any(r["fenced"] for r in rounds[:-1])
    bound = sum(3 * -(-r["documents"] // BATCH) for r in rounds)
    assert details["catch_up_tasks"] <= bound  # one per kind per batch of ids, per round
    alternated = alternations(config)
    assert alternated > 10 * details["catch_up_tasks"], (alternated, details)
    assert details["fence_s"] < 5, details
    assert staging_uid(index_uid) not in {i.uid for i in meili.get_indexes()["results"]}
    refused = sum(1 for e in meili_proxy.exchanges if e.status == 503)
    print(
        f"\nfence held live changes {details['fence_s']:.2f}s; catch-up {details['catch_up_s']:.1f}s "
        f"in {len(rounds)} rounds, {details['catch_up_tasks']} tasks "
        f"({[(r['records'], r['documents'], r['tasks']) for r in rounds]}); "
        f"{alternated} kind alternations in the topic; {refused} requests answered 503"
    )


def test_the_last_window_is_replayed_while_the_live_index_drains(
    make_config: Callable[..., Path],
    sqlite_url: str,
    index_uid: str,
    meili: meilisearch.Client,
    meili_proxy: HttpProxy,
) -> None:
    """Under the fence, the last window goes to the staging index while Meilisearch works off
    the consumers' tasks on the live index (held here for 2 s): E needs only the consumers to
    have seen the fence, not the drain, so the two overlap and the fence is held for the
    longer of them, not their sum."""
    make_items(sqlite_url, 200)
    proxied = {"url": f"http://{meili_proxy.address}"}
    config = make_config(sqlite_url, tables=[table_config(index_uid)], meilisearch=proxied)
    settings = load_settings(config)
    arrivals: list[tuple[float, Request]] = []

    def arrived(request: Request) -> bool:
        arrivals.append((time.monotonic(), request))
        return False  # only watches

    meili_proxy.add(Rule("hold", arrived))
    meili_proxy.add(Rule("hold", lambda r: drains(r, index_uid), hold_s=2, times=1))
    late = [
        ChangeEvent("u", {"ID": i}, after={"ID": i, "TITLE": "late"}, table="ITEMS")
        for i in range(1, 51)
    ]
    job = bootstrap_job(settings, config)
    job.hooks = {
        "fenced": lambda: produce(
            settings.kafka.bootstrap_servers, settings.kafka.topic_prefix, late
        )
    }
    outcome = job.run()

    held = next(at for at, r in arrivals if drains(r, index_uid))
    staging = f"/indexes/{staging_uid(index_uid)}/"
    writes = [at - held for at, r in arrivals if document_write(r) and staging in r.path]
    assert any(0 < at < 2 for at in writes), writes  # sent while the drain was held
    assert outcome.rounds[-1].fenced and outcome.rounds[-1].documents == 50
    assert all_docs(meili, index_uid)["7"]["title"] == "late"
    assert outcome.fence_s is not None and outcome.fence_s < 2 + 2
