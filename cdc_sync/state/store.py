"""The state store: runs, leases, fences, watermarks, reports and errors in a few small
tables (``state.tables``) of a database that every cdc-sync process can reach."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import os
import socket
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import (
    Engine,
    create_engine,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from cdc_sync.database_errors import is_connection_problem, reason
from cdc_sync.database_url import normalise_url
from cdc_sync.errors import CdcSyncError, DependencyUnavailable
from cdc_sync.retry import Retry
from cdc_sync.state.records import Lease, Run, TableReport, aware, run_from_row, utcnow
from cdc_sync.state.tables import (
    KEEP_ERRORS,
    KEEP_REPORTS,
    errors,
    fences,
    leases,
    metadata,
    run_failures,
    runs,
    table_reports,
    watermarks,
)

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
FENCE_POLL_S = 0.25
"""How stale a consumer's view of bootstrap fences may be; bootstrap waits longer than this."""
_CREATE_RACE = Retry(
    lambda exc: isinstance(exc, DBAPIError) and not is_connection_problem(exc),
    first_s=0.05,
    max_s=0.2,
    jitter_s=0.05,
    attempts=5,
    logger=log,
    level=logging.DEBUG,  # another service creating them at the same moment is no fault
)
"""A connection problem goes up to `_retry`."""


def _store_clock(dialect: str) -> Any:
    """A SELECT expression for the server's UTC time; None: this host's clock (SQLite, whose
    file only processes of one host share)."""
    if dialect == "postgresql":
        return func.clock_timestamp()
    return None


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class StateStoreUnavailable(DependencyUnavailable):
    """The state store did not answer within its retry budget."""


