"""Which database errors say the server or the connection went away (worth retrying)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


def is_connection_problem(exc: BaseException) -> bool:
    """OperationalError/InterfaceError, or a DBAPI error that invalidated the connection."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def reason(exc: DBAPIError) -> str:
    """The driver's first line, without SQLAlchemy's statement and background link."""
    return str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
