"""Database URLs as users write them, with the drivers cdc-sync uses (source and state store)."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "oracle": "oracle+oracledb",
}


def normalise_url(url: str) -> URL:
    """Accept plain ``postgresql://`` and ``oracle://`` URLs; pick our drivers for them."""
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed
