"""`cdc-sync verify --continuous` on real SQLite and PostgreSQL, Kafka and Meilisearch:
each kind of drift repaired within one pass, the rest of the index untouched."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from sqlalchemy import create_engine, text

from cdc_sync.database_url import normalise_url
from tests.integration.cli_support import run_cli, start_cli
from tests.integration.compose_support import (
    Mixer,
    cases_table,
    create_schema,
    engine_for,
    wait_equal,
)
from tests.integration.test_bootstrap import all_docs, make_items, table_config
from tests.integration.verify_support import pipeline, stop, stop_all, verify_pass, wait_for

pytestmark = pytest.mark.stack

ROWS = 400


def expected_docs(url: str) -> dict[str, dict[str, Any]]:
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        query = "SELECT ID AS id, TITLE AS title, PRICE AS price, STATUS AS status FROM ITEMS"
        rows = conn.execute(text(query)).all()
    engine.dispose()
    return {
        str(r.id): {"id": str(r.id), "title": r.title, "price": float(r.price), "status": r.status}
        for r in rows
    }


def same_doc(found: dict[str, Any] | None, wanted: dict[str, Any] | None) -> bool:
    if found is None or wanted is None:
        return found is wanted
    return {k: found.get(k.upper(), found.get(k)) for k in wanted} == wanted


def bypass_capture(url: str, doc_id: int, title: str) -> None:
    """Change a row without the change log knowing: PostgreSQL's replica role skips the
    triggers; SQLite has no such switch, so the change-log row is deleted in the same
    transaction."""
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        if url.startswith("postgresql"):
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("UPDATE items SET title = :t WHERE id = :i"), {"t": title, "i": doc_id})
        if url.startswith("sqlite"):
            conn.execute(text("DELETE FROM cdc_change_log"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def source_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("pg_url")
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS items"))
        conn.execute(text("DROP TABLE IF EXISTS cdc_change_log"))
    engine.dispose()
    return url


def test_each_kind_of_drift_is_repaired_within_one_pass_and_nothing_else_is_touched(
    source_url: str,
    make_config: Callable[..., Path],
    meili: meilisearch.Client,
    index_uid: str,
) -> None:
    """Invariant: a document deleted or edited in Meilisearch, a row changed with capture
    bypassed and a document whose row never existed are each found and repaired within one
    pass; the passes' counts are exactly those (nothing else was found or rewritten)."""
    make_items(source_url, ROWS)
    table = table_config(index_uid, verify={"every": "2s"})
    config = make_config(source_url, tables=[table], verify={"rows_per_s": 5000})
    assert run_cli(config, "source", "install").returncode == 0
    assert run_cli(config, "bootstrap").returncode == 0
    index = meili.index(index_uid)
    with pipeline(config):
        wait_for(lambda: verify_pass(config, "ITEMS").get("last"), 60, "a first pass")
        drifted_at = time.monotonic()
        for task in (
            index.delete_document("17"),
            index.update_documents([{"id": "42", "title": "tampered"}]),
            index.add_documents([{"id": "999999", "title": "stray"}]),
        ):
            assert meili.wait_for_task(task.task_uid, timeout_in_ms=60_000).status == "succeeded"
        bypass_capture(source_url, 5, "changed behind capture's back")
        wanted = expected_docs(source_url)
        repaired_after: dict[str, float] = {}

        def repaired() -> bool:
            docs = all_docs(meili, index_uid)
            for doc_id in ("17", "42", "999999", "5"):
                if doc_id not in repaired_after and same_doc(docs.get(doc_id), wanted.get(doc_id)):
                    repaired_after[doc_id] = round(time.monotonic() - drifted_at, 1)
            return len(repaired_after) == 4

        wait_for(repaired, 30, "every drift repaired")
        print(f"\n[{source_url.split(':')[0]}] time to repair (s): {repaired_after}")
        docs = all_docs(meili, index_uid)
        assert len(docs) == ROWS
        assert all(same_doc(docs[i], wanted[i]) for i in wanted)

        time.sleep(5)  # two more passes: none finds anything left
    found, repaired = drift_of_passes(config)
    assert found == {"missing": 1, "extra": 1, "differing": 2}, found
    assert repaired == found


