"""Documents from several tables in timestamp capture, and the hard-delete sweep.

Real SQLite/PostgreSQL, Kafka and Meilisearch; relay and consumer run as services.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import meilisearch
import pytest
from sqlalchemy import Engine, text

from tests.integration.cli_support import run_cli
from tests.integration.compose_support import (
    Mixer,
    cases_table,
    create_schema,
    engine_for,
    index_docs,
    services,
    wait_equal,
)

pytestmark = pytest.mark.stack

SWEEP_S = 2.0
# What timestamp capture sees: no hard deletes of notes or codes, no note moving away
# from a case (the old case is refreshed only when it changes itself; docs/documents.md).
VISIBLE = {
    "insert_case": 8, "update_case": 10, "rekey_case": 3, "delete_case": 3,
    "insert_note": 14, "update_note": 10, "hide_note": 4, "insert_code": 2, "update_code": 4,
}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = (
        f"sqlite:///{tmp_path / 'source.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    engine = engine_for(url)
    create_schema(engine)
    yield url, engine
    engine.dispose()


def timestamp_table(index: str) -> dict[str, object]:
    return cases_table(
        index,
        capture="timestamp",
        modified_column="MODIFIED_AT",
        delete_sweep_interval=f"{SWEEP_S}s",
        notes={"modified_column": "MODIFIED_AT"},
        status={"modified_column": "MODIFIED_AT"},
    )


@pytest.mark.parametrize("seed", [77])
def test_changes_of_any_table_rebuild_their_parents_and_the_sweep_removes_hard_deletes(
    seed: int,
    source: tuple[str, Engine],
    make_config: Callable[..., Path],
    meili: meilisearch.Client,
    index_uid: str,
) -> None:
    """Invariant: each child and lookup table is polled under its own watermark and its
    changes rebuild the parents; a hard-deleted (or re-keyed) case leaves the index within
    one sweep; the sweep's cost is recorded where `status` shows it."""
    url, engine = source
    config = make_config(url, tables=[timestamp_table(index_uid)], relay={"overlap_s": 2})
    mixer = Mixer(engine, seed, stamp=True)
    mixer.seed_rows(cases=30, notes=60)
    with services(config):
        wait_equal(meili, index_uid, engine)
        for _ in range(150):
            mixer.step(VISIBLE)
        documents = wait_equal(meili, index_uid, engine, timeout_s=30)

        victim = sorted(documents)[0]
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM cases WHERE id = :i"), {"i": int(victim)})
        deleted_at = time.monotonic()
        while victim in index_docs(meili, index_uid):
            assert time.monotonic() - deleted_at < SWEEP_S + 15, "not removed within one sweep"
            time.sleep(0.2)
        print(
            f"\n[seed {seed}] {dict(mixer.counts)}; hard delete gone after "
            f"{time.monotonic() - deleted_at:.1f}s (sweep every {SWEEP_S}s)"
        )
    status = json.loads(run_cli(config, "status", "--json", "--limit", "50").stdout)
    sweeps = [r for r in status["runs"] if r["kind"] == "sweep" and r["status"] == "succeeded"]
    assert sweeps, status["runs"]
    assert any(r["details"]["deleted"] >= 1 for r in sweeps)
    assert all(r["rows"] == r["details"]["keys_read"] for r in sweeps)
    (table,) = [t for t in status["tables"] if t["index"] == index_uid]
    last_sweep = table["extra"]["relay"]
    assert last_sweep["sweep_keys_read"] > 0 and last_sweep["sweep_seconds"] >= 0, table
