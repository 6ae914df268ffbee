"""Configured column names → a row's columns, and columns that differ only in case.

Oracle keeps a quoted ``"Name"`` apart from ``NAME``, PostgreSQL a quoted ``"Name"`` apart
from ``name``. Without `fields` every column is indexed under its lower-cased name, so such
twins would become one field and one value would be lost: refused, naming both columns and
the `fields` entry that keeps them apart. One rule for every capture mode, at start where
the schema is known (`source.schema`) and at the first row otherwise (`documents.mapping`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class AmbiguousColumn(ValueError):
    """A configured name that matches case twins only case-insensitively."""


def resolve(columns: Sequence[str], wanted: str) -> str | None:
    """The column a configured name means: the one of that exact spelling; else the one that
    matches ignoring case; among case twins, the one spelled as the database stores the name
    unquoted (upper case on Oracle, lower case on PostgreSQL; SQLAlchemy reflects both in
    lower case). None when no column matches; `AmbiguousColumn` when twins remain."""
    if wanted in columns:
        return wanted
    matches = [name for name in columns if name.upper() == wanted.upper()]
    if len(matches) <= 1:
        return matches[0] if matches else None
    unquoted = [name for name in matches if name in (wanted.upper(), wanted.lower())]
    if len(unquoted) == 1:
        return unquoted[0]
    raise AmbiguousColumn(
        f"column {wanted} could be {' or '.join(matches)}, which differ only in case: "
        "write it as the database spells it"
    )


def case_twins(columns: Iterable[str]) -> list[list[str]]:
    """Groups of columns whose names differ only in case, in column order."""
    groups: dict[str, list[str]] = {}
    for name in columns:
        groups.setdefault(name.lower(), []).append(name)
    return [group for group in groups.values() if len(group) > 1]


def twins_problem(twins: list[str], where: str) -> str:
    """Why the twins are refused, and the `fields` entry that indexes both."""
    field = twins[0].lower()
    entry = ", ".join(f'{_toml_key(column)} = "{name}"' for column, name in _apart(twins))
    return (
        f"{where}: columns {' and '.join(twins)} differ only in case and would both be "
        f"indexed as field {field!r}, one value lost; name them apart in fields, e.g. "
        f"fields = {{ {entry} }} (with fields, only the columns listed are indexed)"
    )


def _apart(twins: list[str]) -> list[tuple[str, str]]:
    """Field names for the twins: the lower-cased name for the first, each other's own
    spelling (Meilisearch field names are case-sensitive), numbered where that is taken."""
    taken: set[str] = set()
    named = []
    for column in twins:
        name = column.lower() if not taken else re.sub(r"[^A-Za-z0-9_]", "_", column)
        base, n = name, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(name)
        named.append((column, name))
    return named


def _toml_key(column: str) -> str:
    return column if _BARE_KEY.fullmatch(column) else f'"{column}"'
