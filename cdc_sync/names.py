"""Names as the systems downstream of the config store them (no project imports).

Oracle keeps an unquoted identifier in upper case and a quoted one as written. The Oracle
DDL quotes a configured name where SQLAlchemy's Oracle identifier preparer must (mixed case,
reserved words) and upper-cases it otherwise: `oracle_sql_name` is that one rule.

A table's topic is named by Debezium's rules (SPEC §4), for our relay and for the consumer
alike: ``<prefix>.<SCHEMA>.<TABLE>`` with Oracle's names as Oracle stores them (Debezium's
Oracle connector names topics from the data dictionary) and every character Kafka refuses
in a topic name replaced by ``_``. Names on PostgreSQL and SQLite stay as configured: their
topics are the ones earlier versions used.
"""

from __future__ import annotations

import re

from sqlalchemy.dialects.oracle.base import OracleDialect
from sqlalchemy.sql.compiler import IdentifierPreparer


def oracle_sql_name(preparer: IdentifierPreparer, name: str) -> str:
    """`name` as Oracle SQL: quoted (and so kept as written) where the preparer quotes it,
    otherwise in upper case, as Oracle stores an unquoted name."""
    quoted = str(preparer.quote(name))
    return quoted if quoted.startswith('"') else quoted.upper()


_ORACLE = OracleDialect().identifier_preparer  # type: ignore[no-untyped-call]
_TOPIC_INVALID = re.compile(r"[^A-Za-z0-9._-]")
MAX_TOPIC = 249
"""Kafka's longest topic name (Debezium's ``TopicNamingStrategy.MAX_NAME_LENGTH``)."""


def oracle_stored_name(name: str) -> str:
    """How Oracle stores a configured name: upper case, unless the DDL quotes it."""
    sql = oracle_sql_name(_ORACLE, name)
    return sql[1:-1].replace('""', '"') if sql.startswith('"') else sql


def sanitised_topic(name: str) -> str:
    """Debezium's ``AbstractTopicNamingStrategy.sanitizedTopicName``: every character but
    ``[A-Za-z0-9._-]`` becomes ``_``, at most 249 characters, never ``.`` or ``..``."""
    clean = _TOPIC_INVALID.sub("_", name)[:MAX_TOPIC]
    return clean.replace(".", "_") if clean in (".", "..") else clean


def table_topic(prefix: str, schema: str | None, table: str, *, oracle: bool) -> str:
    """``<prefix>.<schema>.<table>`` (``SchemaTopicNamingStrategy``, Debezium's default), names
    spelled as Oracle stores them on Oracle and as configured elsewhere, then sanitised."""
    parts = [schema, table] if schema else [table]
    if oracle:
        parts = [oracle_stored_name(part) for part in parts]
    return sanitised_topic(".".join([prefix, *parts]))
