"""`cdc-sync bootstrap` against the real stack: SQLite and PostgreSQL sources, real Kafka and
Meilisearch. Swap semantics, one-at-a-time leases, crash recovery, failures."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from sqlalchemy import create_engine, text

from cdc_sync.bootstrap.run import Options, TableBootstrap, staging_uid
from cdc_sync.config import load_settings
from cdc_sync.database_url import normalise_url
from cdc_sync.events.model import ChangeEvent
from cdc_sync.sink.meili import meili_client
from cdc_sync.source.database import create_source_engine
from cdc_sync.state.records import Run
from cdc_sync.state.store import StateStore
from tests.integration.cli_support import run_cli
from tests.integration.consumer_support import produce

ROWS = 50_000


def make_items(url: str, rows: int, start: int = 1, title: str = "item") -> None:
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS ITEMS (ID INTEGER PRIMARY KEY, TITLE VARCHAR(100), "
                "PRICE NUMERIC(10, 2), STATUS VARCHAR(10))"
            )
        )
        if rows:
            conn.execute(
                text("INSERT INTO ITEMS VALUES (:id, :title, :price, :status)"),
                [
                    {
                        "id": i,
                        "title": f"{title} {i}",
                        "price": i % 1000 + 0.25,
                        "status": "DRAFT" if i % 50 == 0 else "OK",
                    }
                    for i in range(start, start + rows)
                ],
            )
    engine.dispose()


def table_config(index_uid: str, **extra: Any) -> dict[str, Any]:
    return {"name": "ITEMS", "primary_key": ["ID"], "index": index_uid, **extra}


def all_docs(meili: meilisearch.Client, uid: str) -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        page = meili.http.post(
            f"indexes/{uid}/documents/fetch", {"limit": 10_000, "offset": offset}
        )
        docs.update({d["id"]: d for d in page["results"]})
        if len(page["results"]) < 10_000:
            return docs
        offset += 10_000


def index_uids(meili: meilisearch.Client) -> set[str]:
    return {i.uid for i in meili.get_indexes({"limit": 10_000})["results"]}


def test_fifty_thousand_rows_exactly_then_verify_in_sync(
    make_config: Callable[..., Path], sqlite_url: str, index_uid: str, meili: meilisearch.Client
) -> None:
    make_items(sqlite_url, ROWS)
    config = make_config(
        sqlite_url,
        tables=[
            table_config(index_uid, filter="STATUS <> 'DRAFT'", settings={"filterable": ["status"]})
        ],
    )
    done = run_cli(config, "bootstrap")
    assert done.returncode == 0, done.stderr
    expected = ROWS - ROWS // 50
    assert f"{expected} rows, {expected} documents" in done.stdout

    docs = all_docs(meili, index_uid)
    wanted = {str(i) for i in range(1, ROWS + 1) if i % 50}
    assert set(docs) == wanted
    assert docs["7"] == {
        "id": "7",
        "title": "item 7",
        "price": 7.25,
        "status": "OK",
    }  # SQLite NUMERIC: REAL
    assert meili.index(index_uid).get_settings()["filterableAttributes"] == ["status"]
    assert staging_uid(index_uid) not in index_uids(meili)

    checked = run_cli(config, "verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "in sync" in checked.stdout

    status = run_cli(config, "status", "--json")
    assert '"status": "succeeded"' in status.stdout


def test_postgres_composite_key_and_empty_table(
    make_config: Callable[..., Path], pg_url: str, index_uid: str, meili: meilisearch.Client
) -> None:
    engine = create_engine(normalise_url(pg_url))
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE lines (order_no TEXT, line INTEGER, qty NUMERIC, PRIMARY KEY (order_no, line))"
            )
        )
        conn.execute(
            text("INSERT INTO lines VALUES (:o, :l, :q)"),
            [{"o": f"ord-{o}", "l": n, "q": n * 1.5} for o in range(300) for n in range(1, 6)],
        )
        conn.execute(text("CREATE TABLE nothing (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    config = make_config(
        pg_url,
        tables=[
            {"name": "LINES", "primary_key": ["ORDER_NO", "LINE"], "index": index_uid},
            {"name": "NOTHING", "primary_key": ["ID"], "index": f"{index_uid}_empty"},
        ],
    )
    try:
        done = run_cli(config, "bootstrap", "--batch-size", "97")
        assert done.returncode == 0, done.stderr
        assert meili.index(index_uid).get_stats().number_of_documents == 1500
        assert meili.index(f"{index_uid}_empty").get_stats().number_of_documents == 0
        assert run_cli(config, "verify").returncode == 0
    finally:
        meili.delete_index(f"{index_uid}_empty")


def test_searches_return_the_old_index_until_the_swap(
    make_config: Callable[..., Path], sqlite_url: str, index_uid: str, meili: meilisearch.Client
) -> None:
    make_items(sqlite_url, 2000, title="old")
    config = make_config(sqlite_url, tables=[table_config(index_uid)])
    assert run_cli(config, "bootstrap").returncode == 0
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE ITEMS SET TITLE = REPLACE(TITLE, 'old', 'new')"))
    engine.dispose()

    def titles() -> set[str]:
        hits = meili.index(index_uid).search("", {"limit": 50})["hits"]
        return {h["title"].split()[0] for h in hits}

    seen: dict[str, set[str]] = {}
    settings = load_settings(config)
    job = bootstrap_job(settings, config)
    job.hooks = {
        "loaded": lambda: seen.setdefault("loaded", titles()),
        "fenced": lambda: seen.setdefault("fenced", titles()),
        "swapped": lambda: seen.setdefault("swapped", titles()),
    }
    job.run()
    assert seen == {"loaded": {"old"}, "fenced": {"old"}, "swapped": {"new"}}
    # Staging held the new data all along: its settings were applied before loading.
    assert staging_uid(index_uid) not in index_uids(meili)


def bootstrap_job(settings: Any, config: Path, **options: Any) -> TableBootstrap:
    store = StateStore(settings.state.url)
    return TableBootstrap(
        settings,
        settings.tables[0],
        store,
        create_source_engine(settings.source),
        meili_client(settings.meilisearch),
        f"test-holder-{os.getpid()}",
        Options(terminal=False, **options),
    )


def test_second_bootstrap_is_refused_naming_the_holder(
    make_config: Callable[..., Path], sqlite_url: str, index_uid: str
) -> None:
    make_items(sqlite_url, 500)
    config = make_config(sqlite_url, tables=[table_config(index_uid)])
    job = bootstrap_job(load_settings(config), config)
    refused: list[subprocess.CompletedProcess[str]] = []
    latest: list[Run] = []

    def second() -> None:
        refused.append(run_cli(config, "bootstrap"))
        latest.extend(job.store.latest_runs(("bootstrap",)))

    job.hooks = {"loaded": second}
    job.run()
    assert refused[0].returncode == 1
    assert f"held by test-holder-{os.getpid()}" in refused[0].stderr
    assert "run 1" in refused[0].stderr
    # The refused attempt is on record as refused, and the run that holds the table stays
    # its latest (what status, the metrics and CdcSyncRunFailed read): nothing failed.
    (attempt,) = [r for r in job.store.recent_runs() if r.id != 1]
    assert attempt.status == "refused"
    assert attempt.error and "held by" in attempt.error
    assert [(r.id, r.status) for r in latest] == [(1, "running")]
    # Once the first run is over, the table is free again.
    assert run_cli(config, "bootstrap").returncode == 0


def test_kill_minus_nine_then_rerun_is_exact_and_leaves_no_staging(
    make_config: Callable[..., Path], sqlite_url: str, index_uid: str, meili: meilisearch.Client
) -> None:
    make_items(sqlite_url, 30_000)
    config = make_config(sqlite_url, tables=[table_config(index_uid)], state={"lease_ttl_s": 2})
    staging = staging_uid(index_uid)
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cdc_sync",
            "--config",
            str(config),
            "bootstrap",
            "--batch-size",
            "300",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (
                staging in index_uids(meili)
                and meili.index(staging).get_stats().number_of_documents > 0
            ):
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the bootstrap never started loading")
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    assert staging in index_uids(meili)  # the crash left it behind

    time.sleep(2.5)  # the dead run's lease expires
    done = run_cli(config, "bootstrap")
    assert done.returncode == 0, done.stderr
    assert staging not in index_uids(meili)
    assert set(all_docs(meili, index_uid)) == {str(i) for i in range(1, 30_001)}
    assert run_cli(config, "verify").returncode == 0


def test_unmappable_rows_are_recorded_and_the_rest_loaded(
    make_config: Callable[..., Path], sqlite_url: str, index_uid: str, meili: meilisearch.Client
) -> None:
    make_items(sqlite_url, 100)
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE ITEMS SET STATUS = CASE WHEN ID IN (3, 4) THEN 'bogus' ELSE 'Y' END")
        )
    engine.dispose()
    fields = {"ID": "id_", "TITLE": "title", "STATUS": {"name": "flag", "type": "boolean"}}
    config = make_config(sqlite_url, tables=[table_config(index_uid, fields=fields)])
    done = run_cli(config, "bootstrap")
    assert done.returncode == 0, done.stderr
    assert "98 documents" in done.stdout and "2 failures" in done.stdout
    assert "3" not in all_docs(meili, index_uid)
    status = run_cli(config, "status")
    assert "failures=2" in status.stdout and "failed 3: column STATUS" in status.stdout


def test_documents_meilisearch_refuses_are_isolated_and_recorded_the_rest_loaded(
    make_config: Callable[..., Path], sqlite_url: str, index_uid: str, meili: meilisearch.Client
) -> None:
    """Invariant: a document only Meilisearch can refuse (a `_geo` that is no position) fails
    alone — its task is split until it is isolated — and is recorded as a failure of the run;
    every other row of its task and of the other tasks is loaded."""
    make_items(sqlite_url, 5000)
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE ITEMS ADD COLUMN GEO TEXT"))
        conn.execute(text("UPDATE ITEMS SET GEO = 'nowhere' WHERE ID IN (3, 4001)"))
    engine.dispose()
    fields = {"ID": "id_", "TITLE": "title", "GEO": "_geo"}
    table = table_config(index_uid, fields=fields, settings={"filterable": ["_geo"]})
    config = make_config(sqlite_url, tables=[table])
    done = run_cli(config, "bootstrap", "--batch-size", "1000")
    assert done.returncode == 0, done.stderr
    assert "4998 documents" in done.stdout and "2 failures" in done.stdout, done.stdout
    loaded = all_docs(meili, index_uid)
    assert len(loaded) == 4998 and "3" not in loaded and "4001" not in loaded
    status = run_cli(config, "status")
    assert "failures=2" in status.stdout and "failed 3: meilisearch:" in status.stdout


def test_source_unreachable_exits_3_and_leaves_the_live_index(
    make_config: Callable[..., Path], sqlite_url: str, index_uid: str, meili: meilisearch.Client
) -> None:
    meili.wait_for_task(
        meili.index(index_uid).add_documents([{"id": "1", "title": "live"}], "id").task_uid
    )
    config = make_config(
        "postgresql://nobody:secret-pw@127.0.0.1:1/none",
        tables=[table_config(index_uid)],
        source={"connect_timeout_s": 1},
    )
    done = run_cli(config, "bootstrap")
    assert done.returncode == 3, done.stderr
    assert "source database unavailable" in done.stderr
    assert "secret-pw" not in done.stderr + done.stdout
    assert all_docs(meili, index_uid) == {"1": {"id": "1", "title": "live"}}
    status = run_cli(config, "status")
    assert "bootstrap ITEMS failed" in status.stdout


def test_changes_made_during_the_load_are_caught_up_in_rounds_and_the_fence_time_is_shown(
    make_config: Callable[..., Path],
    sqlite_url: str,
    index_uid: str,
    meili: meilisearch.Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Changes that arrived while the table was read are replayed before the fence (a round
    without it), so the fence is held for a short last window only; its time is in the run
    history, `status` (text and JSON) and the log, with a warning past bootstrap.fence_warn_s."""
    make_items(sqlite_url, 500)
    config = make_config(
        sqlite_url, tables=[table_config(index_uid)], bootstrap={"fence_warn_s": 0.001}
    )
    settings = load_settings(config)
    # 1,500 changes of the table's rows made during the load: title, then delete, then back
    changes = [
        ChangeEvent("u", {"ID": i}, after={"ID": i, "TITLE": f"changed {i}"}, table="ITEMS")
        if n % 3 != 1
        else ChangeEvent("d", {"ID": i}, before={"ID": i}, table="ITEMS")
        for n in range(3)
        for i in range(1, 501)
    ]
    job = bootstrap_job(settings, config)
    job.hooks = {
        "loaded": lambda: produce(
            settings.kafka.bootstrap_servers, settings.kafka.topic_prefix, changes
        )
    }
    with caplog.at_level(logging.INFO, logger="cdc_sync.bootstrap"):
        outcome = job.run()

    docs = all_docs(meili, index_uid)
    assert docs["7"]["title"] == "changed 7" and len(docs) == 500
    unfenced, fenced = outcome.rounds[:-1], outcome.rounds[-1]
    assert [r.fenced for r in outcome.rounds] == [False] * len(unfenced) + [True]
    assert unfenced and unfenced[0].records >= 2000  # 1,000 updates, 500 deletes + tombstones
    assert fenced.records == 0  # nothing changed since: the fence held an empty window
    assert outcome.fence_s is not None and 0 < outcome.fence_s < 5
    warned = [r for r in caplog.records if "bootstrap.fence_warn_s" in r.getMessage()]
    assert warned and warned[0].levelno == logging.WARNING

    state = json.loads(run_cli(config, "status", "--json").stdout)
    run = state["runs"][0]
    assert run["details"]["fence_s"] == pytest.approx(outcome.fence_s, abs=0.001)
    assert run["details"]["catch_up_tasks"] == sum(r.tasks for r in outcome.rounds)
    assert [r["fenced"] for r in run["details"]["rounds"]] == [r.fenced for r in outcome.rounds]
    assert state["tables"][0]["bootstrap"]["fence_s"] == run["details"]["fence_s"]
    text_status = run_cli(config, "status").stdout
    assert "the fence held live changes" in text_status
    assert "over bootstrap.fence_warn_s (0.001s)" in text_status


