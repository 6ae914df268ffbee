"""Row images → events, and the keyset/watermark helpers of timestamp capture."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, Numeric, String, Table
from sqlalchemy.dialects import oracle

from cdc_sync.config import TableSettings
from cdc_sync.documents.mapping import is_soft_deleted as mapping_soft_deleted
from cdc_sync.events.decode import decode_record
from cdc_sync.events.encode import encode, encode_key
from cdc_sync.events.position import Position, position_of
from cdc_sync.source.images import delete_event, is_soft_deleted, match_key, row_event
from cdc_sync.source.keyset import after_key
from cdc_sync.source.schema import CapturedTable
from cdc_sync.source.timestamp import dump_value, load_value, shift


def captured(**settings: object) -> CapturedTable:
    table = Table(
        "t",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("code", String(5), primary_key=True),
        Column("price", Numeric(10, 2)),
        Column("blob", LargeBinary),
        Column("modified", DateTime),
        Column("del_yn", String(1)),
    )
    config = TableSettings(name="T", primary_key=["ID", "CODE"], **settings)  # type: ignore[arg-type]
    names = {c.name: c.name.upper() for c in table.c}
    return CapturedTable(config, table, list(table.primary_key.columns), names)


def test_row_event_uses_key_names_from_config_and_converts_values() -> None:
    table = captured()
    row = {"ID": 1, "CODE": "a", "PRICE": Decimal("2.50"), "BLOB": b"x", "MODIFIED": None}
    event = row_event(table, "u", row, change_id=7, ts_ms=5)
    assert event.key == {"ID": 1, "CODE": "a"}
    assert event.after == {"ID": 1, "CODE": "a", "PRICE": 2.5, "MODIFIED": None}
    assert (event.op, event.table, event.change_id, event.ts_ms) == ("u", "T", 7, 5)


def test_delete_event_has_only_the_key() -> None:
    event = delete_event(captured(), [Decimal("3"), "b"], 9, None)
    assert event.key == {"ID": 3, "CODE": "b"} and event.after is None and event.is_delete


def test_key_match_is_equal_for_log_and_row_spellings() -> None:
    aware = dt.datetime(2024, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert match_key([aware]) == match_key([dt.datetime(2024, 1, 1, tzinfo=dt.UTC)])
    assert match_key([Decimal("4"), "x"]) == match_key([4, "x"])


def test_soft_delete_matches_the_configured_value() -> None:
    table = captured(soft_delete={"column": "DEL_YN", "value": "Y"})
    assert is_soft_deleted(table, {"DEL_YN": "Y"})
    assert not is_soft_deleted(table, {"DEL_YN": "N"})
    assert not is_soft_deleted(table, {"DEL_YN": None})


def test_soft_delete_on_a_char_column_compares_blank_padded() -> None:
    """A CHAR(3) flag holds 'Y  ': Oracle's blank-padded comparison says it equals 'Y'."""
    table = captured(soft_delete={"column": "DEL_YN", "value": "Y"})
    assert is_soft_deleted(table, {"DEL_YN": "Y  "})
    assert not is_soft_deleted(table, {"DEL_YN": "N  "})
    settings = table.settings
    assert mapping_soft_deleted(settings, {"ID": 1, "DEL_YN": "Y  "})  # the consumer's rule
    assert not mapping_soft_deleted(settings, {"ID": 1, "DEL_YN": " Y"})


def test_keyset_position_is_spelt_out_for_oracle() -> None:
    table = captured()
    columns = [table.table.c.modified, table.table.c.id, table.table.c.code]
    sql = str(after_key(columns, [1, 2, 3]).compile(dialect=oracle.dialect()))  # type: ignore[no-untyped-call]
    assert sql == (
        "t.modified >= :modified_1 AND (t.modified > :modified_2 OR t.modified = :modified_3 "
        "AND t.id > :id_1 OR t.modified = :modified_4 AND t.id = :id_2 AND t.code > :code_1)"
    )


def test_overlap_and_watermark_round_trip() -> None:
    moment = dt.datetime(2024, 1, 1, 0, 0, 10)
    assert shift(moment, 5) == dt.datetime(2024, 1, 1, 0, 0, 5)
    assert shift(dt.date(2024, 1, 2), 5) == dt.date(2024, 1, 1)
    assert shift(100, 5) == 95 and shift(Decimal("10.5"), 0.5) == Decimal("10.0")
    for value in (moment, dt.date(2024, 1, 1), Decimal("1.25"), 42):
        assert load_value(dump_value(value)) == value


def test_encoded_keys_are_the_standard_encoders_bytes() -> None:
    """Invariant: a key's bytes (its partition) are the same as the standard JSON encoder's."""
    keys: list[dict[str, Any]] = [
        {"ID": 42},
        {"ID": -(2**63), "CASE_NO": "C-1"},
        {"ID": 2**70},
        {"K": 'é\n"\\\x00\x1f\x7f\u2028😀'},
        {"A": None, "B": True},
        {"F": 1e-07, "G": 1.5},
    ]
    for key in keys:
        assert (
            encode_key(key) == json.dumps(key, separators=(",", ":"), ensure_ascii=False).encode()
        )


def test_a_truncate_is_one_record_without_a_key_as_debezium_writes_it() -> None:
    """Debezium's PostgreSQL connector documentation, "truncate events"
    (documentation/modules/ROOT/pages/connectors/postgresql.adoc): "The message key is
    `null` in this case", the value has ``op`` ``t`` and the usual ``source``; no tombstone
    follows (there is no key to compact)."""
    from cdc_sync.source.images import truncate_event

    event = truncate_event(captured(), change_id=41, ts_ms=1_700_000_000_000)
    [(key, value)] = encode(event, now_ms=1_700_000_000_500)
    assert key is None and value is not None
    payload = json.loads(value)
    assert payload["op"] == "t" and payload["before"] is None and payload["after"] is None
    assert payload["source"] == {
        "connector": "cdc-sync",
        "table": "T",
        "change_id": 41,
        "ts_ms": 1_700_000_000_000,
    }
    decoded = decode_record(key, value)
    assert decoded.op == "t" and decoded.key == {} and decoded.table == "T"
    assert position_of(decoded) == Position("cdc-sync", (41,))  # ordered like Debezium's
