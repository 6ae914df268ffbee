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
