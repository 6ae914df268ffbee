"""A bootstrap's lease and consumer fence: a run stops before it swaps on a fence it can no
longer prove it holds, and a killed run frees its table within the lease TTL (at once when
it is stopped with SIGTERM)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import meilisearch
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from cdc_sync.bootstrap.hold import LeaseLost
from cdc_sync.bootstrap.run import Options, TableBootstrap, staging_uid
from cdc_sync.config import load_settings
from cdc_sync.events.model import ChangeEvent
from cdc_sync.sink.meili import meili_client
from cdc_sync.source.database import create_source_engine
from cdc_sync.state.records import Lease
from cdc_sync.state.store import StateStore
from tests.faults.proxy import HttpProxy, Rule
from tests.integration.cli_support import cli_command, run_cli
from tests.integration.consumer_support import ConsumerProcess, produce, wait_for
from tests.integration.test_bootstrap import all_docs, index_uids, make_items, table_config


class RefusingStore(StateStore):
    """A state store that refuses lease renewals once told to (unreachable for this holder)."""

    refuse = False

    def renew(self, lease: Lease, ttl_s: float) -> Lease:
        if self.refuse:
            raise OperationalError("UPDATE cdc_sync_leases", {}, Exception("injected: refused"))
        return super().renew(lease, ttl_s)


def test_a_run_that_cannot_renew_its_fence_stops_before_the_swap(
    make_config: Callable[..., Path], sqlite_url: str, index_uid: str, meili: meilisearch.Client
) -> None:
    """Invariant: the run fails with a clear error and leaves the live index untouched — it
    never swaps once its lease and fence went unrenewed for longer than their TTL (consumers
    may have written to the live index meanwhile)."""
    make_items(sqlite_url, 300)
    live = [{"id": "live", "title": "before the run"}]
    meili.wait_for_task(meili.index(index_uid).add_documents(live, "id").task_uid)
    ttl = 1.5
    config = make_config(sqlite_url, tables=[table_config(index_uid)], state={"lease_ttl_s": ttl})
    settings = load_settings(config)
    store = RefusingStore(settings.state.url)

    def refuse_renewals() -> None:
        store.refuse = True
        time.sleep(2 * ttl)

    job = TableBootstrap(
        settings,
        settings.tables[0],
        store,
        create_source_engine(settings.source),
        meili_client(settings.meilisearch),
        f"test-holder-{os.getpid()}",
        Options(terminal=False),
    )
    job.hooks = {"fenced": refuse_renewals}
    with pytest.raises(LeaseLost, match="could not be renewed"):
        job.run()
    assert all_docs(meili, index_uid) == {"live": live[0]}
    assert staging_uid(index_uid) not in index_uids(meili)
    status = run_cli(config, "status")
    assert "bootstrap ITEMS failed" in status.stdout and "could not be renewed" in status.stdout
    (failed,) = json.loads(run_cli(config, "status", "--json").stdout)["runs"]
    assert failed["details"]["fence_s"] >= 2 * ttl  # the failed run's fence time is kept too


@pytest.mark.parametrize(
    ("stop", "within_s"),
    [(signal.SIGKILL, 10 + 5), (signal.SIGTERM, 3)],
    ids=["kill-9", "sigterm"],
)
def test_a_stopped_bootstrap_frees_its_table_for_consumers_and_reruns(
    stop: signal.Signals,
    within_s: float,
    make_config: Callable[..., Path],
    sqlite_url: str,
    index_uid: str,
    meili: meilisearch.Client,
    meili_proxy: HttpProxy,
    tmp_path: Path,
) -> None:
    """Invariant: a bootstrap stopped while it fences its table holds the consumer's writes
    for at most the lease TTL (default 10 s; SIGTERM: at once), a rerun is then accepted, and
    the index equals the source after it."""
    make_items(sqlite_url, 2000)
    config = make_config(sqlite_url, tables=[table_config(index_uid)])
    settings = load_settings(config)
    draining = Rule(
        "hold",
        lambda r: (
            r.path.startswith("/tasks?") and "statuses=enqueued" in r.path and index_uid in r.path
        ),
        hold_s=40,
    )
    meili_proxy.add(draining)
    env = {**os.environ, "CDC_SYNC__MEILISEARCH__URL": f"http://{meili_proxy.address}"}
    with ConsumerProcess(config, tmp_path / "consumer.log") as consumer:
        child = subprocess.Popen(
            cli_command(config, "bootstrap"),
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "bootstrap.log").open("wb"),
            env=env,
        )
        try:
            wait_for(lambda: draining.used > 0, 60, "the bootstrap to fence its table")
            store = StateStore(settings.state.url)
            assert store.fenced_tables() == {"ITEMS"}
            # a change made now waits for the fence
            engine = create_engine(sqlite_url)
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO ITEMS VALUES (9999, 'late', 1.5, 'OK')"))
            engine.dispose()
            row = {"ID": 9999, "TITLE": "late", "PRICE": 1.5, "STATUS": "OK"}
            event = ChangeEvent("c", {"ID": 9999}, after=row, table="ITEMS")
            produce(settings.kafka.bootstrap_servers, settings.kafka.topic_prefix, [event])
            child.send_signal(stop)
            stopped = time.monotonic()
            child.wait(30)
        finally:
            if child.poll() is None:
                child.kill()
        wait_for(
            lambda: "9999" in all_docs(meili, index_uid),
            within_s + 30,
            "the consumer to apply the held change",
        )
        held_s = time.monotonic() - stopped
        consumer.terminate()
        assert consumer.wait(30) == 0, consumer.tail()
    assert held_s < within_s, f"the table stayed fenced for {held_s:.1f}s after the stop"
    assert store.fenced_tables() == set()

    rerun = run_cli(config, "bootstrap")
    assert rerun.returncode == 0, rerun.stderr
    assert set(all_docs(meili, index_uid)) == {*map(str, range(1, 2001)), "9999"}
    assert staging_uid(index_uid) not in index_uids(meili)
