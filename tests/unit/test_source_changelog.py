"""Pure helpers on change-log rows: compaction, per-key order across relays, chunking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cdc_sync.source.changelog import (
    Change,
    blocked_identities,
    chunks,
    epoch_ms,
    fold,
    last_per_key,
    parse_pk,
)


def change(id_: int, op: str = "U", pk: str = "[1]", table: str = "T") -> Change:
    return Change(id_, table, op, pk)  # type: ignore[arg-type]


def test_last_change_per_key_wins() -> None:
    batch = [change(1, "I"), change(2, "I", "[2]"), change(3, "U"), change(4, "D", "[1]", "U2")]
    latest = last_per_key(batch)
    assert [c.id for c in latest.values()] == [2, 3, 4]
    assert latest[("T", "[1]")].op == "U"


def test_keys_with_earlier_rows_outside_the_batch_wait() -> None:
    batch = [change(10, pk="[1]"), change(11, pk="[2]")]
    older = [change(5, pk="[1]"), change(10, pk="[1]"), change(12, pk="[2]"), change(6, pk="[3]")]
    assert blocked_identities(batch, older) == {("T", "[1]")}


def test_chunks_hold_at_most_1000() -> None:
    sizes = [len(c) for c in chunks(list(range(2501)))]
    assert sizes == [1000, 1000, 501]
    assert list(chunks([])) == []


def test_pk_json_keeps_numbers_exact() -> None:
    assert parse_pk('[1, "a", 2.50]') == [1, "a", Decimal("2.50")]


def test_epoch_ms() -> None:
    assert epoch_ms("2024-01-01T00:00:00.5Z") == 1704067200500
    assert epoch_ms(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)) == 1704067200000
    assert epoch_ms(dt.datetime(2024, 1, 1)) == 1704067200000
    assert epoch_ms(None) is None


def test_fold() -> None:
    assert fold("CDC_CHANGE_LOG") == "cdc_change_log"
    assert fold("items") == "items"
    assert fold("MixedCase") == "MixedCase"


def test_parse_pk_keeps_every_digit_of_fractions_and_big_integers() -> None:
    assert parse_pk("[12, 9223372036854775807]") == [12, 9223372036854775807]
    assert parse_pk("[123456789012345678901234567890]") == [123456789012345678901234567890]
    assert parse_pk('[0.1, 1e3, "x.e"]') == [Decimal("0.1"), Decimal("1e3"), "x.e"]
    assert all(type(v) is not float for v in parse_pk("[1.5, 18446744073709551616]"))
