"""Oracle data-dictionary judgements, and install's reaction to what did not compile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cdc_sync.config import Settings
from cdc_sync.source import install
from cdc_sync.source.oracle.dictionary import (
    OracleColumn,
    column_problems,
    compile_errors,
    foreign_trigger,
    key_json_width,
)
from cdc_sync.source.sqlite import SqliteDialect

WHERE = "tables (APP.T)"


def problems(*columns: OracleColumn, keys: tuple[str, ...] = ("ID",), logged: bool = True) -> str:
    return "\n".join(column_problems(list(columns), list(keys), WHERE, logged_key=logged))


ID = OracleColumn("ID", "NUMBER", 22)


def test_long_columns_are_rejected_naming_the_column() -> None:
    """Oracle cannot return LONG through FETCH FIRST: refuse at start, not mid-bootstrap."""
    found = problems(ID, OracleColumn("NOTES", "LONG", 0), OracleColumn("IMG", "LONG RAW", 0))
    assert "column NOTES is LONG" in found and "column IMG is LONG RAW" in found
    assert problems(ID, OracleColumn("NOTES", "CLOB", 4000)) == ""


@pytest.mark.parametrize(
    "kind", ["TIMESTAMP(6) WITH TIME ZONE", "TIMESTAMP(6) WITH LOCAL TIME ZONE"]
)
def test_zoned_timestamp_keys_are_rejected(kind: str) -> None:
    """The logged key carries an offset, the fetched row none: every change would be a delete."""
    found = problems(OracleColumn("AT", kind, 13, 6), keys=("AT",))
    assert f"{WHERE}.primary_key: column AT is {kind}" in found
    assert problems(ID, OracleColumn("AT", kind, 13, 6)) == ""  # fine outside the key


def test_timestamp_keys_beyond_microseconds_are_rejected() -> None:
    """Digits 7-9 are lost in a Python datetime: the row could not be found again."""
    assert "TIMESTAMP(9)" in problems(OracleColumn("AT", "TIMESTAMP(9)", 11, 9), keys=("AT",))
    assert problems(OracleColumn("AT", "TIMESTAMP(6)", 11, 6), keys=("AT",)) == ""
    assert problems(OracleColumn("AT", "DATE", 7), keys=("AT",)) == ""


def test_key_json_width_is_checked_only_where_a_trigger_logs_the_key() -> None:
    """JSON_ARRAY returns at most 4000 bytes: a wider key fails the application's DML."""
    wide = (ID, OracleColumn("CODE", "VARCHAR2", 3990))
    assert key_json_width(wide) == 45 + 3992 + 1 + 2
    assert "ORA-40459" in problems(*wide, keys=("ID", "CODE"))
    assert problems(*wide, keys=("ID", "CODE"), logged=False) == ""
    assert problems(ID, OracleColumn("CODE", "VARCHAR2", 100), keys=("ID", "CODE")) == ""
    assert key_json_width([OracleColumn("G", "RAW", 16)]) == 2 + 34
    assert key_json_width([OracleColumn("T", "TIMESTAMP(6)", 11, 6)]) == 2 + 28


def test_only_our_tagged_trigger_on_the_same_table_may_be_replaced() -> None:
    tag = "cdc-sync: change capture for APP.T"
    ours = f"DECLARE\n  v_txid VARCHAR2(64);\nBEGIN\n    -- {tag}\n    NULL;\nEND;"
    assert foreign_trigger("APP.CDC_T_TRG", "APP", "T", tag, []) is None
    assert foreign_trigger("APP.CDC_T_TRG", "APP", "T", tag, [("APP", "T", ours)]) is None
    theirs = [("APP", "T", "BEGIN audit_it; END;")]
    untagged = foreign_trigger("APP.CDC_T_TRG", "APP", "T", tag, theirs)
    assert untagged and "was not created by cdc-sync" in untagged
    elsewhere = foreign_trigger("APP.CDC_T_TRG", "APP", "T", tag, [("APP", "OTHER", ours)])
    assert elsewhere and "APP.OTHER" in elsewhere
    # The truncate trigger is on a schema: ALL_TRIGGERS gives it no TABLE_NAME.
    assert foreign_trigger("APP.CDC_T_TRUNC", "APP", None, tag, [("APP", None, ours)]) is None
    on_a_table = foreign_trigger("APP.CDC_T_TRUNC", "APP", None, tag, [("APP", "T", ours)])
    assert on_a_table and "APP.T" in on_a_table
    theirs_too = foreign_trigger("APP.CDC_T_TRUNC", "APP", None, tag, [("APP", None, "BEGIN")])
    assert theirs_too and "schema APP" in theirs_too