def _retried(
    method: Callable[Concatenate[StateStore, P], R],
) -> Callable[Concatenate[StateStore, P], R]:
    """The store's connection problems are retried for `retry_s`, then StateStoreUnavailable."""

    def call(store: StateStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return store._retry(lambda: method(store, *args, **kwargs))

    return functools.update_wrapper(call, method)


class LeaseHeld(CdcSyncError):
    """Another run holds the lease."""

    exit_code = 1


class StateStore:
    """Runs, leases, fences, watermarks and recent errors.

    Every call retries the store's connection problems (a restarting database server) for
    `retry_s` seconds, then raises StateStoreUnavailable (exit code 3). A service loop that
    can go on without the store sets `retry_s` to 0 and handles that error itself.
    """

    def __init__(self, url: str, engine: Engine | None = None, retry_s: float = 30.0) -> None:
        self.retry_s = retry_s
        self.engine = engine or create_engine(normalise_url(url), pool_pre_ping=True)
        self._where = self.engine.url.render_as_string(hide_password=True)
        self._clock = _store_clock(self.engine.dialect.name)
        self._retry(self._create_tables)

    def _create_tables(self) -> None:
        """Create what is missing. Services starting together race here: the tables another
        process is creating at the same moment make this one's CREATE fail (PostgreSQL: a
        unique violation in its catalog; SQLite: "already exists"), so it looks again."""
        _CREATE_RACE.call(
            f"creating the state store's tables in {self._where}",
            lambda: metadata.create_all(self.engine),
        )

    def _retry(self, fn: Callable[[], R]) -> R:
        retry = Retry(
            is_connection_problem, first_s=0.1, max_s=2, budget_s=self.retry_s, logger=log
        )
        try:
            return retry.call(f"state store {self._where}", fn)
        except DBAPIError as exc:
            if not is_connection_problem(exc):
                raise
            raise StateStoreUnavailable(f"state store {self._where}: {reason(exc)}") from None

    def close(self) -> None:
        self.engine.dispose()

    def now(self, conn: Connection) -> dt.datetime:
        """The time leases and fences are measured in: the database server's clock when the
        store is a server that several hosts share, so their clocks need not agree."""
        if self._clock is None:
            return utcnow()
        moment = conn.execute(select(self._clock)).scalar_one()
        return aware(moment).astimezone(dt.UTC)

    # -- leases: one holder at a time, renewed by the holder; a crashed holder's lease
    # lapses after its TTL

    @_retried
    def acquire(self, name: str, holder: str, ttl_s: float, run_id: int | None = None) -> Lease:
        with self.engine.begin() as conn:
            now = self.now(conn)
            expires = now + dt.timedelta(seconds=ttl_s)
            try:
                conn.execute(
                    insert(leases).values(
                        name=name, holder=holder, run_id=run_id, expires_at=expires
                    )
                )
                return Lease(name, holder, run_id, expires)
            except IntegrityError:
                pass
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(leases)
                .where(leases.c.name == name)
                .where((leases.c.expires_at < now) | (leases.c.holder == holder))
                .values(holder=holder, run_id=run_id, expires_at=expires)
            ).rowcount
            if taken == 1:
                return Lease(name, holder, run_id, expires)
            row = conn.execute(select(leases).where(leases.c.name == name)).one()
        raise LeaseHeld(
            f"{name} is held by {row.holder} (run {row.run_id}) until "
            f"{aware(row.expires_at).isoformat(timespec='seconds')}"
        )

    @_retried
    def renew(self, lease: Lease, ttl_s: float) -> Lease:
        with self.engine.begin() as conn:
            expires = self.now(conn) + dt.timedelta(seconds=ttl_s)
            done = conn.execute(
                update(leases)
                .where(leases.c.name == lease.name, leases.c.holder == lease.holder)
                .values(expires_at=expires)
            ).rowcount
        if done != 1:
            raise LeaseHeld(f"lease {lease.name} was lost by {lease.holder}")
        return Lease(lease.name, lease.holder, lease.run_id, expires)

    @_retried
    def release(self, lease: Lease) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(leases).where(leases.c.name == lease.name, leases.c.holder == lease.holder)
            )

    @_retried
    def lease(self, name: str) -> Lease | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(leases).where(leases.c.name == name)).first()
            now = self.now(conn)
        if row is None or aware(row.expires_at) < now:
            return None
        return Lease(row.name, row.holder, row.run_id, aware(row.expires_at))

    @_retried
    def active_leases(self) -> list[Lease]:
        """Every unexpired lease, for status output."""
        with self.engine.connect() as conn:
            now = self.now(conn)
        return [lease for lease in self.all_leases() if lease.expires_at >= now]

    @_retried
    def all_leases(self) -> list[Lease]:
        """Every lease kept, expired ones too (their holder never released them)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(leases).order_by(leases.c.name)).all()
        return [Lease(r.name, r.holder, r.run_id, aware(r.expires_at)) for r in rows]

    # -- fences: while a table is fenced, consumers hold that table's writes

    @_retried
    def set_fence(self, table_name: str, holder: str, ttl_s: float) -> None:
        with self.engine.begin() as conn:
            expires = self.now(conn) + dt.timedelta(seconds=ttl_s)
            conn.execute(delete(fences).where(fences.c.table_name == table_name))
            conn.execute(
                insert(fences).values(table_name=table_name, holder=holder, expires_at=expires)
            )

    @_retried
    def clear_fence(self, table_name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(fences).where(fences.c.table_name == table_name))

    @_retried
    def fenced_tables(self) -> set[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(fences.c.table_name, fences.c.expires_at)).all()
            now = self.now(conn) if rows else utcnow()
        return {r.table_name for r in rows if aware(r.expires_at) >= now}

    # -- runs and their failures

    @_retried
    def start_run(self, kind: str, table_name: str | None, holder: str) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(runs).values(
                    kind=kind,
                    table_name=table_name,
                    holder=holder,
                    status="running",
                    started_at=utcnow(),
                    rows=0,
                    failures=0,
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    @_retried
    def update_run(self, /, run_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(**values))

    @_retried
    def finish_run(
        self,
        run_id: int,
        status: str,
        rows: int,
        error: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.update_run(
            run_id, status=status, rows=rows, error=error, ended_at=utcnow(), details=details
        )

    @_retried
    def add_failures(self, run_id: int, failures: list[tuple[str | None, str]]) -> None:
        if not failures:
            return
        with self.engine.begin() as conn:
            conn.execute(
                insert(run_failures),
                [{"run_id": run_id, "key": key, "reason": reason} for key, reason in failures],
            )
            count = conn.execute(select(runs.c.failures).where(runs.c.id == run_id)).scalar_one()
            conn.execute(
                update(runs).where(runs.c.id == run_id).values(failures=count + len(failures))
            )

    @_retried
    def failures(self, run_id: int, limit: int = 20) -> list[tuple[str | None, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(run_failures.c.key, run_failures.c.reason)
                .where(run_failures.c.run_id == run_id)
                .order_by(run_failures.c.id)
                .limit(limit)
            ).all()
        return [(r.key, r.reason) for r in rows]

    @_retried
    def recent_runs(self, limit: int = 20) -> list[Run]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(runs).order_by(runs.c.id.desc()).limit(limit)).all()
        return [run_from_row(r) for r in rows]

    @_retried
    def latest_runs(self, kinds: tuple[str, ...]) -> list[Run]:
        """The latest run of each of these kinds for each table; an attempt refused because
        another run held the table is not one (that run is)."""
        latest = (
            select(func.max(runs.c.id))
            .where(runs.c.kind.in_(kinds), runs.c.status != "refused")
            .group_by(runs.c.kind, runs.c.table_name)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(select(runs).where(runs.c.id.in_(latest))).all()
        return [run_from_row(r) for r in rows]

    # -- watermarks (timestamp capture)

    @_retried
    def get_watermark(self, name: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(
                select(watermarks.c.value).where(watermarks.c.name == name)
            ).scalar()

    @_retried
    def set_watermark(self, name: str, value: Any) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(watermarks)
                .where(watermarks.c.name == name)
                .values(value=value, updated_at=utcnow())
            ).rowcount
            if not done:
                conn.execute(insert(watermarks).values(name=name, value=value, updated_at=utcnow()))

    @_retried
    def watermark_entry(self, name: str) -> tuple[Any, dt.datetime] | None:
        """The stored watermark and when it last moved."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(watermarks.c.value, watermarks.c.updated_at).where(watermarks.c.name == name)
            ).first()
        return None if row is None else (row.value, aware(row.updated_at))

    # -- per-table reports of running services, for status in any process

    @_retried
    def publish_reports(
        self, component: str, holder: str, reports: dict[str, dict[str, Any]]
    ) -> None:
        """Replace this process's reports (one per table); forget day-old ones of anyone."""
        now = utcnow()
        key = (table_reports.c.component == component, table_reports.c.holder == holder)
        with self.engine.begin() as conn:
            conn.execute(delete(table_reports).where(*key))
            if reports:
                conn.execute(
                    insert(table_reports),
                    [
                        {
                            "table_name": table,
                            "component": component,
                            "holder": holder,
                            "updated_at": now,
                            "report": values,
                        }
                        for table, values in reports.items()
                    ],
                )
            conn.execute(
                delete(table_reports).where(table_reports.c.updated_at < now - KEEP_REPORTS)
            )

    @_retried
    def table_reports(self) -> list[TableReport]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(table_reports)).all()
        return [
            TableReport(r.table_name, r.component, r.holder, aware(r.updated_at), r.report)
            for r in rows
        ]

    # -- recent errors, for status and the dashboard

    @_retried
    def record_error(self, component: str, message: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(errors).values(at=utcnow(), component=component, message=message[:4000])
            )
            newest = conn.execute(
                select(errors.c.id).order_by(errors.c.id.desc()).offset(KEEP_ERRORS).limit(1)
            ).scalar()
            if newest is not None:
                conn.execute(delete(errors).where(errors.c.id <= newest))

    @_retried
    def recent_errors(self, limit: int = 20) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(errors).order_by(errors.c.id.desc()).limit(limit)).all()
        return [
            {
                "at": aware(r.at).isoformat(timespec="seconds"),
                "component": r.component,
                "message": r.message,
            }
            for r in rows
        ]


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)
