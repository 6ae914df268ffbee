"""What the state store hands out: leases, runs and the services' per-table reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    run_id: int | None
    expires_at: dt.datetime


@dataclass(frozen=True)
class TableReport:
    """What one service process last reported about one table (see ``metrics.activity``)."""

    table_name: str
    component: str
    holder: str
    updated_at: dt.datetime
    values: dict[str, Any]


@dataclass(frozen=True)
class Run:
    id: int
    kind: str
    table_name: str | None
    holder: str
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    rows: int
    failures: int
    error: str | None
    details: dict[str, Any] | None


def run_from_row(r: Any) -> Run:
    return Run(
        r.id,
        r.kind,
        r.table_name,
        r.holder,
        r.status,
        aware(r.started_at),
        aware(r.ended_at) if r.ended_at else None,
        r.rows,
        r.failures,
        r.error,
        r.details,
    )
