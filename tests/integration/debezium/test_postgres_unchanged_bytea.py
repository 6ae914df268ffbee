"""An unchanged TOASTed bytea through the real Debezium PostgreSQL connector, per binary mode.

PostgreSQL leaves an unchanged TOASTed value out of an UPDATE's new row, and Debezium
sends ``unavailable.value.placeholder`` in its place (postgresql.adoc, "Toasted values").
How the placeholder looks depends on ``binary.handling.mode`` (PostgresValueConverter.java
1712-1738): in ``bytes`` mode it is the placeholder's bytes (base64 in JSON), in ``hex``
mode the placeholder text itself (RecordsStreamProducerIT.java:1952-1969,
shouldHandleToastedByteaColumnInHexMode). The consumer must leave the indexed bytea as it
is. In ``base64`` and ``base64-url-safe`` modes the connector has no placeholder case
(convertBinaryToBase64 and convertBinaryToBase64UrlSafe pass the marker on, and the
converter writes null): the value is lost in the event unless the table has
``REPLICA IDENTITY FULL``, with which PostgreSQL sends the whole old and new rows
(postgresql.adoc, "Toasted values", first rule). docs/debezium.md says so.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import meilisearch
import pytest
import tomli_w
from confluent_kafka import Consumer

from tests.integration.debezium.pipeline import Pipeline
from tests.integration.debezium.support import (
    NAME_PREFIX,
    Connect,
    PostgresCapture,
    SlotJanitor,
    admin_engine,
    wait_for,
)

pytestmark = [pytest.mark.debezium, pytest.mark.stack]

BODY = os.urandom(24_000)  # random: PostgreSQL cannot compress it below the TOAST threshold
CUSTOM = "??unchanged??"


@dataclass(frozen=True)
class Case:
    binary: str
    schemas: bool
    placeholder: str | None  # None: Debezium's default, not configured anywhere
    identity: str  # the table's REPLICA IDENTITY

    def __str__(self) -> str:
        schemas = "schemas" if self.schemas else "schemaless"
        return (
            f"{self.binary}-{schemas}-{'custom' if self.placeholder else 'default'}-{self.identity}"
        )

    def spelled(self, data: bytes) -> str:
        """The bytea as the binary mode sends it, as the document holds it (type base64)."""
        if self.binary == "hex":
            return data.hex()
        if self.binary == "base64-url-safe":
            return base64.urlsafe_b64encode(data).decode()
        return base64.b64encode(data).decode()


CASES = [
    Case("hex", schemas=True, placeholder=None, identity="DEFAULT"),
    Case("bytes", schemas=False, placeholder=CUSTOM, identity="DEFAULT"),
    Case("base64", schemas=True, placeholder=None, identity="FULL"),
]


def connector_config(case: Case, capture: PostgresCapture, registry: str) -> dict[str, str]:
    config = capture.config("json", registry)
    config["binary.handling.mode"] = case.binary
    config["topic.creation.default.partitions"] = "1"
    if case.placeholder is not None:
        config["unavailable.value.placeholder"] = case.placeholder
    if not case.schemas:
        config["key.converter.schemas.enable"] = "false"
        config["value.converter.schemas.enable"] = "false"
    return config


def cdc_sync_config(
    path: Path, case: Case, capture: PostgresCapture, stack: dict[str, str]
) -> Path:
    table: dict[str, Any] = {
        "name": capture.table,
        "schema": "public",
        "primary_key": ["id"],
        "capture": "debezium",
        "topic": capture.topic,
        "index": capture.name,
        "fields": {"id": "id", "n": "n", "data": {"name": "data", "type": "base64"}},
    }
    kafka: dict[str, Any] = {
        "bootstrap_servers": stack["KAFKA_BOOTSTRAP_SERVERS"],
        "topic_prefix": capture.topic_prefix,
        "group_id": f"{capture.name}-group",
        "dead_letter_topic": f"{capture.name}-dlq",
        "partitions": 1,
    }
    if case.placeholder is not None:
        kafka["unavailable_value_placeholder"] = case.placeholder
    config = {
        "source": {"url": capture.pg_url},
        "kafka": kafka,
        "meilisearch": {"url": stack["MEILI_URL"], "api_key": stack["MEILI_MASTER_KEY"]},
        "state": {"url": f"sqlite:///{path.parent / 'state.db'}"},
        "http": {"enabled": False},
        "tables": [table],
    }
    path.write_bytes(tomli_w.dumps(config).encode())
    return path


def _table_sql(identity: str) -> list[str]:
    return [
        "CREATE TABLE public.{table} (id bigint PRIMARY KEY, n integer NOT NULL, data bytea)",
        "ALTER TABLE public.{table} ALTER COLUMN data SET STORAGE EXTERNAL",  # out of line
        f"ALTER TABLE public.{{table}} REPLICA IDENTITY {identity}",
        "INSERT INTO public.{table} (id, n, data) VALUES (1, 0, :data)",
    ]


OpenLine = Callable[[Case], contextlib.AbstractContextManager[Pipeline]]


@pytest.fixture
def open_line(
    connect: Connect,
    slot_janitor: SlotJanitor,
    debezium_stack: dict[str, str],
    pg_url: str,
    meili: meilisearch.Client,
    tmp_path: Path,
) -> OpenLine:
    """A connector for `case` on a one-row table, a consumer, the snapshot and one UPDATE
    of the other column applied; everything dropped afterwards."""

    @contextlib.contextmanager
    def open_case(case: Case) -> Iterator[Pipeline]:
        name = f"{NAME_PREFIX}_bytea_{uuid.uuid4().hex[:8]}"
        capture = PostgresCapture(name, pg_url, table=name, topic_prefix=name, partitions=1)
        config = cdc_sync_config(tmp_path / "cdc-sync.toml", case, capture, debezium_stack)
        line = Pipeline("json", capture, config, name, admin_engine(pg_url), meili, debezium_stack)
        line.sql(*_table_sql(case.identity), data=BODY)
        try:
            connect.create(
                name, connector_config(case, capture, debezium_stack["SCHEMA_REGISTRY_URL"])
            )
            connect.wait_running(name)
            line.start_consumer()
            line.wait_consumed(1, timeout_s=120)  # the snapshot's row
            line.sql("UPDATE public.{table} SET n = 1 WHERE id = 1")
            line.wait_consumed(2, timeout_s=120)
            yield line
        finally:
            if line.consumer is not None:
                line.consumer.kill()
            connect.delete(name)
            slot_janitor.drop(name, pg_url)
            line.sql("DROP TABLE IF EXISTS public.{table}")
            line.source.dispose()
            with contextlib.suppress(Exception):
                meili.delete_index(name)

    return open_case


@pytest.mark.parametrize("case", CASES, ids=str)
def test_an_unchanged_toasted_bytea_keeps_its_indexed_value(
    case: Case, open_line: OpenLine
) -> None:
    """Invariant: after an UPDATE that leaves the TOASTed bytea alone, the document still
    holds the bytea (as the binary mode spells it) and the new value of the other column."""
    with open_line(case) as line:
        document = line.documents([1])[1]
        assert document["n"] == 1
        assert document.get("data") == case.spelled(BODY)
        assert line.dead_letters() == 0


def test_base64_mode_sends_null_for_an_unchanged_toasted_bytea(open_line: OpenLine) -> None:
    """Debezium's own behaviour, which docs/debezium.md warns about: with the default
    replica identity, base64 mode puts null where the placeholder belongs, so no consumer
    can tell it from a real NULL (REPLICA IDENTITY FULL avoids it, the case above)."""
    with open_line(Case("base64", schemas=True, placeholder=None, identity="DEFAULT")) as line:
        consumer = Consumer(
            {
                "bootstrap.servers": line.stack["KAFKA_BOOTSTRAP_SERVERS"],
                "group.id": f"{line.capture.name}-probe",
                "auto.offset.reset": "earliest",
            }
        )
        try:
            consumer.subscribe([line.capture.topic])
            values: list[dict[str, Any]] = []
            wait_for(lambda: _poll(consumer, values) >= 2, "the snapshot and the update", 60)
        finally:
            consumer.close()
        read, update = (v["payload"] for v in values[:2])
        assert read["op"] == "r" and read["after"]["data"] == base64.b64encode(BODY).decode()
        assert update["op"] == "u" and update["after"]["n"] == 1
        assert update["after"]["data"] is None


def _poll(consumer: Consumer, into: list[dict[str, Any]]) -> int:
    message = consumer.poll(1)
    if message is not None and message.error() is None and message.value() is not None:
        into.append(json.loads(message.value()))
    return len(into)