class FakeResult:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def scalar_one_or_none(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def all(self) -> list[tuple[Any, ...]]:
        return self.rows


class FakeConnection:
    def __init__(self, status: str | None, errors: list[tuple[Any, ...]]) -> None:
        self.answers = [[(status,)] if status else [], errors]
        self.params: list[dict[str, Any]] = []

    def execute(self, statement: Any, params: dict[str, Any]) -> FakeResult:
        self.params.append(params)
        return FakeResult(self.answers.pop(0))


def test_compile_errors_read_status_then_all_errors() -> None:
    assert compile_errors(FakeConnection("VALID", []), "APP", "T", "TRIGGER") is None  # type: ignore[arg-type]
    conn = FakeConnection("INVALID", [(5, 9, "PL/SQL: ORA-00942: table or view does not exist\n")])
    errors = compile_errors(conn, "APP", "CDC_T_TRG", "TRIGGER")  # type: ignore[arg-type]
    assert errors == ["line 5, column 9: PL/SQL: ORA-00942: table or view does not exist"]
    assert conn.params[1] == {"owner": "APP", "name": "CDC_T_TRG", "kind": "TRIGGER"}
    missing = compile_errors(FakeConnection(None, []), None, "X", "TRIGGER")  # type: ignore[arg-type]
    assert missing and "missing" in missing[0]


def test_install_stops_with_the_database_errors_when_a_trigger_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`source install` must not report success while the application's writes would break."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE T (ID INTEGER PRIMARY KEY)"))
    checked: list[str] = []

    def failed(self: Any, conn: Any, table: Any) -> list[str]:
        checked.append(table.name)
        return ["trigger cdc_t_trg did not compile", "  line 1: ORA-00942"]

    monkeypatch.setattr(SqliteDialect, "failed_objects", failed)
    settings = Settings(
        source={"url": url},
        kafka={"bootstrap_servers": "x:1"},
        meilisearch={"url": "http://x"},
        tables=[{"name": "T", "primary_key": ["ID"]}],
    )  # type: ignore[arg-type]
    with pytest.raises(install.InstallError, match="ORA-00942") as raised:
        install.install(engine, settings)
    assert raised.value.exit_code != 0 and checked == ["T"]


@pytest.mark.parametrize("kind", ["NVARCHAR2", "NCHAR"])
def test_national_text_keys_count_three_bytes_a_character(kind: str) -> None:
    """NVARCHAR2(n)/NCHAR(n) hold n characters, DATA_LENGTH 2n bytes in AL16UTF16 (SQL Language
    Reference, "NVARCHAR2 Data Type"); JSON_ARRAY writes them in the database character set,
    AL32UTF8, up to 3 bytes for each of those characters (Globalization Support Guide,
    "Unicode Encodings": a UTF-16 code unit of the BMP is 1 to 3 bytes in UTF-8, a surrogate
    pair 4 bytes for two units). 1500 such characters are 4500 bytes: ORA-40459 (issue 16,
    item 10), though a count of 2 bytes a character took them for 3002."""
    key = [OracleColumn("K", kind, 3000)]  # NVARCHAR2(1500)
    assert key_json_width(key) == 2 + 4500 + 2
    problems = column_problems(key, ["K"], "tables[0] (T)", logged_key=True)
    assert [p for p in problems if "4504 bytes" in p and "ORA-40459" in p]
