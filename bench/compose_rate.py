"""Relay rate with children and a lookup versus without: the cost of composing documents.

Run against the local stack (``eval "$(dev/stack env)"`` first)::

    python bench/compose_rate.py --rows 20000 --children 3 --runs 5 --db sqlite --db postgresql

Per database and run, both variants are measured back to back on fresh
databases with the same N parent changes in the change log: ``plain`` relays
the parent table alone; ``composed`` relays the same table configured with a
child table (`--children` rows per parent, written before the triggers, so the
change log holds the same N rows) and a status-code lookup. The figure is
changes/s of an in-process ``relay --once`` drain, and the ratio composed/plain
taken in the same run; medians over the runs (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from cdc_sync.config import Settings
from cdc_sync.source.database import create_source_engine
from cdc_sync.source.install import install
from cdc_sync.source.service import RelayService
from cdc_sync.state.store import StateStore

SERIES = {
    "sqlite": "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :rows) ",
    "postgresql": "",
}
FROM = {"sqlite": "FROM g", "postgresql": "FROM generate_series(1, :rows) AS g(n)"}

DDL = [
    "CREATE TABLE bench_cases (id INTEGER PRIMARY KEY, title VARCHAR(100), status VARCHAR(10), "
    "price NUMERIC(12, 2))",
    "CREATE TABLE bench_notes (note_id INTEGER PRIMARY KEY, case_id INTEGER, seq INTEGER, "
    "body VARCHAR(200))",
    "CREATE INDEX bench_notes_case ON bench_notes (case_id)",
    "CREATE TABLE bench_codes (code VARCHAR(10) PRIMARY KEY, code_name VARCHAR(40))",
]

COMPOSED: dict[str, Any] = {
    "children": [
        {
            "name": "BENCH_NOTES",
            "primary_key": ["NOTE_ID"],
            "parent_key": ["CASE_ID"],
            "field": "notes",
            "fields": {"BODY": "text", "SEQ": "seq"},
            "order_by": ["SEQ"],
        }
    ],
    "lookups": [
        {
            "name": "BENCH_CODES",
            "key": ["CODE"],
            "parent_columns": ["STATUS"],
            "fields": {"CODE_NAME": "status_name"},
        }
    ],
}


def source_url(db: str, workdir: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}"
    admin = create_engine(
        os.environ["PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{os.environ['PG_URL'].rpartition('/')[0]}/{name}"


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    admin = create_engine(
        os.environ["PG_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)'))
    admin.dispose()


def measure(db: str, rows: int, children: int, composed: bool, workdir: Path) -> float:
    table: dict[str, Any] = {"name": "BENCH_CASES", "primary_key": ["ID"]}
    if composed:
        table |= COMPOSED
    settings = Settings(
        source={"url": source_url(db, workdir)},  # type: ignore[arg-type]
        kafka={  # type: ignore[arg-type]
            "bootstrap_servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
            "topic_prefix": f"bench{uuid.uuid4().hex[:8]}",
            "partitions": 6,
        },
        meilisearch={"url": os.environ.get("MEILI_URL", "http://127.0.0.1:7700")},  # type: ignore[arg-type]
        tables=[table],  # type: ignore[list-item]
    )
    engine = create_source_engine(settings.source)
    with engine.begin() as conn:
        for statement in DDL:
            conn.execute(text(statement))
        conn.execute(text("INSERT INTO bench_codes VALUES ('OK', 'Fine'), ('BAD', 'Broken')"))
        for seq in range(1, children + 1):  # before the triggers: only parents are logged
            conn.execute(
                text(
                    f"{SERIES[db]}INSERT INTO bench_notes "
                    f"SELECT n * 100 + :seq, n, :seq, 'note ' || n || ' number ' || :seq "
                    f"{FROM[db]}"
                ),
                {"rows": rows, "seq": seq},
            )
    install(engine, settings)
    with engine.begin() as conn:
        conn.execute(
            text(
                f"{SERIES[db]}INSERT INTO bench_cases SELECT n, 'title ' || n, "
                f"CASE WHEN n % 7 = 0 THEN 'BAD' ELSE 'OK' END, n * 1.5 {FROM[db]}"
            ),
            {"rows": rows},
        )
    engine.dispose()
    state = StateStore(f"sqlite:///{workdir / f'state-{uuid.uuid4().hex[:8]}.db'}")
    started = time.perf_counter()
    published = RelayService(settings, state, once=True).run()
    elapsed = time.perf_counter() - started
    state.close()
    drop_database(settings.source.url.get_secret_value())
    assert published == rows, (published, rows)
    return rows / elapsed


def figure(
    quick: bool = False,
    dbs: tuple[str, ...] = ("sqlite", "postgresql"),
    rows: int | None = None,
    children: int = 3,
    runs: int | None = None,
) -> dict[str, Any]:
    """Medians of changes/s with and without composition, the ratio, and every run."""
    rows = rows or (5_000 if quick else 20_000)
    runs = runs or (3 if quick else 5)
    out: dict[str, Any] = {"rows": rows, "children_per_parent": children, "runs": runs}
    with tempfile.TemporaryDirectory() as tmp:
        for db in dbs:
            plain, composed = [], []
            for _ in range(runs):
                plain.append(measure(db, rows, children, False, Path(tmp)))
                composed.append(measure(db, rows, children, True, Path(tmp)))
            ratios = [c / p for c, p in zip(composed, plain, strict=True)]
            out[db] = {
                "plain_changes_per_s": round(statistics.median(plain)),
                "composed_changes_per_s": round(statistics.median(composed)),
                "ratio_median": round(statistics.median(ratios), 3),
                "plain_runs": [round(r) for r in plain],
                "composed_runs": [round(r) for r in composed],
                "ratio_runs": [round(r, 3) for r in ratios],
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--children", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", action="append", choices=sorted(SERIES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    dbs = tuple(args.db or sorted(SERIES))
    result = figure(False, dbs, args.rows, args.children, args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for db in dbs:
        r = result[db]
        print(
            f"{db:<11} {args.rows} changes, {args.children} children + 1 lookup: "
            f"plain {r['plain_changes_per_s']}/s, composed {r['composed_changes_per_s']}/s, "
            f"ratio {r['ratio_median']} (medians of {args.runs})"
        )
        print(f"            plain runs    {r['plain_runs']}")
        print(f"            composed runs {r['composed_runs']}")
        print(f"            ratios        {r['ratio_runs']}")


if __name__ == "__main__":
    main()