def drift_of_passes(config: Path) -> tuple[Counter[str], Counter[str]]:
    """Drift found and repaired, summed over every verify pass recorded."""
    status = json.loads(run_cli(config, "status", "--json", "--limit", "200").stdout)
    found, repaired = Counter[str](), Counter[str]()
    for run in status["runs"]:
        if run["kind"] == "verify_pass" and run["status"] == "succeeded":
            found.update(run["details"]["found"])
            repaired.update(run["details"]["repaired"])
    return +found, +repaired


def test_timestamp_capture_blind_spots_are_repaired_through_the_relay_within_one_pass(
    sqlite_url: str, make_config: Callable[..., Path], meili: meilisearch.Client, index_uid: str
) -> None:
    """Invariant: what timestamp polling cannot see, a hard-deleted child (its parent keeps
    it) and a row committed after its overlap (its modified time is behind the watermark),
    is repaired within one pass: the verifier asks, the relay publishes the current
    documents."""
    engine = engine_for(sqlite_url)
    create_schema(engine)
    mixer = Mixer(engine, 3, stamp=True)
    mixer.seed_rows(cases=40, notes=80)
    table = cases_table(
        index_uid,
        capture="timestamp",
        modified_column="MODIFIED_AT",
        notes={"modified_column": "MODIFIED_AT"},
        status={"modified_column": "MODIFIED_AT"},
        verify={"every": "2s"},
    )
    config = make_config(sqlite_url, tables=[table], relay={"overlap_s": 1})
    with pipeline(config):
        wait_equal(meili, index_uid, engine)
        # the relay's first publishing ran beside the first pass, which may have counted the
        # documents not published yet as drift (docs/verify.md): start from a clean pass
        equal_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        wait_for(
            lambda: (
                (verify_pass(config, "CASES").get("last") or {}).get("started_at", "") > equal_at
            ),
            60,
            "a pass over the equal index",
        )
        found_before, repaired_before = drift_of_passes(config)
        with engine.begin() as conn:
            parent = conn.execute(text("SELECT case_id FROM notes WHERE del_yn = 'N'")).scalar()
            conn.execute(text("DELETE FROM notes WHERE case_id = :c"), {"c": parent})
            conn.execute(
                text("INSERT INTO cases VALUES (999, 'late', 'OPEN', '2001-01-01 00:00:00')")
            )
        drifted_at = time.monotonic()
        wait_equal(meili, index_uid, engine, timeout_s=30)
        print(f"\n[timestamp] both repaired after {time.monotonic() - drifted_at:.1f}s")
    found, repaired = drift_of_passes(config)
    found.subtract(found_before)
    repaired.subtract(repaired_before)
    assert +found == {"missing": 1, "differing": 1}, (found, found_before)
    assert +repaired == +found
    engine.dispose()


def leases_of(config: Path) -> list[dict[str, Any]]:
    status = json.loads(run_cli(config, "status", "--json").stdout)
    return [lease for lease in status["leases"] if lease["name"] == "verify:ITEMS"]


