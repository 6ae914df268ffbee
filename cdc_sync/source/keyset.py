"""Keyset position predicates shared by bootstrap, verify and timestamp polling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, or_


def after_key(columns: Sequence[ColumnElement[Any]], last: Sequence[Any]) -> ColumnElement[bool]:
    """``(c1, c2, ...) > (v1, v2, ...)`` in lexicographic order, spelt out for every dialect.

    Oracle has no row-value comparison, so the order is an OR of ANDs. An OR
    gives no index a range to start from, so a composite key also gets the
    redundant leading ``c1 >= v1``: the index range scan starts at the
    position instead of at the beginning of the index.
    """
    if len(columns) != len(last) or not columns:
        raise ValueError("keyset needs one value per key column")
    branches = []
    for i, column in enumerate(columns):
        equal = [columns[j] == last[j] for j in range(i)]
        branches.append(and_(*equal, column > last[i]))
    if len(columns) == 1:
        return branches[0]
    return and_(columns[0] >= last[0], or_(*branches))
