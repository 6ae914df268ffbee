"""Oracle reserved words as column and table names: quoted wherever cdc-sync names them.

SQLAlchemy's Oracle dialect quotes only the words of its own list
(sqlalchemy/dialects/oracle/base.py, RESERVED_WORDS); a column created as
``"ROWS"`` is reflected as ``rows`` and rendered unquoted, which Oracle
rejects (ORA-01747 / ORA-00904). cdc-sync extends the list on every Oracle
engine before anything is reflected.
"""

from __future__ import annotations

import pytest
from sqlalchemy.dialects.oracle.base import RESERVED_WORDS as SQLALCHEMY_RESERVED

from cdc_sync.bootstrap.keyset import chunk_query
from cdc_sync.source.images import image_query
from tests.unit.oracle_typed import oracle_engine, reflect
from tests.unit.type_paths import captured

# Oracle Database SQL Language Reference 19c, appendix "Oracle SQL Reserved Words and
# Keywords", section "Oracle SQL Reserved Words"
# (docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/Oracle-SQL-Reserved-Words.html;
# the same list in 12.2 and 11.2, where PRIVILEGES was still listed). COLUMN_VALUE and
# NESTED_TABLE_ID are reserved as attribute names (note 1), ROWID as a column name (note 2).
DOCUMENTED = [
    "ACCESS",
    "ADD",
    "ALL",
    "ALTER",
    "AND",
    "ANY",
    "AS",
    "ASC",
    "AUDIT",
    "BETWEEN",
    "BY",
    "CHAR",
    "CHECK",
    "CLUSTER",
    "COLUMN",
    "COLUMN_VALUE",
    "COMMENT",
    "COMPRESS",
    "CONNECT",
    "CREATE",
    "CURRENT",
    "DATE",
    "DECIMAL",
    "DEFAULT",
    "DELETE",
    "DESC",
    "DISTINCT",
    "DROP",
    "ELSE",
    "EXCLUSIVE",
    "EXISTS",
    "FILE",
    "FLOAT",
    "FOR",
    "FROM",
    "GRANT",
    "GROUP",
    "HAVING",
    "IDENTIFIED",
    "IMMEDIATE",
    "IN",
    "INCREMENT",
    "INDEX",
    "INITIAL",
    "INSERT",
    "INTEGER",
    "INTERSECT",
    "INTO",
    "IS",
    "LEVEL",
    "LIKE",
    "LOCK",
    "LONG",
    "MAXEXTENTS",
    "MINUS",
    "MLSLABEL",
    "MODE",
    "MODIFY",
    "NESTED_TABLE_ID",
    "NOAUDIT",
    "NOCOMPRESS",
    "NOT",
    "NOWAIT",
    "NULL",
    "NUMBER",
    "OF",
    "OFFLINE",
    "ON",
    "ONLINE",
    "OPTION",
    "OR",
    "ORDER",
    "PCTFREE",
    "PRIOR",
    "PRIVILEGES",
    "PUBLIC",
    "RAW",
    "RENAME",
    "RESOURCE",
    "REVOKE",
    "ROW",
    "ROWID",
    "ROWNUM",
    "ROWS",
    "SELECT",
    "SESSION",
    "SET",
    "SHARE",
    "SIZE",
    "SMALLINT",
    "START",
    "SUCCESSFUL",
    "SYNONYM",
    "SYSDATE",
    "TABLE",
    "THEN",
    "TO",
    "TRIGGER",
    "UID",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USER",
    "VALIDATE",
    "VALUES",
    "VARCHAR",
    "VARCHAR2",
    "VIEW",
    "WHENEVER",
    "WHERE",
    "WITH",
]


def test_sqlalchemy_misses_some_documented_words() -> None:
    """Why cdc-sync keeps its own list: the issue's examples are not in SQLAlchemy's."""
    missing = set(DOCUMENTED) - SQLALCHEMY_RESERVED
    assert {"ACCESS", "FILE", "MODIFY", "ROWS", "ROWNUM", "SESSION", "SYSDATE"} <= missing


@pytest.mark.parametrize("word", DOCUMENTED)
def test_every_documented_reserved_word_keeps_its_quotes(word: str) -> None:
    """Reflected as stored (upper case) and rendered quoted, as Oracle stores it."""
    dialect = oracle_engine().dialect
    reflected = dialect.normalize_name(word)
    assert reflected == word
    assert dialect.identifier_preparer.quote(reflected) == f'"{word}"'


def test_reads_quote_reserved_column_and_table_names() -> None:
    engine = oracle_engine()
    columns = [("ACCESS", "NUMBER(10)"), ("ROWS", "NUMBER(10)"), ("SIZE", "VARCHAR2(40)")]
    table = reflect("SESSION", columns, ["ACCESS"], engine=engine)
    spelling = {c.name: str(c.name) for c in table.c} | {table.name: "SESSION"}
    captured_table = captured(table, spelling)
    for statement in (image_query(captured_table), chunk_query(table, [table.c.ACCESS], 10)):
        sql = str(statement.compile(dialect=engine.dialect))
        assert 'app."SESSION"."ROWS"' in sql and 'app."SESSION"."ACCESS"' in sql, sql
