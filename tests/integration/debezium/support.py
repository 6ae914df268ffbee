"""A real Kafka Connect worker with Debezium's PostgreSQL connector, for end-to-end tests.

Connector configs for the three converter setups users run, a small client of
Connect's REST API, and the replication-slot hygiene every test relies on: a
slot left behind pins WAL forever and ten of them exhaust max_replication_slots.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from cdc_sync.database_url import normalise_url

Setup = Literal["json", "flattened", "avro"]
SETUPS: tuple[Setup, ...] = ("json", "flattened", "avro")
NAME_PREFIX = "cdcsynctest"  # connectors, slots and publications the tests create


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.25)


def converters(setup: Setup, registry_url: str) -> dict[str, str]:
    """Converter (and SMT) settings of one setup, as a connector config fragment."""
    if setup == "avro":
        apicurio = registry_url.replace("/apis/ccompat/v7", "/apis/registry/v2")
        config: dict[str, str] = {}
        for side in ("key", "value"):
            config |= {
                f"{side}.converter": "io.apicurio.registry.utils.converter.AvroConverter",
                f"{side}.converter.apicurio.registry.url": apicurio,
                f"{side}.converter.apicurio.registry.auto-register": "true",
                f"{side}.converter.apicurio.registry.find-latest": "true",
                # Confluent wire format: magic byte and a 4-byte id the
                # Confluent-compatible API (/apis/ccompat/v7) resolves.
                f"{side}.converter.apicurio.registry.as-confluent": "true",
                f"{side}.converter.apicurio.registry.use-id": "contentId",
                f"{side}.converter.apicurio.registry.headers.enabled": "false",
            }
        return config
    config = {
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "key.converter.schemas.enable": "true",
        "value.converter.schemas.enable": "true",
    }
    if setup == "flattened":
        config |= {
            "value.converter.decimal.format": "NUMERIC",
            "transforms": "unwrap",
            "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
            "transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
            "transforms.unwrap.add.fields": "op,lsn",
        }
    return config


@dataclass(frozen=True)
class PostgresCapture:
    """What one Debezium PostgreSQL connector captures, and the names it owns."""

    name: str  # connector, slot and publication share it
    pg_url: str  # postgresql://user@host:port/db
    table: str  # in schema public
    topic_prefix: str
    partitions: int = 6

    @property
    def topic(self) -> str:
        return f"{self.topic_prefix}.public.{self.table}"

    def config(self, setup: Setup, registry_url: str) -> dict[str, str]:
        url = make_url(self.pg_url)
        return {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "tasks.max": "1",
            "plugin.name": "pgoutput",
            "database.hostname": url.host or "127.0.0.1",
            "database.port": str(url.port or 5432),
            "database.user": url.username or "postgres",
            "database.password": url.password or "",
            "database.dbname": url.database or "postgres",
            "topic.prefix": self.topic_prefix,
            "table.include.list": f"public.{self.table}",
            "slot.name": self.name,
            "publication.name": self.name,
            "publication.autocreate.mode": "filtered",
            "snapshot.mode": "initial",
            # Debezium skips truncates unless told otherwise.
            "skipped.operations": "none",
            "decimal.handling.mode": "precise",
            "topic.creation.default.partitions": str(self.partitions),
            "topic.creation.default.replication.factor": "1",
            **converters(setup, registry_url),
        }


class Connect:
    """Kafka Connect's REST API (the subset the tests use)."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)

    def connectors(self) -> list[str]:
        return list(self.http.get("/connectors").raise_for_status().json())

    def create(self, name: str, config: dict[str, str]) -> None:
        self.http.put(f"/connectors/{name}/config", json=config).raise_for_status()

    def status(self, name: str) -> dict[str, Any]:
        response = self.http.get(f"/connectors/{name}/status")
        return {} if response.status_code == 404 else dict(response.raise_for_status().json())

    def wait_running(self, name: str, timeout_s: float = 60) -> None:
        def running() -> bool:
            status = self.status(name)
            tasks = status.get("tasks", [])
            failed = [t for t in tasks if t["state"] == "FAILED"]
            if failed or status.get("connector", {}).get("state") == "FAILED":
                raise AssertionError(f"connector {name} failed: {failed or status}")
            return bool(tasks) and all(t["state"] == "RUNNING" for t in tasks)

        wait_for(running, f"connector {name} running", timeout_s)

    def delete(self, name: str, timeout_s: float = 60) -> None:
        response = self.http.delete(f"/connectors/{name}")
        if response.status_code != 404:
            response.raise_for_status()
        wait_for(lambda: name not in self.connectors(), f"connector {name} deleted", timeout_s)

    def validate(self, connector_class: str, config: dict[str, str]) -> dict[str, Any]:
        path = f"/connector-plugins/{connector_class}/config/validate"
        return dict(self.http.put(path, json=config).raise_for_status().json())


def admin_engine(pg_url: str) -> Engine:
    return create_engine(normalise_url(pg_url), isolation_level="AUTOCOMMIT")


@dataclass
class SlotJanitor:
    """Drops the replication slots and publications the tests' connectors made.

    A slot can only be dropped once no walsender holds it: the connector is
    deleted first; a holder that lingers is terminated.
    """

    server_url: str  # any database of the server
    dropped: list[str] = field(default_factory=list)

    def drop(self, name: str, database_url: str | None = None) -> None:
        server = admin_engine(self.server_url)
        try:
            with server.connect() as conn:
                deadline = time.monotonic() + 30
                while True:
                    holder = conn.execute(
                        text(
                            "SELECT active_pid FROM pg_replication_slots"
                            " WHERE slot_name = :n AND active"
                        ),
                        {"n": name},
                    ).scalar()
                    if holder is None:
                        break
                    if time.monotonic() > deadline:
                        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": holder})
                    time.sleep(0.2)
                conn.execute(
                    text(
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                        " WHERE slot_name = :n"
                    ),
                    {"n": name},
                )
        finally:
            server.dispose()
        if database_url:
            database = admin_engine(database_url)
            try:
                with database.connect() as conn:
                    conn.execute(text(f'DROP PUBLICATION IF EXISTS "{name}"'))
            finally:
                database.dispose()
        self.dropped.append(name)

    def leftovers(self) -> list[str]:
        """Our slots on the server (from this run or one that was killed)."""
        server = admin_engine(self.server_url)
        try:
            with server.connect() as conn:
                return list(
                    conn.execute(
                        text("SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE :p"),
                        {"p": f"{NAME_PREFIX}%"},
                    ).scalars()
                )
        finally:
            server.dispose()
