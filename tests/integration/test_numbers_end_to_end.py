"""Golden numbers through the real services: the documents Meilisearch returns hold the same digits.

``verify`` cannot catch a rounding (it maps source and index alike), so these
tests read the documents back from Meilisearch and compare them with the golden
table: trigger capture on PostgreSQL (relay → Kafka → consumer), bootstrap from
the same table, and Debezium JSON events with their Connect schema.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from sqlalchemy import create_engine, text

from cdc_sync.config import load_settings
from cdc_sync.documents.mapping import dumps
from cdc_sync.kafka.admin import ensure_topics
from cdc_sync.sink.numbers import exact as exact_float
from cdc_sync.sink.numbers import held, reads_back
from tests.conftest import unique
from tests.integration.cli_support import run_cli
from tests.integration.consumer_support import index_documents, produce_raw
from tests.unit.test_events_numbers import GOLDEN, debezium_decimal, exact
from tests.unit.test_sink_numbers import random_doubles

pytestmark = pytest.mark.stack


def assert_golden(documents: dict[str, dict[str, Any]], offset: int = 0) -> None:
    wrong = []
    for i, (source, expected) in enumerate(GOLDEN, start=offset):
        found = documents[str(i)]["n"]
        if not exact(found, expected):
            wrong.append(f"{source} -> {found!r} (want {expected!r})")
    assert not wrong, "\n".join(wrong)


def test_trigger_capture_and_bootstrap_keep_every_digit(
    pg_url: str, make_config: Callable[..., Path], meili: meilisearch.Client, index_uid: str
) -> None:
    """Invariant: a PostgreSQL NUMERIC reaches the index with the same digits (relay and bootstrap)."""
    name = unique("nums").upper()
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE TABLE "{name.lower()}" (id integer PRIMARY KEY, n numeric)'))
    table = {"name": name, "primary_key": ["ID"], "index": index_uid}
    config = make_config(pg_url, tables=[table])
    assert run_cli(config, "source", "install").returncode == 0
    with engine.begin() as conn:
        for i, (source, _) in enumerate(GOLDEN):
            conn.execute(
                text(f'INSERT INTO "{name.lower()}" VALUES (:i, :n)'),
                {"i": i, "n": Decimal(source)},
            )
    for command in (("relay", "--once"), ("consume", "--until-caught-up")):
        done = run_cli(config, *command, timeout_s=180)
        assert done.returncode == 0, done.stderr
    assert_golden(index_documents(meili, index_uid))

    cleared = meili.index(index_uid).delete_all_documents()
    meili.wait_for_task(cleared.task_uid, timeout_in_ms=30_000)
    done = run_cli(config, "bootstrap", timeout_s=180)
    assert done.returncode == 0, done.stderr
    assert_golden(index_documents(meili, index_uid))
    engine.dispose()


def _debezium_value(i: int, source: str) -> bytes:
    unscaled, scale = debezium_decimal(source)
    decimal = {
        "type": "bytes",
        "optional": True,
        "name": "org.apache.kafka.connect.data.Decimal",
        "parameters": {"scale": str(scale)},
        "field": "N",
    }
    row_schema = {
        "type": "struct",
        "optional": True,
        "fields": [{"type": "int32", "field": "ID"}, decimal],
    }
    schema = {
        "type": "struct",
        "fields": [
            {**row_schema, "field": "before"},
            {**row_schema, "field": "after"},
            {"type": "string", "field": "op"},
        ],
    }
    payload = {"before": None, "after": {"ID": i, "N": unscaled}, "op": "c"}
    return json.dumps({"schema": schema, "payload": payload}).encode()


def test_debezium_decimals_keep_every_digit(
    sqlite_url: str, make_config: Callable[..., Path], meili: meilisearch.Client, index_uid: str
) -> None:
    """Invariant: a Connect Decimal (base64 unscaled bytes + scale) reaches the index exactly."""
    table = {"name": "NUMS", "primary_key": ["ID"], "index": index_uid, "capture": "debezium"}
    config = make_config(sqlite_url, tables=[table])
    settings = load_settings(config)
    topic = settings.topic_of(settings.tables[0])
    ensure_topics(settings.kafka, [topic])
    key = (
        b'{"schema":{"type":"struct","fields":[{"type":"int32","field":"ID"}]},"payload":{"ID":%d}}'
    )
    produce_raw(
        settings.kafka.bootstrap_servers,
        [(topic, key % i, _debezium_value(i, source)) for i, (source, _) in enumerate(GOLDEN)],
    )
    done = run_cli(config, "consume", "--until-caught-up", timeout_s=180)
    assert done.returncode == 0, done.stderr
    assert_golden(index_documents(meili, index_uid))


def test_meilisearch_holds_the_same_doubles(meili: meilisearch.Client, index_uid: str) -> None:
    """Invariant: a float column's doubles come back from Meilisearch as sent (its parser is modelled)."""
    values = [*random_doubles(5000, seed=21), -957020.5894681823, 1e-130, 5e-324]
    docs = [{"id": i, "f": exact_float(v)} for i, v in enumerate(values)]
    task = meili.index(index_uid).add_documents_raw(dumps(docs), "id", "application/json")
    meili.wait_for_task(task.task_uid, timeout_in_ms=60_000)
    found = {int(k): d["f"] for k, d in index_documents(meili, index_uid).items()}
    assert [found[i] for i in range(len(values))] == [held(v) for v in values]
    same = sum(found[i] == v for i, v in enumerate(values))
    assert same >= len(values) * 0.995, f"only {same} of {len(values)} doubles held exactly"
    assert sum(not reads_back(v) for v in values) > 500  # the shortest spelling would fail these
