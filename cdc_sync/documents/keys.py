"""Primary-key values → the values a document id is made of, the same from every source.

Bootstrap and verify read a key from the table (a NUMBER as a Decimal, a DATE as a
datetime); a Debezium record without schemas carries the same key as Debezium encodes
it (base64 unscaled bytes, ``{scale, value}``, an epoch number). The table's ``fields``
type of a key column decodes it exactly as it decodes the column's value, so both give
one id. A key that is an object or an array is refused: its text would be an id no
other source gives, unless it is Debezium's structured time (``objects``).
"""

from __future__ import annotations

from typing import Any

from cdc_sync.config import FieldSpec
from cdc_sync.documents.objects import object_value
from cdc_sync.events.debezium import decimal_from
from cdc_sync.events.times import from_epoch


def needs_decoding(spec: FieldSpec | None) -> bool:
    """Whether a key column's values go through `key_value` (else they are used as they are)."""
    return spec is not None and (spec.type == "decimal" or spec.unit is not None)


def key_value(column: str, value: Any, spec: FieldSpec | None) -> Any:
    """The id part of one key value. Raises ValueError with a reason naming the column."""
    if spec is not None and value is not None:
        try:
            value = _decoded(value, spec)
        except (ValueError, ArithmeticError) as exc:
            raise ValueError(f"primary-key column {column} ({spec.type}): {exc}") from None
    if isinstance(value, dict):
        field = spec.name if spec is not None else column.lower()
        try:
            value = object_value(column, field, value, typed_decimal=False)
        except ValueError as exc:
            raise ValueError(f"primary-key column {column}: {exc}") from None
    if isinstance(value, dict | list):
        kind = "an object" if isinstance(value, dict) else "an array"
        raise ValueError(f"primary-key column {column}: {kind} cannot be part of a document id")
    return value


def _decoded(value: Any, spec: FieldSpec) -> Any:
    if spec.type == "decimal":  # an int is its own exact number (the relay's common key)
        return value if value.__class__ is int else decimal_from(value, spec.scale)
    if spec.unit is not None and value.__class__ is int:
        return from_epoch(value, spec.unit)
    return value
