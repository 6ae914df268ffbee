"""Names as the systems downstream of the config store them (no project imports).

Oracle keeps an unquoted identifier in upper case and a quoted one as written. The Oracle
DDL quotes a configured name where SQLAlchemy's Oracle identifier preparer must (mixed case,
reserved words) and upper-cases it otherwise: `oracle_sql_name` is that one rule.
"""

from __future__ import annotations

from sqlalchemy.sql.compiler import IdentifierPreparer


def oracle_sql_name(preparer: IdentifierPreparer, name: str) -> str:
    """`name` as Oracle SQL: quoted (and so kept as written) where the preparer quotes it,
    otherwise in upper case, as Oracle stores an unquoted name."""
    quoted = str(preparer.quote(name))
    return quoted if quoted.startswith('"') else quoted.upper()
