"""The relay's lock query against a deep backlog: key-index order vs reading and sorting it all.

Oracle cannot run here, so PostgreSQL stands in (issue 9, item 11). On Oracle
the lock query has no row limit (ORA-02014 forbids FETCH FIRST with FOR
UPDATE), so without hints the optimizer plans for all rows: a full scan and a
sort of the whole backlog for every batch. The relay now hints the key index
in ascending order and the first rows. This measures what that choice is
worth with a 1,000,000-row backlog: the same statement, the same batch, on
the plan that walks the primary-key index from its start ("index") and on the
plan that reads and sorts the whole change log ("full scan + sort", forced by
disabling index scans for the transaction), as a ratio taken in one run.

Run against the local stack (``eval "$(dev/stack env)"`` first)::

    python bench/relay_lock_query.py --rows 1000000 --runs 5

Each run times `--repeat` lock queries per plan (each in its own transaction,
rolled back so the next one locks the same rows) and keeps their median; the
report gives every run and the median of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.dialects import postgresql

from cdc_sync.config import SourceSettings
from cdc_sync.source.changelog import changelog_table
from cdc_sync.source.postgresql import PostgresDialect
from cdc_sync.source.relay import pending_query

TABLES = ("APP.CRASIVTTST", "APP.NOTES", "APP.STATUS_CODE")
FULL_SCAN = (
    "SET LOCAL enable_indexscan = off",
    "SET LOCAL enable_indexonlyscan = off",
    "SET LOCAL enable_bitmapscan = off",
)


def fresh_database() -> tuple[Engine, Engine, str]:
    base = os.environ["PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"bench_lock_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return admin, create_engine(f"{base.rpartition('/')[0]}/{name}"), name


def fill(engine: Engine, rows: int) -> None:
    dialect = PostgresDialect(postgresql.dialect())
    changelog = changelog_table(SourceSettings(url="postgresql://x"))  # type: ignore[arg-type]
    names = ", ".join(f"'{t}'" for t in TABLES)
    with engine.begin() as conn:
        for statement in dialect.create_changelog(changelog):
            conn.exec_driver_sql(statement)
        conn.execute(
            text(
                "INSERT INTO cdc_change_log (table_name, op, pk) "
                f"SELECT (ARRAY[{names}])[1 + g % 3], 'U', '[' || g || ']' "
                "FROM generate_series(1, :rows) AS g"
            ),
            {"rows": rows},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE cdc_change_log"))


def lock_sql(batch: int) -> Any:
    dialect = PostgresDialect(postgresql.dialect())
    changelog = changelog_table(SourceSettings(url="postgresql://x"))  # type: ignore[arg-type]
    return dialect.lock_query(pending_query(changelog, TABLES), batch)


def one_lock(conn: Connection, query: Any, settings: tuple[str, ...]) -> float:
    with conn.begin() as tx:
        for setting in settings:
            conn.execute(text(setting))
        started = time.perf_counter()
        rows = conn.execute(query).all()
        elapsed = time.perf_counter() - started
        tx.rollback()
    assert rows, "the backlog is empty"
    return elapsed * 1000


def plan_of(conn: Connection, query: Any, settings: tuple[str, ...]) -> str:
    sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
    with conn.begin() as tx:
        for setting in settings:
            conn.execute(text(setting))
        lines = conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")).scalars().all()
        tx.rollback()
    return "\n".join(lines)


def measure(rows: int, batch: int, runs: int, repeat: int, show_plans: bool) -> dict[str, Any]:
    admin, engine, name = fresh_database()
    try:
        started = time.perf_counter()
        fill(engine, rows)
        fill_s = time.perf_counter() - started
        query = lock_sql(batch)
        per_run = []
        with engine.connect() as conn:
            if show_plans:
                for label, settings in (("index", ()), ("full scan + sort", FULL_SCAN)):
                    print(f"--- plan: {label}\n{plan_of(conn, query, settings)}\n")
            for _ in range(runs):
                index = [one_lock(conn, query, ()) for _ in range(repeat)]
                full = [one_lock(conn, query, FULL_SCAN) for _ in range(repeat)]
                per_run.append(
                    {
                        "index_ms": round(statistics.median(index), 2),
                        "full_scan_sort_ms": round(statistics.median(full), 2),
                    }
                )
        for run in per_run:
            run["ratio"] = round(run["full_scan_sort_ms"] / run["index_ms"], 1)
        return {
            "backlog_rows": rows,
            "batch": batch,
            "fill_s": round(fill_s, 1),
            "runs": per_run,
            "median_index_ms": statistics.median(r["index_ms"] for r in per_run),
            "median_full_scan_sort_ms": statistics.median(r["full_scan_sort_ms"] for r in per_run),
            "median_ratio": statistics.median(r["ratio"] for r in per_run),
            "load_avg": os.getloadavg(),
        }
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def figure(quick: bool) -> dict[str, Any]:
    """The figure for the one bench command: smaller backlog and fewer runs when `quick`."""
    if quick:
        return measure(100_000, 1000, 3, 5, show_plans=False)
    return measure(1_000_000, 1000, 5, 9, show_plans=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=9, help="lock queries per plan and run")
    parser.add_argument("--plans", action="store_true", help="print EXPLAIN ANALYZE of both")
    args = parser.parse_args()
    result = measure(args.rows, args.batch, args.runs, args.repeat, args.plans)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
