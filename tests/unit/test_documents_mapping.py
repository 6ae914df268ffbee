from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cdc_sync.config import TableSettings
from cdc_sync.documents.mapping import (
    Delete,
    MappingError,
    Upsert,
    document_for_row,
    operation_for_event,
    operation_for_row,
)
from cdc_sync.events.model import UNAVAILABLE, ChangeEvent
from cdc_sync.sink.ids import document_id

ROW = {
    "ID": Decimal("7"),
    "CASE_NO": "C-7",
    "TITLE": "Leak",
    "STATUS": "OPEN",
    "DEL_YN": "N",
    "MODIFIED_DATE": dt.datetime(2024, 5, 1, 12, 0, 0),
    "PHOTO": b"\x89PNG",
}


def table(**kwargs: object) -> TableSettings:
    return TableSettings.model_validate({"name": "CRASIVTTST", "primary_key": ["ID"], **kwargs})


def test_without_mapping_every_column_is_indexed_lower_cased() -> None:
    op = document_for_row(table(), ROW)
    assert op == Upsert(
        "7",
        {
            "id": "7",
            "case_no": "C-7",
            "title": "Leak",
            "status": "OPEN",
            "del_yn": "N",
            "modified_date": "2024-05-01T12:00:00",
        },
    )


def test_mapping_selects_renames_and_converts() -> None:
    t = table(
        fields={
            "TITLE": "title",
            "MODIFIED_DATE": {"name": "modified_at", "type": "epoch"},
            "PHOTO": {"name": "photo", "type": "base64"},
        }
    )
    op = document_for_row(t, ROW)
    assert isinstance(op, Upsert)
    assert op.document == {
        "title": "Leak",
        "modified_at": 1714564800,
        "photo": "iVBORw==",
        "id": "7",
    }


def test_columns_match_case_insensitively() -> None:
    row = {k.lower(): v for k, v in ROW.items()}
    op = document_for_row(table(fields={"TITLE": "title"}), row)
    assert op == Upsert("7", {"title": "Leak", "id": "7"})


def test_id_field_and_key_columns() -> None:
    t = table(primary_key=["CASE_NO", "ID"], id_field="doc_id", fields={"TITLE": "t"})
    op = document_for_row(t, ROW)
    expected_id = document_id(["C-7", 7])
    assert op == Upsert(
        expected_id, {"t": "Leak", "case_no": "C-7", "id": 7, "doc_id": expected_id}
    )


def test_soft_delete_becomes_delete() -> None:
    t = table(soft_delete={"column": "DEL_YN", "value": "Y"})
    assert document_for_row(t, {**ROW, "DEL_YN": "Y"}) == Delete("7")
    assert isinstance(document_for_row(t, ROW), Upsert)


def test_excluded_columns() -> None:
    op = document_for_row(table(exclude=["TITLE", "STATUS", "DEL_YN", "MODIFIED_DATE"]), ROW)
    assert op == Upsert("7", {"id": "7", "case_no": "C-7"})


def test_unavailable_columns_make_a_partial_update() -> None:
    t = table(fields={"TITLE": "title"}, capture="debezium")
    op = document_for_row(t, {"ID": 7, "TITLE": UNAVAILABLE})
    assert op == Upsert("7", {"id": "7"}, partial=True)


def test_unconvertible_value_is_a_mapping_error() -> None:
    t = table(fields={"TITLE": {"name": "title", "type": "integer"}})
    with pytest.raises(MappingError, match="column TITLE"):
        document_for_row(t, ROW)


def test_missing_key_column() -> None:
    with pytest.raises(MappingError, match="primary-key column ID"):
        document_for_row(table(), {"TITLE": "x"})


def test_events() -> None:
    t = table(fields={"TITLE": "title"})
    assert operation_for_event(t, ChangeEvent("d", {"ID": 7})) == Delete("7")
    upsert = operation_for_event(t, ChangeEvent("u", {"ID": 7}, after={"TITLE": "x"}))
    assert upsert == Upsert("7", {"title": "x", "id": "7"})


@pytest.mark.parametrize("row", [ROW, {**ROW, "DEL_YN": "Y"}, {**ROW, "TITLE": UNAVAILABLE}])
def test_a_row_with_its_key_maps_as_its_event_does(row: dict[str, object]) -> None:
    """Invariant: the consumer's fast path (operation_for_row) gives the event's operation."""
    t = table(soft_delete={"column": "DEL_YN", "value": "Y"})
    event = ChangeEvent(op="u", key={"ID": 7}, after=row)
    assert operation_for_row(t, row) == operation_for_event(t, event)


def test_a_row_without_its_key_needs_the_event() -> None:
    row = {k: v for k, v in ROW.items() if k != "ID"}
    assert operation_for_row(table(), row) is None