def test_one_verifier_runs_a_table_a_killed_one_is_resumed_from_its_cursor_and_sigterm_ends_a_chunk(
    sqlite_url: str, make_config: Callable[..., Path], meili: meilisearch.Client, index_uid: str
) -> None:
    """Invariant: of two verifiers one holds the table and the other waits; after kill -9 the
    other takes the same pass over from the saved cursor and ends it having read every row
    once (the chunk the killed one had not saved is not counted twice); SIGTERM ends the
    process within a chunk; the read rate keeps to the budget."""
    rows, budget, chunk = 3000, 250.0, 250
    make_items(sqlite_url, rows)
    config = make_config(
        sqlite_url,
        tables=[table_config(index_uid)],
        verify={"rows_per_s": budget, "every": "2s"},
        state={"lease_ttl_s": 2},
    )
    assert run_cli(config, "bootstrap").returncode == 0
    first, second = (
        start_cli(config, "verify", "--continuous"),
        start_cli(config, "verify", "--continuous"),
    )
    try:

        def under_way(at_least: int) -> dict[str, Any] | None:
            current = verify_pass(config, "ITEMS").get("current")
            return current if current and current["rows_read"] >= at_least else None

        current = wait_for(lambda: under_way(3 * chunk), 60, "a pass under way")
        (lease,) = leases_of(config)
        rate = current["rows_per_s"]
        print(f"\nread rate {rate}/s against a budget of {budget:.0f}/s")
        assert abs(rate - budget) <= 0.2 * budget, current
        holder, waiting = (
            (first, second) if lease["holder"].endswith(f":{first.pid}") else (second, first)
        )
        holder.kill()  # kill -9
        holder.wait(10)
        at_kill = verify_pass(config, "ITEMS")["current"]

        def finished_by_the_other() -> dict[str, Any] | None:
            if not [x for x in leases_of(config) if x["holder"].endswith(f":{waiting.pid}")]:
                return None
            last = verify_pass(config, "ITEMS").get("last")
            return last if last and last["started_at"] == at_kill["started_at"] else None

        last = _or_show(
            waiting, lambda: wait_for(finished_by_the_other, 60, "the other verifier ends the pass")
        )
        assert (last["rows_read"], last["ids_read"]) == (rows, rows), (at_kill, last)
        wait_for(lambda: under_way(chunk), 30, "the next pass under way")
        stopped_at = time.monotonic()
        assert stop(waiting, timeout_s=10) == 0
        took = time.monotonic() - stopped_at
        print(f"SIGTERM → exit in {took:.2f}s (a chunk is {chunk / budget:.1f}s of budget)")
        assert took < chunk / budget + 3
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()


def _or_show(process: subprocess.Popen[bytes], check: Callable[[], Any]) -> Any:
    """`check()`; when it fails, the process's log goes with the error."""
    try:
        return check()
    except AssertionError:
        process.kill()
        _, err = process.communicate(timeout=10)
        raise AssertionError(err.decode(errors="replace")[-3000:]) from None


def test_a_pass_waits_while_the_consumers_lag_above_max_lag_and_goes_on_once_they_catch_up(
    sqlite_url: str, make_config: Callable[..., Path], index_uid: str
) -> None:
    """Invariant: while the consumer group has more than `max_lag` records of the table's
    topic to apply, a pass reads nothing and says why in status; once the consumers catch
    up it goes on and completes."""
    make_items(sqlite_url, 50)
    table = table_config(index_uid, verify={"every": "1s"})
    config = make_config(sqlite_url, tables=[table], verify={"max_lag": 5})
    assert run_cli(config, "source", "install").returncode == 0
    assert run_cli(config, "bootstrap").returncode == 0
    engine = create_engine(normalise_url(sqlite_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE items SET title = 'lagging' WHERE id <= 20"))
    engine.dispose()
    assert run_cli(config, "relay", "--once").returncode == 0  # 20 records, no consumer yet
    services = [start_cli(config, "verify", "--continuous")]
    try:

        def waiting() -> Any:
            return (verify_pass(config, "ITEMS").get("current") or {}).get("waiting")

        assert wait_for(waiting, 60, "the pass waiting") == "consumer lag 20 > max_lag 5"
        time.sleep(3)  # three lag checks later: still waiting, nothing read, no pass ended
        held = verify_pass(config, "ITEMS")
        assert held["current"]["waiting"] == "consumer lag 20 > max_lag 5"
        assert (held["current"]["rows_read"], held["current"]["ids_read"]) == (0, 0)
        assert not held.get("last")
        services.append(start_cli(config, "consume"))
        last = wait_for(lambda: verify_pass(config, "ITEMS").get("last"), 60, "a pass ended")
        assert last["rows_read"] == 50, last
    finally:
        stop_all(services)
