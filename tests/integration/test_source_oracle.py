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


def test_number_date_and_raw_keys_round_trip_on_oracle(
    oracle_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Keys written by JSON_ARRAY must find their row again; NUMBER stays exact."""
    engine = create_engine(oracle_url)
    name = f"CDC_K_{uuid.uuid4().hex[:8].upper()}"
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE {name} (ID NUMBER, DAY DATE, GUID RAW(16), AMOUNT NUMBER, "
                "PRIMARY KEY (ID, DAY, GUID))"
            )
        )
    changelog = f"CDC_LOG_{name[-8:]}"
    config = make_config(
        oracle_url,
        tables=[{"name": name, "primary_key": ["ID", "DAY", "GUID"]}],
        source={"url": oracle_url, "changelog_table": changelog},
    )
    try:
        assert cli(config, "source", "install").returncode == 0
        row = (
            "12345678901234567891, TO_DATE('2024-03-01 13:45:10', 'YYYY-MM-DD HH24:MI:SS'), "
            "HEXTORAW('0AFF')"
        )
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {name} (ID, DAY, GUID, AMOUNT) VALUES ({row}, 0.1)"))
            conn.execute(text(f"UPDATE {name} SET AMOUNT = 1234567890.123456789"))
        done = cli(config, "relay", "--once")
        assert done.returncode == 0, done.stderr
        records = read_topic(kafka_bootstrap, topic(config, name))
        assert [r.op for r in records] == ["u"]  # a key that failed to match would be a "d"
        assert records[0].key == {
            "ID": "12345678901234567891",  # beyond int64: kept as text, exact
            "DAY": "2024-03-01T13:45:10",
            "GUID": "Cv8=",
        }
        after = records[0].value["after"] if records[0].value else None
        assert after == {
            "ID": "12345678901234567891",
            "DAY": "2024-03-01T13:45:10",
            "AMOUNT": "1234567890.123456789",
        }  # GUID: binary, dropped by default
    finally:
        cli(config, "source", "uninstall", "--force")
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {name} PURGE"))
        engine.dispose()


def test_children_and_lookups_on_oracle(
    oracle_url: str, make_config: Callable[..., Path], kafka_bootstrap: str
) -> None:
    """Invariant: on Oracle, a child's move logs both parents and a lookup change reaches
    every parent using it; each parent's event carries its whole document image."""
    engine = create_engine(oracle_url)
    tag = uuid.uuid4().hex[:6].upper()
    cases, notes, codes = f"CASES_{tag}", f"NOTES_{tag}", f"CODES_{tag}"
    ddl = [
        f"CREATE TABLE {codes} (CODE VARCHAR2(10) PRIMARY KEY, CODE_NAME VARCHAR2(40))",
        f"CREATE TABLE {cases} (ID NUMBER(10) PRIMARY KEY, TITLE VARCHAR2(50), STATUS VARCHAR2(10))",
        f"CREATE TABLE {notes} (NOTE_ID NUMBER(10) PRIMARY KEY, CASE_ID NUMBER(10), BODY VARCHAR2(50))",
    ]
    with engine.begin() as conn:
        for statement in ddl:
            conn.execute(text(statement))
    table = {
        "name": cases,
        "primary_key": ["ID"],
        "children": [
            {"name": notes, "primary_key": ["NOTE_ID"], "parent_key": ["CASE_ID"], "field": "notes"}
        ],
        "lookups": [
            {"name": codes, "key": ["CODE"], "parent_columns": ["STATUS"],
             "fields": {"CODE_NAME": "status_name"}}
        ],
    }  # fmt: skip
    config = make_config(
        oracle_url, tables=[table], source={"url": oracle_url, "changelog_table": f"CDC_LOG_{tag}"}
    )
    try:
        done = cli(config, "source", "install")
        assert done.returncode == 0, done.stderr
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {codes} VALUES ('OPEN', 'Open')"))
            conn.execute(text(f"INSERT INTO {cases} VALUES (1, 'a', 'OPEN')"))
            conn.execute(text(f"INSERT INTO {cases} VALUES (2, 'b', 'OPEN')"))
            conn.execute(text(f"INSERT INTO {notes} VALUES (10, 1, 'first')"))
        assert cli(config, "relay", "--once").returncode == 0
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE {notes} SET CASE_ID = 2 WHERE NOTE_ID = 10"))
            conn.execute(text(f"UPDATE {codes} SET CODE_NAME = 'Opened' WHERE CODE = 'OPEN'"))
        done = cli(config, "relay", "--once")
        assert done.returncode == 0, done.stderr
        last = {
            k: rs[-1].value
            for k, rs in by_key(read_topic(kafka_bootstrap, topic(config, cases))).items()
        }
        one, two = last['{"ID": 1}'], last['{"ID": 2}']
        assert one is not None and two is not None
        assert one["after"]["__cdc_children"]["notes"] == []
        assert [n["BODY"] for n in two["after"]["__cdc_children"]["notes"]] == ["first"]
        labels = {f"{codes}.STATUS"}
        assert set(two["after"]["__cdc_lookups"]) == labels
        assert one["after"]["__cdc_lookups"][f"{codes}.STATUS"]["CODE_NAME"] == "Opened"
    finally:
        cli(config, "source", "uninstall", "--force")
        with engine.begin() as conn:
            for name in (notes, cases, codes):
                conn.execute(text(f"DROP TABLE {name} PURGE"))
        engine.dispose()


def test_a_verify_repair_is_logged_as_the_trigger_spells_the_key_on_oracle(
    oracle: tuple[Engine, str], oracle_url: str, make_config: Callable[..., Path]
) -> None:
    """Invariant (docs/verify.md): a repair's change-log row names its key exactly as the
    table's trigger does, so the relay holds it behind an earlier change of the same key."""
    from tests.integration.test_source_repairs import log_repairs

    engine, name = oracle
    changelog_name = f"CDC_LOG_{name[-8:]}"
    config = make_config(
        oracle_url,
        tables=[{"name": name, "primary_key": ["ID"]}],
        source={"url": oracle_url, "changelog_table": changelog_name},
    )
    assert cli(config, "source", "install").returncode == 0
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {name} (ID, NAME, STATUS) VALUES (7, 'n', 'OK')"))
    log_repairs(engine, config, [[7]])
    with engine.connect() as conn:
        spelled = conn.execute(text(f"SELECT OP, PK FROM {changelog_name} ORDER BY ID")).all()
    assert [tuple(r) for r in spelled] == [("I", spelled[0][1]), ("U", spelled[0][1])]
