"""Columns whose names differ only in case are distinct columns, never one field.

Oracle stores unquoted names in upper case and keeps quoted names as written, so ``NAME``
and ``"Name"`` are two columns (oracle.adoc, "Topic names" note: "Oracle is case-insensitive
for schema and table names by default, storing them in uppercase when created unless
quoted"; Oracle Database SQL Language Reference, "Database Object Naming Rules": a quoted
identifier is case-sensitive). PostgreSQL folds unquoted names to lower case, so ``name``
and ``"Name"`` are two columns (PostgreSQL docs, 4.1.1 "Identifiers and Key Words").
Debezium's row images carry the names as the database stores them. The names SQLAlchemy's
reflection gives are taken from SQLAlchemy itself (its Oracle dialect's normalize_name).
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.dialects.oracle.base import OracleDialect
from sqlalchemy.dialects.postgresql.base import PGDialect

from cdc_sync.config import TableSettings
from cdc_sync.documents.mapping import MappingError, Upsert, document_for_row
from cdc_sync.source.schema import find_column, twin_problems

ORACLE_ROW = {"ID": 1, "NAME": "unquoted", "Name": "quoted"}  # ID, NAME, "Name"
POSTGRES_ROW = {"id": 1, "name": "unquoted", "Name": "quoted"}  # id, name, "Name"


def _table(**extra: Any) -> TableSettings:
    return TableSettings.model_validate({"name": "CUSTOMERS", "primary_key": ["ID"], **extra})


def _suggested_fields(message: str) -> dict[str, Any]:
    """The `fields = { … }` entry the refusal proposes, read as TOML."""
    found = re.search(r"fields = (\{[^}]*\})", message)
    assert found, message
    return dict(tomllib.loads(f"fields = {found.group(1)}")["fields"])


@pytest.mark.parametrize(
    ("row", "twins"),
    [(ORACLE_ROW, "NAME and Name"), (POSTGRES_ROW, "name and Name")],
    ids=["oracle", "postgresql"],
)
def test_twins_without_fields_are_refused_naming_both_and_the_fields_entry(
    row: dict[str, Any], twins: str
) -> None:
    with pytest.raises(MappingError) as caught:
        document_for_row(_table(), row)
    message = str(caught.value)
    assert f"columns {twins} differ only in case" in message and "'name'" in message
    fields = _suggested_fields(message)
    op = document_for_row(_table(fields=fields), row)
    assert isinstance(op, Upsert)
    assert {op.document[fields[c]] for c in fields} == {"unquoted", "quoted"}


@pytest.mark.parametrize("row", [ORACLE_ROW, POSTGRES_ROW], ids=["oracle", "postgresql"])
def test_fields_named_as_the_database_folds_unquoted_names_resolve_twins(
    row: dict[str, Any],
) -> None:
    """`NAME` and `name` both mean the unquoted column (Oracle's NAME, PostgreSQL's name)."""
    for unquoted in ("NAME", "name"):
        op = document_for_row(_table(fields={unquoted: "plain", "Name": "mixed"}), row)
        assert isinstance(op, Upsert)
        assert (op.document["plain"], op.document["mixed"]) == ("unquoted", "quoted")


def test_excluding_twins_leaves_no_collision() -> None:
    op = document_for_row(_table(exclude=["name"]), POSTGRES_ROW)
    assert isinstance(op, Upsert) and "name" not in op.document and "Name" not in op.document


def test_a_configured_name_that_matches_twins_only_ignoring_case_is_refused() -> None:
    """Oracle ``NAME`` and ``"name"``: `Name` could be either."""
    row = {"ID": 1, "NAME": "unquoted", "name": "quoted lower"}
    with pytest.raises(MappingError, match="column Name could be NAME or name"):
        document_for_row(_table(fields={"Name": "n"}), row)


def _reflected(dialect: Any, stored: list[str]) -> Table:
    """A table as SQLAlchemy's reflection names its columns, stored names given (dialects
    that fold names up, as Oracle, normalize them: ``requires_name_normalize``)."""
    names = [dialect.normalize_name(n) if dialect.requires_name_normalize else n for n in stored]
    columns = [Column(n, Integer if n.upper() == "ID" else String(20)) for n in names]
    return Table("customers", MetaData(), *columns)


@pytest.mark.parametrize(
    ("dialect", "stored"),
    [(OracleDialect(), ["ID", "NAME", "Name"]), (PGDialect(), ["id", "name", "Name"])],
    ids=["oracle", "postgresql"],
)
def test_reflected_twins_are_refused_at_start_and_the_fields_entry_works(
    dialect: Any, stored: list[str]
) -> None:
    table = _reflected(dialect, stored)
    problems = twin_problems("tables[0] (CUSTOMERS)", _table(), table, dialect)
    [problem] = problems
    assert problem.startswith("tables[0] (CUSTOMERS).fields: columns ")
    fields = _suggested_fields(problem)
    assert twin_problems("tables[0]", _table(fields=fields), table, dialect) == []
    found = {find_column(table, configured).name for configured in fields}  # type: ignore[union-attr]
    assert len(found) == 2  # each entry finds its own column
    assert find_column(table, "NAME") is not find_column(table, "Name")
