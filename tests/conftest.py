"""Session-wide fixtures on the real local stack (dev/stack): Kafka, Meilisearch, PostgreSQL.

The stack is started (or reused) once per test session. Every test gets fresh
names (topics, indexes, databases), so tests never see each other's data.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import meilisearch
import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from sqlalchemy import create_engine, text

from cdc_sync.database_url import normalise_url

ROOT = Path(__file__).resolve().parent.parent
STACK_VARS = ("KAFKA_BOOTSTRAP_SERVERS", "MEILI_URL", "MEILI_MASTER_KEY", "PG_URL", "KAFKA_BIN")


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def stack() -> dict[str, str]:
    """The stack's addresses; starts it with dev/stack up unless the environment has them."""
    if all(os.environ.get(v) for v in STACK_VARS):
        return {v: os.environ[v] for v in STACK_VARS}
    done = subprocess.run(
        [str(ROOT / "dev" / "stack"), "up"], capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        pytest.fail(f"dev/stack up failed:\n{done.stderr[-3000:]}")
    found = dict(re.findall(r"^export (\w+)=['\"]?(.*?)['\"]?$", done.stdout, re.M))
    missing = [v for v in STACK_VARS if v not in found]
    if missing:
        pytest.fail(f"dev/stack up printed no value for {missing}")
    os.environ.update({v: found[v] for v in STACK_VARS})
    return {v: found[v] for v in STACK_VARS}


def stack_up(*components: str) -> dict[str, str]:
    """``dev/stack up COMPONENT…`` (reuses what runs); the export lines it prints."""
    done = subprocess.run(
        [str(ROOT / "dev" / "stack"), "up", *components],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        pytest.fail(f"dev/stack up {' '.join(components)} failed:\n{done.stderr[-3000:]}")
    return dict(re.findall(r"^export (\w+)=['\"]?(.*?)['\"]?$", done.stdout, re.M))


@pytest.fixture(scope="session")
def schema_registry(stack: dict[str, str]) -> str:
    """The Confluent-compatible API of the stack's Apicurio Registry (started on demand)."""
    url = stack_up("registry").get("SCHEMA_REGISTRY_URL")
    if not url:
        pytest.fail("dev/stack up registry printed no SCHEMA_REGISTRY_URL")
    return url


@pytest.fixture(scope="session")
def kafka_bootstrap(stack: dict[str, str]) -> str:
    return stack["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture(scope="session")
def kafka_admin(kafka_bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": kafka_bootstrap})


@pytest.fixture
def make_topic(kafka_admin: AdminClient) -> Iterator[Callable[..., str]]:
    """Create a fresh topic: ``make_topic(partitions=6, name=None)``; deleted afterwards."""
    created: list[str] = []

    def make(partitions: int = 1, name: str | None = None) -> str:
        topic = name or unique("t").replace("_", "-")
        kafka_admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)
        created.append(topic)
        return topic

    yield make
    if created:
        for future in kafka_admin.delete_topics(created).values():
            with contextlib.suppress(Exception):
                future.result(30)


@pytest.fixture
def topic_name() -> str:
    """A fresh topic name that does not exist yet."""
    return unique("t").replace("_", "-")


@pytest.fixture(scope="session")
def meili(stack: dict[str, str]) -> meilisearch.Client:
    client = meilisearch.Client(stack["MEILI_URL"], stack["MEILI_MASTER_KEY"], timeout=30)
    client.health()
    return client


@pytest.fixture
def index_uid(meili: meilisearch.Client) -> Iterator[str]:
    """A fresh index uid (not created); the index is deleted after the test."""
    uid = unique("idx")
    yield uid
    with contextlib.suppress(Exception):
        meili.delete_index(uid)


@pytest.fixture(scope="module")
def pg_url(stack: dict[str, str]) -> Iterator[str]:
    """A fresh PostgreSQL database for the test module; dropped afterwards."""
    name = unique("db").lower()
    admin = create_engine(
        normalise_url(stack["PG_URL"]),
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=True,  # the fault suite restarts PostgreSQL under this module's tests
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = stack["PG_URL"].rpartition("/")
    yield f"{base}/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'source.db'}"


@pytest.fixture
def kafka_bin(stack: dict[str, str]) -> Path:
    return Path(stack["KAFKA_BIN"])


@pytest.fixture
def make_config(tmp_path: Path, stack: dict[str, str]) -> Callable[..., Path]:
    """Write a TOML config pointing at the stack; returns its path.

    ``make_config(source_url, tables=[{...}], **sections)``; each extra section
    is a dict merged over the defaults (kafka, meilisearch, consumer, ...).
    """

    def make(source_url: str, tables: list[dict[str, Any]] | None = None, **sections: Any) -> Path:
        import tomli_w

        config: dict[str, Any] = {
            "source": {"url": source_url},
            "kafka": {
                "bootstrap_servers": stack["KAFKA_BOOTSTRAP_SERVERS"],
                "topic_prefix": unique("cdc"),
                "group_id": unique("group"),
                "dead_letter_topic": unique("dlq"),
                "partitions": 3,
            },
            "meilisearch": {"url": stack["MEILI_URL"], "api_key": stack["MEILI_MASTER_KEY"]},
            "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
            "http": {"enabled": False},
            "tables": tables or [],
        }
        for section, values in sections.items():
            config[section] = {**config.get(section, {}), **values}
        path = tmp_path / f"{unique('config')}.toml"
        path.write_bytes(tomli_w.dumps(config).encode())
        return path

    return make


def docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def oracle_url() -> Iterator[str]:
    """Oracle Free through testcontainers; skipped where no Docker engine answers."""
    if not docker_available():
        pytest.skip(
            "Oracle tests need a Docker engine (testcontainers Oracle Free); none answers here"
        )
    from testcontainers.oracle import OracleDbContainer

    with OracleDbContainer("gvenzl/oracle-free:23-slim-faststart") as oracle:
        yield oracle.get_connection_url()
