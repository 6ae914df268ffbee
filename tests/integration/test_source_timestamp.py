"""Timestamp capture against real PostgreSQL and Kafka: watermark, overlap window, soft delete."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cdc_sync.config import load_settings
from cdc_sync.source.service import RelayService
from cdc_sync.state.store import StateStore
from tests.integration.compose_support import cases_table, create_schema, engine_for
from tests.integration.relay_helpers import by_key, cli, read_topic

pytestmark = pytest.mark.stack

TABLE = {
    "name": "DOCS",
    "primary_key": ["ID"],
    "capture": "timestamp",
    "modified_column": "MODIFIED",
    "soft_delete": {"column": "DEL_YN", "value": "Y"},
}


def test_restart_resumes_from_the_watermark_and_late_rows_in_the_overlap_are_seen(
    pg_url: str, make_config: Callable[..., Path], kafka_bootstrap: str, tmp_path: Path
) -> None:
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS docs"))
        conn.execute(
            text(
                "CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT, "
                "modified TIMESTAMP, del_yn CHAR(1) DEFAULT 'N')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO docs (id, title, modified) SELECT g, 't' || g, "
                "TIMESTAMP '2024-01-01 00:00:00' + g * INTERVAL '1 minute' "
                "FROM generate_series(1, 5) g"
            )
        )
    config = make_config(pg_url, tables=[TABLE], relay={"overlap_s": 5, "batch_size": 2})
    prefix = tomllib.loads(config.read_text())["kafka"]["topic_prefix"]
    topic = f"{prefix}.DOCS"

    def relay_once() -> None:
        done = cli(config, "relay", "--once")
        assert done.returncode == 0, done.stderr

    def ops() -> dict[str, list[str]]:
        return {
            k: [r.op for r in rs] for k, rs in by_key(read_topic(kafka_bootstrap, topic)).items()
        }

    relay_once()
    assert ops() == {f'{{"ID": {i}}}': ["u"] for i in range(1, 6)}
    state = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    assert state.get_watermark("timestamp:DOCS")["iso"] == "2024-01-01T00:05:00"

    relay_once()  # a restart re-reads only the overlap window
    assert ops()['{"ID": 5}'] == ["u", "u"]
    assert all(ops()[f'{{"ID": {i}}}'] == ["u"] for i in range(1, 5))

    with engine.begin() as conn:
        # committed "late": modified values older than the watermark
        conn.execute(
            text(
                "INSERT INTO docs (id, title, modified) VALUES "
                "(6, 'late', TIMESTAMP '2024-01-01 00:04:58'), "
                "(7, 'too late', TIMESTAMP '2024-01-01 00:04:00')"
            )
        )
        conn.execute(
            text(
                "UPDATE docs SET del_yn = 'Y', modified = TIMESTAMP '2024-01-01 00:10:00' WHERE id = 2"
            )
        )
    relay_once()
    seen = ops()
    assert seen['{"ID": 6}'] == ["u"]
    assert '{"ID": 7}' not in seen  # beyond the overlap window: the documented limit
    assert seen['{"ID": 2}'] == ["u", "d", "tombstone"]
    assert state.get_watermark("timestamp:DOCS")["iso"] == "2024-01-01T00:10:00"
    state.close()
    engine.dispose()


def _drain(service: RelayService) -> None:
    while service.step().active:
        pass


@pytest.mark.parametrize("changed", ["case", "code"])
def test_a_second_change_within_one_tick_of_the_modified_column_is_published(
    changed: str, sqlite_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Invariant: a row changed again with the same modified value (SQLite's CURRENT_TIMESTAMP
    and Oracle's DATE tick once a second) after the relay published its first change is
    published again. The relay used to skip a row re-read in the overlap window when its
    modified value was the one already published, whatever its content: a lookup renamed
    twice within a second left its parents with the first name (the flaky
    test_compose_timestamp run, seed 77)."""
    engine = engine_for(sqlite_url)
    create_schema(engine)
    at = "2024-05-01 10:00:00"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO status_code VALUES ('OPEN', 'Open case', :at)"), {"at": at})
        conn.execute(text("INSERT INTO cases VALUES (1, 'first', 'OPEN', :at)"), {"at": at})
    table = cases_table(
        "cases",
        capture="timestamp",
        modified_column="MODIFIED_AT",
        notes={"modified_column": "MODIFIED_AT"},
        status={"modified_column": "MODIFIED_AT"},
    )
    config = make_config(sqlite_url, tables=[table], relay={"overlap_s": 2})
    settings = load_settings(config)
    state = StateStore(settings.state.url)
    service = RelayService(settings, state)
    service.start()
    try:
        _drain(service)
        with engine.begin() as conn:  # the same second: the modified value does not move
            if changed == "case":
                conn.execute(text("UPDATE cases SET title = 'second' WHERE id = 1"))
            else:
                conn.execute(text("UPDATE status_code SET code_name = 'Renamed'"))
        _drain(service)
    finally:
        service.close()
        state.close()
        engine.dispose()
    topic = settings.topic_of(settings.tables[0])
    (events,) = by_key(read_topic(kafka_bootstrap, topic)).values()
    last = events[-1].value
    assert last is not None
    after = last["after"]  # SQLite spells the columns as created: lower case
    if changed == "case":
        assert after["title"] == "second", [e.value for e in events]
    else:
        assert after["__cdc_lookups"]["STATUS_CODE.STATUS"]["code_name"] == "Renamed", [
            e.value for e in events
        ]
