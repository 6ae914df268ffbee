"""Record keys without schemas: the same document id as bootstrap and verify compute.

With ``key.converter.schemas.enable=false`` an Oracle NUMBER(38,0) key (``INTEGER`` is
NUMBER(38,0), a Decimal in BYTES: oracle.adoc, "Mappings for Oracle numeric data types",
rows ``INTEGER`` and ``NUMBER(P, S <= 0)`` with P - S >= 19) arrives as base64 of its
unscaled bytes: 1004 is ``{"ID": "A+w="}`` (0x03EC). A ``NUMBER`` key (no precision) is a
VariableScaleDecimal, ``{"ID": {"scale": 0, "value": "A+w="}}`` (same table, row
``NUMBER[(P[, *])]``). A DATE key is an epoch number of milliseconds
(io.debezium.time.Timestamp, "Temporal types", adaptive mode). The table's ``fields``
types decode the key as they decode the row, so bootstrap (which reads 1004 from the
table) and the stream agree; a key that cannot be decoded is a dead letter, never a
different id.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from cdc_sync.config import TableSettings
from cdc_sync.documents.mapping import (
    Delete,
    MappingError,
    Upsert,
    document_for_row,
    operation_for_event,
)
from cdc_sync.events.decode import decode_record

NUMBER_KEY = {"ID": {"name": "id", "type": "decimal", "scale": 0}}


def table(fields: dict[str, Any] | None, primary_key: tuple[str, ...] = ("ID",)) -> TableSettings:
    return TableSettings.model_validate(
        {"name": "ITEMS", "primary_key": list(primary_key), "capture": "debezium", "fields": fields}
    )


def bootstrap_id(settings: TableSettings, row: dict[str, Any]) -> str:
    """The id bootstrap and verify give the row they read from the table."""
    op = document_for_row(settings, row)
    assert isinstance(op, Upsert)
    return op.doc_id


def record(key: Any, value: Any) -> tuple[bytes, bytes | None]:
    return json.dumps(key).encode(), None if value is None else json.dumps(value).encode()


def envelope(op: str, row: dict[str, Any]) -> dict[str, Any]:
    before, after = (row, None) if op == "d" else (None, row)
    return {"before": before, "after": after, "source": {"connector": "oracle"}, "op": op}


@pytest.mark.parametrize(
    ("fields", "wire"),
    [
        pytest.param(NUMBER_KEY, "A+w=", id="number-38-base64"),
        pytest.param(
            {"ID": {"name": "id", "type": "decimal"}},
            {"scale": 0, "value": "A+w="},
            id="number-variable-scale",
        ),
        # decimal.handling.mode=double / string (SpecialValueDecimal): no type needed
        pytest.param(None, 1004.0, id="double-mode"),
        pytest.param(None, "1004", id="string-mode"),
        pytest.param({"ID": {"name": "id", "type": "decimal"}}, "1004", id="string-mode-typed"),
    ],
)
def test_every_operation_gets_bootstraps_id(fields: Any, wire: Any) -> None:
    settings = table(fields)
    expected = bootstrap_id(settings, {"ID": Decimal("1004"), "NAME": "x"})
    assert expected == "1004"
    key = {"ID": wire}
    row = {"ID": wire, "NAME": "x"}
    for op in ("c", "u", "r"):
        upsert = operation_for_event(settings, decode_record(*record(key, envelope(op, row))))
        assert isinstance(upsert, Upsert) and upsert.doc_id == expected
    delete = decode_record(*record(key, envelope("d", row)))
    tombstone = decode_record(*record(key, None))
    flattened = decode_record(*record(key, {**row, "__deleted": "true"}))
    for event in (delete, tombstone, flattened):
        assert operation_for_event(settings, event) == Delete(expected)


def test_a_composite_key_decodes_each_part() -> None:
    fields = {**NUMBER_KEY, "AT": {"name": "at", "unit": "millis"}}
    settings = table(fields, primary_key=("ID", "AT"))
    source_row = {"ID": Decimal(1004), "AT": dt.datetime(2018, 3, 27)}  # DATE: a datetime
    key = {"ID": "A+w=", "AT": 1522108800000}  # AbstractOracleDatatypesTest.java:226
    expected = bootstrap_id(settings, source_row)
    event = decode_record(*record(key, None))
    assert operation_for_event(settings, event) == Delete(expected)
    upsert = operation_for_event(settings, decode_record(*record(key, envelope("u", key))))
    assert isinstance(upsert, Upsert) and upsert.doc_id == expected


@pytest.mark.parametrize(
    ("fields", "wire", "reason"),
    [
        pytest.param(
            None,
            {"scale": 0, "value": "A+w="},
            "primary-key column ID: an object (a VariableScaleDecimal without its schema?): "
            'type it, e.g. fields = { ID = { name = "id", type = "decimal" } }',
            id="untyped-variable-scale",
        ),
        pytest.param(None, [1, 2], "primary-key column ID: an array", id="array"),
        pytest.param(
            NUMBER_KEY, "not base64!", "primary-key column ID (decimal): not base64", id="bad"
        ),
        pytest.param(
            {"ID": {"name": "id", "type": "decimal"}},
            "A+w=",
            "primary-key column ID (decimal): ",
            id="base64-without-scale",
        ),
        pytest.param(
            {"ID": {"name": "id", "type": "decimal"}},
            {"scale": 0},
            "primary-key column ID (decimal): expected {scale, value}",
            id="variable-scale-without-value",
        ),
    ],
)
def test_a_key_that_cannot_be_decoded_is_a_dead_letter(fields: Any, wire: Any, reason: str) -> None:
    settings = table(fields)
    key = {"ID": wire}
    for value in (None, envelope("d", key), envelope("c", key)):
        event = decode_record(*record(key, value))
        with pytest.raises(MappingError) as caught:
            operation_for_event(settings, event)
        assert str(caught.value).startswith(reason), str(caught.value)
