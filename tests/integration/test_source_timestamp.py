"""Timestamp capture against real PostgreSQL and Kafka: watermark, overlap window, soft delete."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cdc_sync.state.store import StateStore
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
