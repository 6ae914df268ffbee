"""Documents from several tables in trigger capture, on real SQLite/PostgreSQL, Kafka, Meilisearch.

Random, seeded mixes of case, note and status-code changes (inserts, updates,
a note moving to another case, a case's key changing, deletes) run while the
relay and consumer services run; the seed is in the test id.
"""

from __future__ import annotations

import threading
import tomllib
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
    from_tables,
    index_docs,
    services,
    wait_equal,
)

pytestmark = pytest.mark.stack


@pytest.fixture(params=["sqlite", "postgresql"])
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'source.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def source(source_url: str) -> Iterator[Engine]:
    engine = engine_for(source_url)
    create_schema(engine)
    yield engine
    engine.dispose()


def ok(config: Path, *args: str) -> str:
    done = run_cli(config, *args)
    assert done.returncode == 0, done.stderr
    return str(done.stdout)


@pytest.mark.parametrize("seed", [1207, 4242])
def test_random_mixes_keep_every_document_equal_to_its_tables(
    seed: int,
    source: Engine,
    source_url: str,
    make_config: Callable[..., Path],
    meili: meilisearch.Client,
    index_uid: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Invariant: once relay and consumer caught up, every document equals the one composed
    directly from the tables — after a stream of mixed changes, after a bootstrap run while
    the mixes go on, and after `verify --repair` of a damaged index."""
    config = make_config(source_url, tables=[cases_table(index_uid)], relay={"batch_size": 50})
    ok(config, "source", "install")
    mixer = Mixer(source, seed)
    mixer.seed_rows(cases=40, notes=80)
    with services(config):
        for _ in range(200):
            mixer.step()
        streamed = wait_equal(meili, index_uid, source)
        stream_counts = dict(mixer.counts)

        mixer.counts.clear()
        background = threading.Thread(target=lambda: [mixer.step() for _ in range(150)])
        background.start()
        bootstrap = run_cli(config, "bootstrap", "--batch-size", "16")
        background.join()
        assert bootstrap.returncode == 0, bootstrap.stderr
        after_bootstrap = wait_equal(meili, index_uid, source)
        bootstrap_counts = dict(mixer.counts)

    damaged = sorted(after_bootstrap)[:5]
    meili.index(index_uid).delete_document(damaged[0])
    task = meili.index(index_uid).update_documents(
        [{"id": i, "title": "damaged", "notes": []} for i in damaged[1:]]
    )
    meili.wait_for_task(task.task_uid)
    assert run_cli(config, "verify").returncode == 1
    ok(config, "verify", "--repair")
    assert index_docs(meili, index_uid) == from_tables(source)
    with capsys.disabled():
        notes = sum(len(d["notes"]) for d in after_bootstrap.values())
        print(
            f"\n[seed {seed}] stream: {stream_counts} → {len(streamed)} documents; "
            f"during bootstrap: {bootstrap_counts} → {len(after_bootstrap)} documents "
            f"with {notes} notes; repaired {len(damaged)}"
        )


def test_a_lookup_change_updates_every_parent_that_uses_it(
    source: Engine,
    source_url: str,
    make_config: Callable[..., Path],
    meili: meilisearch.Client,
    index_uid: str,
) -> None:
    """Invariant: one status-code change reaches all 2,500 cases using it, through the
    change log in relay batches of 300 (the fan-out never holds the parents in memory)."""
    config = make_config(source_url, tables=[cases_table(index_uid)], relay={"batch_size": 300})
    ok(config, "source", "install")
    with source.begin() as conn:
        conn.execute(text("INSERT INTO status_code VALUES ('OPEN', 'Open', NULL)"))
        conn.execute(text("INSERT INTO status_code VALUES ('DONE', 'Done', NULL)"))
        for start in range(0, 2500, 500):
            conn.execute(
                text("INSERT INTO cases VALUES (:i, :t, :s, NULL)"),
                [
                    {"i": i, "t": f"case {i}", "s": "OPEN" if i % 5 else "DONE"}
                    for i in range(start + 1, start + 501)
                ],
            )
    ok(config, "relay", "--once")
    ok(config, "consume", "--until-caught-up")
    with source.begin() as conn:
        conn.execute(text("UPDATE status_code SET code_name = 'Opened' WHERE code = 'OPEN'"))
    ok(config, "relay", "--once")
    ok(config, "consume", "--until-caught-up")
    docs = index_docs(meili, index_uid)
    assert len(docs) == 2500
    names = {d["status_name"] for d in docs.values() if d["status"] == "OPEN"}
    assert names == {"Opened"}
    assert docs == from_tables(source)


def test_a_parent_with_too_many_children_is_dead_lettered_with_the_reason(
    source: Engine,
    source_url: str,
    make_config: Callable[..., Path],
    meili: meilisearch.Client,
    index_uid: str,
) -> None:
    """Invariant: past max_children the document is not truncated silently: the event goes to
    the dead-letter topic with the reason, and the other documents go on."""
    table = cases_table(index_uid, notes={"max_children": 3})
    config = make_config(source_url, tables=[table])
    ok(config, "source", "install")
    with source.begin() as conn:
        conn.execute(text("INSERT INTO cases VALUES (1, 'few', NULL, NULL)"))
        conn.execute(text("INSERT INTO cases VALUES (2, 'many', NULL, NULL)"))
        for note in range(1, 7):
            conn.execute(
                text("INSERT INTO notes VALUES (:n, :c, :n, 'x', 'N', NULL)"),
                {"n": note, "c": 1 if note <= 2 else 2},
            )
    ok(config, "relay", "--once")
    ok(config, "consume", "--until-caught-up")
    assert sorted(index_docs(meili, index_uid)) == ["1"]
    letters = ok(config, "dlq", "list", "--json").splitlines()
    dlq = tomllib.loads(config.read_text())["kafka"]["dead_letter_topic"]
    assert letters, f"nothing in {dlq}"
    assert "4 rows for this parent's 'notes', more than max_children = 3" in letters[-1]