def test_in_place_deletes_what_the_source_no_longer_has_and_keeps_what_came_during_the_load(
    make_config: Callable[..., Path], sqlite_url: str, index_uid: str, meili: meilisearch.Client
) -> None:
    """--in-place: documents whose rows are gone go, then the rounds replay the changes made
    during the load into the live index (a row inserted then is kept, though its id was not
    read), the last round under the fence."""
    make_items(sqlite_url, 500)
    index = meili.index(index_uid)
    strays = [{"id": f"gone{i}", "title": "stray"} for i in range(30)]
    meili.wait_for_task(index.add_documents(strays, "id").task_uid)
    config = make_config(sqlite_url, tables=[table_config(index_uid)])
    settings = load_settings(config)
    engine = create_engine(sqlite_url)

    def changed_during_the_load() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO ITEMS VALUES (9001, 'late', 1.5, 'OK')"))
            conn.execute(text("DELETE FROM ITEMS WHERE ID = 5"))
            conn.execute(text("UPDATE ITEMS SET TITLE = 'changed' WHERE ID BETWEEN 100 AND 499"))
        row = {"ID": 9001, "TITLE": "late", "PRICE": 1.5, "STATUS": "OK"}
        events = [ChangeEvent("c", {"ID": 9001}, after=row, table="ITEMS")]
        events.append(ChangeEvent("d", {"ID": 5}, before={"ID": 5}, table="ITEMS"))
        for i in range(100, 500):
            row = {"ID": i, "TITLE": "changed", "PRICE": i % 1000 + 0.25, "STATUS": "OK"}
            row["STATUS"] = "DRAFT" if i % 50 == 0 else "OK"
            events += [ChangeEvent("u", {"ID": i}, after=row, table="ITEMS")] * 3
        produce(settings.kafka.bootstrap_servers, settings.kafka.topic_prefix, events)

    job = bootstrap_job(settings, config, in_place=True)
    job.hooks = {"loaded": changed_during_the_load}
    outcome = job.run()
    engine.dispose()

    docs = all_docs(meili, index_uid)
    assert not any(i.startswith("gone") for i in docs)
    assert "5" not in docs and docs["9001"]["title"] == "late" and docs["250"]["title"] == "changed"
    assert set(docs) == {str(i) for i in range(1, 501) if i != 5} | {"9001"}
    assert [r.fenced for r in outcome.rounds] == [False, True]  # 1,203 records: a round first
    assert staging_uid(index_uid) not in index_uids(meili)
