"""Oracle Free (testcontainers): source install, relay and timestamp capture.

These run wherever a Docker engine answers; elsewhere the `oracle_url` fixture skips them.
"""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.integration.relay_helpers import by_key, cli, read_topic

pytestmark = [pytest.mark.oracle, pytest.mark.stack]


@pytest.fixture
def oracle(oracle_url: str) -> Iterator[tuple[Engine, str]]:
    engine = create_engine(oracle_url)
    name = f"CDC_T_{uuid.uuid4().hex[:8].upper()}"
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE {name} (ID NUMBER(10) PRIMARY KEY, NAME VARCHAR2(50), "
                "STATUS VARCHAR2(10), MODIFIED TIMESTAMP, DEL_YN CHAR(1) DEFAULT 'N')"
            )
        )
    yield engine, name
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {name} PURGE"))
    engine.dispose()


def topic(config: Path, table: str) -> str:
    return f"{tomllib.loads(config.read_text())['kafka']['topic_prefix']}.{table}"


def test_install_relay_and_key_change_on_oracle(
    oracle: tuple[Engine, str],
    oracle_url: str,
    make_config: Callable[..., Path],
    kafka_bootstrap: str,
) -> None:
    engine, name = oracle
    changelog = f"CDC_LOG_{name[-8:]}"
    config = make_config(
        oracle_url,
        tables=[{"name": name, "primary_key": ["ID"], "filter": "STATUS <> 'DRAFT'"}],
        source={"url": oracle_url, "changelog_table": changelog},
    )
    printed = cli(config, "source", "print")
    assert printed.returncode == 0, printed.stderr
    assert "FOR EACH ROW" in printed.stdout and printed.stdout.rstrip().endswith("/")
    for _ in range(2):  # idempotent
        done = cli(config, "source", "install")
        assert done.returncode == 0, done.stderr
    with engine.begin() as conn:
        for i in (1, 2, 3):
            conn.execute(
                text(f"INSERT INTO {name} (ID, NAME, STATUS) VALUES (:i, :n, 'OK')"),
                {"i": i, "n": f"n{i}"},
            )
    assert cli(config, "relay", "--once").returncode == 0
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {name} SET NAME = 'renamed' WHERE ID = 1"))
        conn.execute(text(f"DELETE FROM {name} WHERE ID = 2"))
        conn.execute(text(f"UPDATE {name} SET ID = 4 WHERE ID = 3"))
        conn.execute(text(f"UPDATE {name} SET STATUS = 'DRAFT' WHERE ID = 4"))
        txids = conn.execute(text(f"SELECT COUNT(DISTINCT TXID) FROM {changelog}")).scalar_one()
    assert txids == 1  # one transaction id for the whole transaction
    done = cli(config, "relay", "--once")
    assert done.returncode == 0, done.stderr
    ops = {
        k: [r.op for r in rs]
        for k, rs in by_key(read_topic(kafka_bootstrap, topic(config, name))).items()
    }
    assert ops == {
        '{"ID": 1}': ["c", "u"],
        '{"ID": 2}': ["c", "d", "tombstone"],
        '{"ID": 3}': ["c", "d", "tombstone"],
        '{"ID": 4}': ["d", "tombstone"],  # created outside the filter
    }
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT COUNT(*) FROM {changelog}")).scalar_one() == 0
    done = cli(config, "source", "uninstall")
    assert done.returncode == 0, done.stderr
    with engine.connect() as conn:
        left = conn.execute(
            text("SELECT COUNT(*) FROM USER_TRIGGERS WHERE TABLE_NAME = :t"), {"t": name}
        ).scalar_one()
    assert left == 0


def test_timestamp_capture_on_oracle(
    oracle: tuple[Engine, str],
    oracle_url: str,
    make_config: Callable[..., Path],
    kafka_bootstrap: str,
) -> None:
    engine, name = oracle
    table = {
        "name": name,
        "primary_key": ["ID"],
        "capture": "timestamp",
        "modified_column": "MODIFIED",
        "soft_delete": {"column": "DEL_YN", "value": "Y"},
    }
    config = make_config(oracle_url, tables=[table], relay={"batch_size": 2, "overlap_s": 5})
    with engine.begin() as conn:
        for i in range(1, 6):
            conn.execute(
                text(
                    f"INSERT INTO {name} (ID, NAME, STATUS, MODIFIED) VALUES "
                    "(:i, 'n', 'OK', TIMESTAMP '2024-01-01 00:00:00' + NUMTODSINTERVAL(:i, 'MINUTE'))"
                ),
                {"i": i},
            )
    assert cli(config, "relay", "--once").returncode == 0
    with engine.begin() as conn:
        conn.execute(
            text(
                f"UPDATE {name} SET DEL_YN = 'Y', MODIFIED = TIMESTAMP '2024-01-01 00:10:00' "
                "WHERE ID = 2"
            )
        )
    assert cli(config, "relay", "--once").returncode == 0
    ops = {
        k: [r.op for r in rs]
        for k, rs in by_key(read_topic(kafka_bootstrap, topic(config, name))).items()
    }
    assert ops['{"ID": 2}'] == ["u", "d", "tombstone"]
    assert ops['{"ID": 1}'] == ["u"]
    assert ops['{"ID": 5}'] == ["u", "u"]  # the restart re-reads the overlap window
