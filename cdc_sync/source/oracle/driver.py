"""python-oracledb and SQLAlchemy settings for Oracle sources: types, fetch sizes, session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, Table, event
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import oracle as sa_oracle

from cdc_sync.source.oracle.types import know_interval_year_to_month

PREFETCH_OPTION = "cdc_sync_prefetch_rows"
"""Execution option: fetch exactly this many rows per round trip, the first included."""
_FLOATS = (sa_oracle.FLOAT, sqltypes.DOUBLE_PRECISION, sqltypes.REAL)


def exact_numbers(inspector: Any, table: Table, column: dict[str, Any]) -> None:
    """Oracle NUMBER without a fixed scale (and FLOAT) as Decimal (part of the reflection
    hook, `cdc_sync.source.reflection`).

    SQLAlchemy reflects ``NUMBER`` and ``NUMBER(p)`` with ``asdecimal=False``
    unless the scale is positive, and fetches the ones whose scale is not 0
    (unconstrained ``NUMBER``, FLOAT) as binary doubles: ``42`` comes back as
    ``42.0`` and digits past the 15th are lost. Integer ``NUMBER(p)`` and
    ``NUMBER(p, s)`` are already exact and stay as they are.
    """
    if inspector.dialect.name != "oracle":
        return
    kind = column["type"]
    exact: Callable[..., Any] = sa_oracle.NUMBER
    if isinstance(kind, sa_oracle.NUMBER) and not kind.asdecimal and kind.scale != 0:
        column["type"] = exact(kind.precision, kind.scale, asdecimal=True)
    elif type(kind) in _FLOATS:
        column["type"] = exact(asdecimal=True)


def prefetch(
    conn: Any, cursor: Any, statement: Any, parameters: Any, context: Any, executemany: bool
) -> None:
    """``before_cursor_execute`` listener applying `PREFETCH_OPTION` to a python-oracledb cursor."""
    rows = context.execution_options.get(PREFETCH_OPTION) if context is not None else None
    if rows:
        cursor.prefetchrows = rows
        cursor.arraysize = rows


def prepare_driver() -> None:
    """Process-wide python-oracledb and SQLAlchemy settings; idempotent."""
    import oracledb

    oracledb.defaults.fetch_lobs = False  # CLOB → str, BLOB → bytes
    if not event.contains(Engine, "before_cursor_execute", prefetch):
        event.listen(Engine, "before_cursor_execute", prefetch)


SESSION_SETUP = "ALTER SESSION SET NLS_SORT = BINARY NLS_COMP = BINARY"
"""Keyset paging needs ``ORDER BY`` and ``>`` to agree: ORDER BY follows NLS_SORT, ``>``
follows NLS_COMP, and a linguistic setting of either (from the client's locale or a logon
trigger) makes them disagree on VARCHAR2 keys, so pages would skip rows."""


def binary_collation(dbapi_connection: Any, connection_record: Any) -> None:
    """``connect`` listener: every new connection compares and sorts text by its bytes."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(SESSION_SETUP)
    finally:
        cursor.close()


_RESERVED_WORDS = """
    ACCESS ADD ALL ALTER AND ANY AS ASC AUDIT BETWEEN BY CHAR CHECK CLUSTER COLUMN
    COLUMN_VALUE COMMENT COMPRESS CONNECT CREATE CURRENT DATE DECIMAL DEFAULT DELETE DESC
    DISTINCT DROP ELSE EXCLUSIVE EXISTS FILE FLOAT FOR FROM GRANT GROUP HAVING IDENTIFIED
    IMMEDIATE IN INCREMENT INDEX INITIAL INSERT INTEGER INTERSECT INTO IS LEVEL LIKE LOCK
    LONG MAXEXTENTS MINUS MLSLABEL MODE MODIFY NESTED_TABLE_ID NOAUDIT NOCOMPRESS NOT NOWAIT
    NULL NUMBER OF OFFLINE ON ONLINE OPTION OR ORDER PCTFREE PRIOR PRIVILEGES PUBLIC RAW
    RENAME RESOURCE REVOKE ROW ROWID ROWNUM ROWS SELECT SESSION SET SHARE SIZE SMALLINT
    START SUCCESSFUL SYNONYM SYSDATE TABLE THEN TO TRIGGER UID UNION UNIQUE UPDATE USER
    VALIDATE VALUES VARCHAR VARCHAR2 VIEW WHENEVER WHERE WITH
"""
RESERVED_WORDS = frozenset(_RESERVED_WORDS.split())
"""Oracle SQL reserved words (SQL Language Reference, "Oracle SQL Reserved Words"): a column
or table of one of these names exists only quoted, and must be named quoted."""


def quote_reserved_words(dialect: Any) -> None:
    """Make SQLAlchemy's Oracle dialect quote every reserved word, not only those it knows.

    Its list lacks ROWS, SESSION, ACCESS, FILE and others: a column created as
    ``"ROWS"`` is reflected as ``rows`` and rendered unquoted, which Oracle refuses
    (ORA-01747). Reflection keeps the case of a name that needs quotes, so this must
    happen before anything is reflected.
    """
    preparer = dialect.identifier_preparer
    missing = {word.lower() for word in RESERVED_WORDS} - preparer.reserved_words
    if missing:
        preparer.reserved_words = preparer.reserved_words | missing
        preparer._strings.clear()  # names it quoted (or not) before


def prepare_engine(engine: Engine) -> None:
    """Per-engine settings: every reserved word quoted, INTERVAL YEAR TO MONTH known to
    reflection; the session setup on every connection the pool opens."""
    quote_reserved_words(engine.dialect)
    know_interval_year_to_month(engine.dialect)
    if not event.contains(engine, "connect", binary_collation):
        event.listen(engine, "connect", binary_collation)
