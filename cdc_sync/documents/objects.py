"""Object values in a row: Debezium structs that lost their schema on the way.

With schemas off, a struct arrives as a plain object holding every field of its
schema. Debezium's structured time is known by those fields and decoded as its
schema would have it; a VariableScaleDecimal (``{scale, value}``) needs the column's
``type = "decimal"`` and is refused without it, never indexed as a nested object.
Other objects (a geometry, say) stay as they are.
"""

from __future__ import annotations

from typing import Any

from cdc_sync.events.structured import by_shape

_VARIABLE_SCALE = frozenset({"scale", "value"})


def object_value(column: str, field: str, value: dict[str, Any], typed_decimal: bool) -> Any:
    """The value an object stands for; ValueError (with the fix) for an untyped number."""
    decode = by_shape(value)
    if decode is not None:
        return decode({}, value)
    if not typed_decimal and value.keys() == _VARIABLE_SCALE:
        raise ValueError(
            "an object (a VariableScaleDecimal without its schema?): type it, e.g. "
            f'fields = {{ {column} = {{ name = "{field}", type = "decimal" }} }}'
        )
    return value
