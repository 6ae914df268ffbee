"""Pure helpers on change-log rows: compaction, per-key order across relays, chunking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from cdc_sync.source.changelog import (
    Change,
    blocked_identities,
    chunks,
    epoch_ms,
    expand,
    fold,
    last_per_key,
    parse_pk,
    ready_rows,
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


PACKABLE = frozenset({"T"})


def test_a_packed_row_expands_to_one_change_per_key_spelled_as_a_one_key_row() -> None:
    """Invariant: each key of a packed row reads exactly as a one-key row of it would
    (same text), so compaction and per-key order match both forms."""
    row = change(7, "I", "[[1], [22], [333]]")
    found, taken = expand([row], PACKABLE, limit=10)
    assert taken == 1
    assert [(c.id, c.op, c.pk) for c in found] == [
        (7, "I", "[1]"),
        (7, "I", "[22]"),
        (7, "I", "[333]"),
    ]
    texts = '[[1, "a], [b"], [2, "q\\"]"], [3, "{x}"], [4, "2024-01-01T00:00:00"]]'
    keys = [c.pk for c in expand([change(8, pk=texts)], PACKABLE, limit=10)[0]]
    assert keys == ['[1, "a], [b"]', '[2, "q\\"]"]', '[3, "{x}"]', '[4, "2024-01-01T00:00:00"]']
    assert [parse_pk(k)[1] for k in keys] == ["a], [b", 'q"]', "{x}", "2024-01-01T00:00:00"]


def test_one_key_rows_and_tables_that_never_pack_stay_as_they_are() -> None:
    """Invariant: a row is read as packed only for a table whose keys are scalars."""
    rows = [change(1, pk="[5]"), change(2, pk='[5, "x"]'), change(3, pk="[[1, 2]]", table="ARR")]
    found, taken = expand(rows, PACKABLE, limit=10)
    assert taken == 3 and [c.pk for c in found] == ["[5]", '[5, "x"]', "[[1, 2]]"]


def test_a_batch_takes_whole_rows_while_its_changes_stay_within_the_limit() -> None:
    """Invariant: a batch holds at most `limit` changes unless its first row alone has
    more; the rows left out wait for the next batch, none is split."""
    rows = [change(1, pk="[[1], [2], [3]]"), change(2, pk="[4]"), change(3, pk="[[5], [6]]")]
    found, taken = expand(rows, PACKABLE, limit=4)
    assert taken == 2 and [c.pk for c in found] == ["[1]", "[2]", "[3]", "[4]"]
    assert expand(rows, PACKABLE, limit=6)[1] == 3
    found, taken = expand(rows, PACKABLE, limit=2)
    assert taken == 1 and len(found) == 3
    assert expand([], PACKABLE, limit=2) == ([], 0)


def test_a_packed_row_waits_whole_when_any_of_its_keys_is_held_elsewhere() -> None:
    """Invariant: per-key order across relays holds with packed rows on either side, and
    a row is deleted only with all of its keys published."""
    batch, _ = expand(
        [change(10, pk="[[1], [2]]"), change(11, pk="[3]"), change(12, pk="[[4], [5]]")],
        PACKABLE,
        limit=10,
    )
    older, _ = expand([change(5, pk="[[2], [9]]"), change(6, pk="[8]")], PACKABLE, limit=10)
    blocked = blocked_identities(batch, older)
    assert blocked == {("T", "[2]")}
    assert [(c.id, c.pk) for c in ready_rows(batch, blocked)] == [
        (11, "[3]"),
        (12, "[4]"),
        (12, "[5]"),
    ]
    assert blocked_identities(batch, older[2:]) == set()


def test_the_last_change_per_key_is_found_across_packed_and_one_key_rows() -> None:
    batch, _ = expand(
        [change(1, "I", "[[1], [2]]"), change(2, "U", "[2]"), change(3, "D", "[[2], [3]]")],
        PACKABLE,
        limit=10,
    )
    latest = last_per_key(batch)
    assert [(c.id, c.op, c.pk) for c in latest.values()] == [
        (1, "I", "[1]"),
        (3, "D", "[2]"),
        (3, "D", "[3]"),
    ]
