"""Oracle Free (testcontainers): values python-oracledb's thin mode reads only through cdc-sync's
types, end to end (relay and bootstrap).

These run wherever a Docker engine answers; elsewhere the `oracle_url` fixture skips them.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from cdc_sync.bootstrap.reader import SourceReader
from cdc_sync.config import SourceSettings, TableSettings
from cdc_sync.source.database import create_source_engine
from tests.integration.relay_helpers import by_key, cli, read_topic

pytestmark = [pytest.mark.oracle, pytest.mark.stack]


@pytest.fixture
def zoned(oracle_url: str) -> Iterator[tuple[Engine, str]]:
    engine = create_engine(oracle_url)
    name = f"CDC_Z_{uuid.uuid4().hex[:8].upper()}"
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE {name} (ID NUMBER(10) PRIMARY KEY, "
                "TAKEN TIMESTAMP(6) WITH TIME ZONE, SEEN TIMESTAMP(6) WITH LOCAL TIME ZONE)"
            )
        )
    yield engine, name
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {name} PURGE"))
    engine.dispose()


def relayed(config: Path, kafka_bootstrap: str, name: str) -> dict[str, Any]:
    prefix = tomllib.loads(config.read_text())["kafka"]["topic_prefix"]
    records = by_key(read_topic(kafka_bootstrap, f"{prefix}.{name}"))
    return {k: rs[-1].value["after"] for k, rs in records.items() if rs[-1].value}


def test_zoned_timestamps_with_region_names_are_published_as_utc_instants(
    zoned: tuple[Engine, str],
    oracle_url: str,
    make_config: Callable[..., Path],
    kafka_bootstrap: str,
) -> None:
    """Item 4: thin mode raises DPY-3022 fetching a TSTZ stored with a region name; cdc-sync
    reads SYS_EXTRACT_UTC(col) instead, so the relay goes on and publishes the instant."""
    engine, name = zoned
    changelog = f"CDC_LOG_{name[-8:]}"
    config = make_config(
        oracle_url,
        tables=[{"name": name, "primary_key": ["ID"]}],
        source={"url": oracle_url, "changelog_table": changelog},
    )
    try:
        assert cli(config, "source", "install").returncode == 0
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO {name} VALUES (1, "
                    "TIMESTAMP '2024-03-01 13:45:10 Asia/Seoul', "
                    "TIMESTAMP '2018-03-27 01:34:56.007891 -11:00')"
                )
            )
        done = cli(config, "relay", "--once")
        assert done.returncode == 0, done.stderr
        after = relayed(config, kafka_bootstrap, name)['{"ID": 1}']
        assert after["TAKEN"] == "2024-03-01T04:45:10+00:00"  # Asia/Seoul is UTC+9 all year
        assert after["SEEN"] == "2018-03-27T12:34:56.007891+00:00"
        reader = SourceReader(
            create_source_engine(SourceSettings(url=oracle_url)),  # type: ignore[arg-type]
            TableSettings(name=name, primary_key=["ID"]),
        )
        [[row]] = list(reader.chunks(10))
        assert row["taken"] == dt.datetime(2024, 3, 1, 4, 45, 10, tzinfo=dt.UTC)
    finally:
        cli(config, "source", "uninstall", "--force")


def test_binary_floats_intervals_and_not_finite_numbers_through_the_relay(
    oracle_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Item 10: BINARY_FLOAT as its shortest decimal, INTERVAL YEAR TO MONTH as Debezium's
    string, and a NaN that refuses its row (dead-lettered by the consumer) while the relay
    goes on."""
    engine = create_engine(oracle_url)
    name = f"CDC_F_{uuid.uuid4().hex[:8].upper()}"
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE {name} (ID NUMBER(10) PRIMARY KEY, F BINARY_FLOAT, "
                "D BINARY_DOUBLE, YM INTERVAL YEAR TO MONTH)"
            )
        )
    config = make_config(
        oracle_url,
        tables=[{"name": name, "primary_key": ["ID"]}],
        source={"url": oracle_url, "changelog_table": f"CDC_LOG_{name[-8:]}"},
    )
    try:
        assert cli(config, "source", "install").returncode == 0
        with engine.begin() as conn:
            conn.execute(
                text(f"INSERT INTO {name} VALUES (1, 1.1, 2.22, INTERVAL '-3-6' YEAR TO MONTH)")
            )
            conn.execute(text(f"INSERT INTO {name} VALUES (2, 0, BINARY_DOUBLE_NAN, NULL)"))
        done = cli(config, "relay", "--once")
        assert done.returncode == 0, done.stderr
        found = relayed(config, kafka_bootstrap, name)
        assert found['{"ID": 1}'] == {"ID": 1, "F": 1.1, "D": 2.22, "YM": "P-3Y-6M0DT0H0M0S"}
        refused = found['{"ID": 2}']
        assert "D" not in refused and "non-finite number nan" in refused["__cdc_refused"]
    finally:
        cli(config, "source", "uninstall", "--force")
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {name} PURGE"))
        engine.dispose()


def test_reserved_word_table_and_columns_through_install_relay_and_bootstrap(
    oracle_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Item 2: a table and columns named with reserved words SQLAlchemy does not quote."""
    engine = create_engine(oracle_url)
    with engine.begin() as conn:
        conn.execute(
            text('CREATE TABLE "SESSION" ("ACCESS" NUMBER(10) PRIMARY KEY, "ROWS" NUMBER(10))')
        )
    config = make_config(
        oracle_url,
        tables=[{"name": "SESSION", "primary_key": ["ACCESS"]}],
        source={"url": oracle_url, "changelog_table": f"CDC_LOG_{uuid.uuid4().hex[:8].upper()}"},
    )
    try:
        done = cli(config, "source", "install")
        assert done.returncode == 0, done.stderr
        with engine.begin() as conn:
            conn.execute(text('INSERT INTO "SESSION" VALUES (1, 10)'))
        done = cli(config, "relay", "--once")
        assert done.returncode == 0, done.stderr
        assert relayed(config, kafka_bootstrap, "SESSION")['{"ACCESS": 1}'] == {
            "ACCESS": 1,
            "ROWS": 10,
        }
        reader = SourceReader(
            create_source_engine(SourceSettings(url=oracle_url)),  # type: ignore[arg-type]
            TableSettings(name="SESSION", primary_key=["ACCESS"]),
        )
        assert [list(row.values()) for rows in reader.chunks(10) for row in rows] == [[1, 10]]
    finally:
        cli(config, "source", "uninstall", "--force")
        with engine.begin() as conn:
            conn.execute(text('DROP TABLE "SESSION" PURGE'))
        engine.dispose()
