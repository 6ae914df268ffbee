"""Composed documents: parent row + children + lookups → one document (pure)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cdc_sync.config import TableSettings
from cdc_sync.documents.compose import composed_row, refused_row
from cdc_sync.documents.fields import MappingError
from cdc_sync.documents.mapping import Delete, Upsert, document_for_row

CASES: dict[str, Any] = {
    "name": "CRASIVTTST",
    "primary_key": ["ID"],
    "fields": {"TITLE": "title", "STATUS": "status"},
    "soft_delete": {"column": "DEL_YN", "value": "Y"},
    "children": [
        {
            "name": "CRASIVTTST_NOTE",
            "primary_key": ["NOTE_ID"],
            "parent_key": ["CASE_ID"],
            "field": "notes",
            "fields": {
                "NOTE_TEXT": "text",
                "CREATED_AT": {"name": "created_at", "type": "epoch"},
            },
            "order_by": ["CREATED_AT"],
            "max_children": 3,
        }
    ],
    "lookups": [
        {
            "name": "STATUS_CODE",
            "key": ["CODE"],
            "parent_columns": ["STATUS"],
            "fields": {"CODE_NAME": "status_name"},
        }
    ],
}


def table(**changes: Any) -> TableSettings:
    return TableSettings(**{**CASES, **changes})


def parent(**values: Any) -> dict[str, Any]:
    return {"ID": 7, "TITLE": "Leak", "STATUS": "OPEN", "DEL_YN": "N", **values}


def note(note_id: int, text: str) -> dict[str, Any]:
    created = dt.datetime(2024, 1, note_id, tzinfo=dt.UTC)
    return {"NOTE_ID": note_id, "CASE_ID": 7, "NOTE_TEXT": text, "CREATED_AT": created}


def test_children_become_an_array_and_lookups_flattened_fields() -> None:
    row = composed_row(
        parent(),
        {"notes": [note(1, "first"), note(2, "second")]},
        {"STATUS_CODE.STATUS": {"CODE": "OPEN", "CODE_NAME": "Open"}},
    )
    op = document_for_row(table(), row)
    assert isinstance(op, Upsert)
    assert op.document == {
        "id": "7",
        "title": "Leak",
        "status": "OPEN",
        "status_name": "Open",
        "notes": [
            {"note_id": 1, "text": "first", "created_at": 1704067200},
            {"note_id": 2, "text": "second", "created_at": 1704153600},
        ],
    }


def test_relay_json_images_and_database_rows_give_the_same_document() -> None:
    """The invariant: stream (JSON values) and bootstrap (database values) agree."""
    raw = composed_row(parent(), {"notes": [note(1, "a")]}, {"STATUS_CODE.STATUS": None})
    as_json = composed_row(
        parent(),
        {"notes": [{**note(1, "a"), "CREATED_AT": "2024-01-01T00:00:00+00:00"}]},
        {"STATUS_CODE.STATUS": None},
    )
    assert document_for_row(table(), raw) == document_for_row(table(), as_json)


def test_missing_lookup_row_gives_null_fields_and_missing_children_an_empty_array() -> None:
    op = document_for_row(table(), composed_row(parent(), {}, {}))
    assert isinstance(op, Upsert)
    assert op.document["notes"] == []
    assert op.document["status_name"] is None


def test_more_children_than_the_limit_is_refused_with_the_reason() -> None:
    row = composed_row(parent(), {"notes": [note(i, "x") for i in range(1, 5)]}, {})
    with pytest.raises(MappingError, match=r"4 rows .* more than max_children = 3"):
        document_for_row(table(), row)


def test_a_document_past_the_size_limit_is_refused() -> None:
    row = composed_row(parent(TITLE="x" * 2000), {}, {})
    with pytest.raises(MappingError, match="larger than max_document_bytes = 1024"):
        document_for_row(table(max_document_bytes=1024), row)


def test_a_refused_image_from_the_relay_carries_its_reason() -> None:
    with pytest.raises(MappingError, match="too many"):
        document_for_row(table(), refused_row(parent(), "too many"))


def test_soft_deleted_parent_is_a_delete_whatever_its_children() -> None:
    row = composed_row(parent(DEL_YN="Y"), {"notes": [note(1, "a")]}, {})
    assert document_for_row(table(), row) == Delete("7")


def test_without_fields_the_related_keys_are_not_columns() -> None:
    op = document_for_row(table(fields=None), composed_row(parent(), {}, {}))
    assert isinstance(op, Upsert)
    assert not [k for k in op.document if k.startswith("__")]
