"""Oracle Free (testcontainers): values python-oracledb's thin mode reads only through cdc-sync's
types, and names only cdc-sync's quoting reaches, end to end (relay and bootstrap).

These run wherever a Docker engine answers; elsewhere the `oracle_url` fixture skips them.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from cdc_sync.bootstrap.reader import SourceReader
from cdc_sync.config import SourceSettings, TableSettings
from cdc_sync.source.database import create_source_engine
from tests.integration.relay_helpers import by_key, cli, read_topic

pytestmark = [pytest.mark.oracle, pytest.mark.stack]


@contextmanager
def captured(
    oracle_url: str, make_config: Callable[..., Path], name: str, columns: str, key: str
) -> Iterator[tuple[Engine, Path]]:
    """Table `name` (`columns`, DDL), captured by triggers; dropped with them afterwards."""
    engine = create_engine(oracle_url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE {name} ({columns})"))
    config = make_config(
        oracle_url,
        tables=[{"name": name.strip('"'), "primary_key": [key]}],
        source={"url": oracle_url, "changelog_table": f"CDC_LOG_{uuid.uuid4().hex[:8].upper()}"},
    )
    try:
        done = cli(config, "source", "install")
        assert done.returncode == 0, done.stderr
        yield engine, config
    finally:
        cli(config, "source", "uninstall", "--force")
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {name} PURGE"))
        engine.dispose()


def relayed(config: Path, kafka_bootstrap: str, name: str) -> dict[str, Any]:
    """`relay --once`, then the last row image of each key on the table's topic."""
    done = cli(config, "relay", "--once")
    assert done.returncode == 0, done.stderr
    prefix = tomllib.loads(config.read_text())["kafka"]["topic_prefix"]
    records = by_key(read_topic(kafka_bootstrap, f"{prefix}.{name}"))
    return {k: rs[-1].value["after"] for k, rs in records.items() if rs[-1].value}


def read_back(oracle_url: str, name: str, key: str) -> list[dict[str, Any]]:
    """The table's rows as bootstrap and verify read them."""
    engine = create_source_engine(SourceSettings(url=oracle_url))  # type: ignore[arg-type]
    reader = SourceReader(engine, TableSettings(name=name, primary_key=[key]))
    return [row for rows in reader.chunks(10) for row in rows]


def test_zoned_timestamps_with_region_names_are_published_as_utc_instants(
    oracle_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Item 4: thin mode raises DPY-3022 fetching a TSTZ stored with a region name; cdc-sync
    reads SYS_EXTRACT_UTC(col) instead, so the relay goes on and publishes the instant."""
    name = f"CDC_Z_{uuid.uuid4().hex[:8].upper()}"
    columns = (
        "ID NUMBER(10) PRIMARY KEY, TAKEN TIMESTAMP(6) WITH TIME ZONE, "
        "SEEN TIMESTAMP(6) WITH LOCAL TIME ZONE"
    )
    with captured(oracle_url, make_config, name, columns, "ID") as (engine, config):
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"INSERT INTO {name} VALUES (1, "
                    "TIMESTAMP '2024-03-01 13:45:10 Asia/Seoul', "
                    "TIMESTAMP '2018-03-27 01:34:56.007891 -11:00')"
                )
            )
        after = relayed(config, kafka_bootstrap, name)['{"ID": 1}']
        assert after["TAKEN"] == "2024-03-01T04:45:10+00:00"  # Asia/Seoul is UTC+9 all year
        assert after["SEEN"] == "2018-03-27T12:34:56.007891+00:00"
        [row] = read_back(oracle_url, name, "ID")
        assert row["taken"] == dt.datetime(2024, 3, 1, 4, 45, 10, tzinfo=dt.UTC)


def test_binary_floats_intervals_and_not_finite_numbers_through_the_relay(
    oracle_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Item 10: BINARY_FLOAT as its shortest decimal, INTERVAL YEAR TO MONTH as Debezium's
    string, and a NaN that refuses its row (dead-lettered by the consumer) while the relay
    goes on."""
    name = f"CDC_F_{uuid.uuid4().hex[:8].upper()}"
    columns = (
        "ID NUMBER(10) PRIMARY KEY, F BINARY_FLOAT, D BINARY_DOUBLE, YM INTERVAL YEAR TO MONTH"
    )
    with captured(oracle_url, make_config, name, columns, "ID") as (engine, config):
        with engine.begin() as conn:
            conn.execute(
                text(f"INSERT INTO {name} VALUES (1, 1.1, 2.22, INTERVAL '-3-6' YEAR TO MONTH)")
            )
            conn.execute(text(f"INSERT INTO {name} VALUES (2, 0, BINARY_DOUBLE_NAN, NULL)"))
        found = relayed(config, kafka_bootstrap, name)
        assert found['{"ID": 1}'] == {"ID": 1, "F": 1.1, "D": 2.22, "YM": "P-3Y-6M0DT0H0M0S"}
        refused = found['{"ID": 2}']
        assert "D" not in refused and "non-finite number nan" in refused["__cdc_refused"]


def test_reserved_word_table_and_columns_through_install_relay_and_bootstrap(
    oracle_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Item 2: a table and columns named with reserved words SQLAlchemy does not quote."""
    columns = '"ACCESS" NUMBER(10) PRIMARY KEY, "ROWS" NUMBER(10)'
    with captured(oracle_url, make_config, '"SESSION"', columns, "ACCESS") as (engine, config):
        with engine.begin() as conn:
            conn.execute(text('INSERT INTO "SESSION" VALUES (1, 10)'))
        found = relayed(config, kafka_bootstrap, "SESSION")
        assert found['{"ACCESS": 1}'] == {"ACCESS": 1, "ROWS": 10}
        assert [list(row.values()) for row in read_back(oracle_url, "SESSION", "ACCESS")] == [
            [1, 10]
        ]
