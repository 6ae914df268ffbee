"""Cost of capture to the application's own writes: the same DML with and without the triggers.

Run against the local stack (``eval "$(dev/stack env)"`` first)::

    .venv/bin/python bench/writer_overhead.py [--rows 15000] [--runs 5] [--db postgresql]

Each run creates a fresh table and times, as the application would run them,
one multi-row INSERT, UPDATE and DELETE of ``--rows`` rows each (three
statements, each its own transaction); then ``--single`` single-row INSERTs,
UPDATEs and DELETEs, one statement each (PostgreSQL: inside one ``DO`` block,
so only the statements and their triggers are timed, not client round trips);
then ``--client`` of each sent by the client, one transaction each, as an
OLTP application writes (round trips and commits included).
Runs alternate between a table without capture and one with `source install`
applied, so both see the same machine load; the figure is the ratio of the
medians (captured / plain) and every run is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from cdc_sync.config import Settings
from cdc_sync.source.database import create_source_engine
from cdc_sync.source.install import install, uninstall

TABLE = "bench_writes"
CREATE = (
    f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, title VARCHAR(100), "
    "status VARCHAR(10), price NUMERIC(12, 2))"
)
MULTI = {
    "postgresql": [
        f"INSERT INTO {TABLE} SELECT g, 'title ' || g, 'OK', g * 1.5 "
        "FROM generate_series(1, :rows) g",
        f"UPDATE {TABLE} SET title = title || ' v2', price = price + 1",
        f"DELETE FROM {TABLE}",
    ],
    "sqlite": [
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :rows) "
        f"INSERT INTO {TABLE} SELECT n, 'title ' || n, 'OK', n * 1.5 FROM g",
        f"UPDATE {TABLE} SET title = title || ' v2', price = price + 1",
        f"DELETE FROM {TABLE}",
    ],
}
SINGLE_PG = (
    "DO $$ BEGIN "
    "FOR i IN 1..{n} LOOP INSERT INTO " + TABLE + " VALUES (i, 'title', 'OK', 1); END LOOP; "
    "FOR i IN 1..{n} LOOP UPDATE " + TABLE + " SET price = price + 1 WHERE id = i; END LOOP; "
    "FOR i IN 1..{n} LOOP DELETE FROM " + TABLE + " WHERE id = i; END LOOP; "
    "END $$"
)


def pg_admin() -> Engine:
    url = os.environ["PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, isolation_level="AUTOCOMMIT")


def source_url(db: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    """A fresh database and how to drop it."""
    if db == "sqlite":
        return f"sqlite:///{workdir / 'writes.db'}", lambda: None
    name = f"writes_{uuid.uuid4().hex[:8]}"
    admin = pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"{os.environ['PG_URL'].rpartition('/')[0]}/{name}", drop


def settings_for(url: str) -> Settings:
    return Settings(
        source={"url": url},  # type: ignore[arg-type]
        kafka={"bootstrap_servers": "127.0.0.1:9"},  # type: ignore[arg-type]
        meilisearch={"url": "http://127.0.0.1:9"},  # type: ignore[arg-type]
        tables=[{"name": TABLE.upper(), "primary_key": ["ID"]}],  # type: ignore[list-item]
    )


def fresh_table(engine: Engine, settings: Settings, captured: bool) -> None:
    uninstall(engine, settings, force=True)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        conn.execute(text(CREATE))
    if captured:
        install(engine, settings)
    with engine.begin() as conn:
        conn.execute(text("CHECKPOINT" if is_pg(engine) else "SELECT 1"))


def backend_cpu_s(pid: int | None) -> float:
    """CPU time of the PostgreSQL backend serving us (same machine), or 0 when unknown.

    Far less sensitive to other processes on a shared machine than the wall clock.
    """
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def timed(engine: Engine, statements: list[str], params: dict[str, Any]) -> tuple[float, float]:
    """Wall-clock and backend CPU seconds of the statements, each committed on its own."""
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar() if is_pg(engine) else None
        cpu = backend_cpu_s(pid)
        started = time.perf_counter()
        for statement in statements:
            conn.execute(text(statement), params)
            conn.commit()
        return time.perf_counter() - started, backend_cpu_s(pid) - cpu


CLIENT = [
    f"INSERT INTO {TABLE} VALUES (:i, 'title', 'OK', 1)",
    f"UPDATE {TABLE} SET price = price + 1 WHERE id = :i",
    f"DELETE FROM {TABLE} WHERE id = :i",
]


def timed_client(engine: Engine, count: int) -> tuple[float, float]:
    """`count` single-row INSERTs, then UPDATEs, then DELETEs, each committed on its own."""
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar() if is_pg(engine) else None
        statements = [text(s) for s in CLIENT]
        cpu = backend_cpu_s(pid)
        started = time.perf_counter()
        for statement in statements:
            for i in range(count):
                conn.execute(statement, {"i": i})
                conn.commit()
        return time.perf_counter() - started, backend_cpu_s(pid) - cpu


def is_pg(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def measure(
    db: str, rows: int, single: int, runs: int, workdir: Path, client: int = 0
) -> dict[str, Any]:
    url, drop = source_url(db, workdir)
    settings = settings_for(url)
    engine = create_source_engine(settings.source)
    times: dict[str, dict[str, list[tuple[float, float]]]] = {
        shape: {"plain": [], "captured": []} for shape in ("multi", "single", "client")
    }
    try:
        for run in range(runs):
            # Alternate which variant goes first, so neither always runs on a warmer cache.
            order = ("plain", "captured") if run % 2 == 0 else ("captured", "plain")
            for variant in order:
                fresh_table(engine, settings, variant == "captured")
                times["multi"][variant].append(timed(engine, MULTI[db], {"rows": rows}))
                if db == "postgresql" and single:
                    fresh_table(engine, settings, variant == "captured")
                    times["single"][variant].append(timed(engine, [SINGLE_PG.format(n=single)], {}))
                if client:
                    fresh_table(engine, settings, variant == "captured")
                    times["client"][variant].append(timed_client(engine, client))
    finally:
        engine.dispose()
        drop()
    figure: dict[str, Any] = {
        "db": db,
        "rows_per_statement": rows,
        "single_statements": single,
        "client_statements": client,
    }
    for shape, variants in times.items():
        if not variants["plain"]:
            continue
        figure[shape] = {}
        for clock, column in (("wall", 0), ("backend_cpu", 1)):
            runs = {v: [t[column] for t in variants[v]] for v in variants}
            plain, captured = (statistics.median(runs[v]) for v in ("plain", "captured"))
            if plain > 0:
                figure[shape][clock] = {
                    "ratio": captured / plain,
                    "median_s": {"plain": plain, "captured": captured},
                    "runs_s": runs,
                }
    return figure


def figure(quick: bool) -> dict[str, Any]:
    """Writer overhead on PostgreSQL for the one bench command."""
    with tempfile.TemporaryDirectory() as tmp:
        return measure(
            "postgresql",
            15_000,
            1_000 if quick else 3_000,
            3 if quick else 5,
            Path(tmp),
            client=300 if quick else 1_000,
        )


def report(result: dict[str, Any]) -> None:
    labels = {
        "multi": ("3 statements of", "rows_per_statement"),
        "single": ("single-row statements (server side) x3 x", "single_statements"),
        "client": ("single-row statements from the client x3 x", "client_statements"),
    }
    for shape, (label, counted) in labels.items():
        if shape not in result:
            continue
        count = result[counted]
        for clock, data in result[shape].items():
            runs = "  ".join(
                f"{v}: " + " ".join(f"{t:.3f}" for t in data["runs_s"][v]) for v in data["runs_s"]
            )
            print(
                f"{result['db']:<10} {label} {count} rows, {clock}: "
                f"plain {data['median_s']['plain']:.3f} s, "
                f"captured {data['median_s']['captured']:.3f} s, ratio {data['ratio']:.2f} "
                f"(medians; runs {runs})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=15_000, help="rows per multi-row statement")
    parser.add_argument("--single", type=int, default=3_000, help="single-row statements per op")
    parser.add_argument("--client", type=int, default=1_000, help="client statements per op")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", action="append", choices=sorted(MULTI))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for db in args.db or ["postgresql"]:
            report(measure(db, args.rows, args.single, args.runs, Path(tmp), args.client))


if __name__ == "__main__":
    main()
