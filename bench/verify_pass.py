"""The cost of one continuous-verify pass over a PostgreSQL table (docs/verify.md).

Run by hand against the local stack (``eval "$(dev/stack env)"`` first):

    python bench/verify_pass.py --rows 1000000 [--rows-per-s 1000000000]

A table of ``--rows`` rows is generated in a fresh PostgreSQL database and loaded with
``cdc-sync bootstrap``; then ``cdc-sync verify --continuous`` runs until its first pass is
done. Reported: the pass's wall time (from its run in the state store), rows read per
second, and the CPU seconds over that time of the verifier process, of PostgreSQL (the
postmaster's children of this stack) and of Meilisearch. The budget defaults to no limit,
so the figures are the pass's own cost; with a budget the wall time is rows / budget.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import tomli_w
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.consumer_rate import cpu_seconds, meili_pid  # noqa: E402


def postgres_cpu() -> float:
    """CPU seconds of this stack's PostgreSQL: its postmaster and every child it has now."""
    try:
        text_ = next((ROOT / ".stack").glob("**/postmaster.pid")).read_text()
        postmaster = int(text_.split()[0])
    except (StopIteration, OSError, ValueError):
        return 0.0
    total = cpu_seconds(postmaster)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            total += cpu_seconds(int(stat.parent.name))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rows-per-s", type=float, default=1e9)
    args = parser.parse_args()
    pg = os.environ["PG_URL"]
    name = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        pg.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg.rpartition("/")[0] + f"/{name}"
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE items (id INTEGER PRIMARY KEY, case_no TEXT, title TEXT, status TEXT, amount NUMERIC(12,2))"
            )
        )
        conn.execute(
            text(
                "INSERT INTO items SELECT g, 'C-' || lpad(g::text, 8, '0'), 'title of case ' || g, "
                "(ARRAY['OPEN','CLOSED','HOLD'])[g % 3 + 1], g * 1.25 FROM generate_series(1, :n) g"
            ),
            {"n": args.rows},
        )
    work = Path(tempfile.mkdtemp(prefix="verify-bench-"))
    config = work / "config.toml"
    config.write_bytes(
        tomli_w.dumps(
            {
                "source": {"url": url},
                "kafka": {
                    "bootstrap_servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
                    "topic_prefix": name,
                    "group_id": name,
                },
                "meilisearch": {
                    "url": os.environ["MEILI_URL"],
                    "api_key": os.environ["MEILI_MASTER_KEY"],
                    "timeout_s": 120,
                },
                "state": {"url": f"sqlite:///{work / 'state.db'}"},
                "http": {"enabled": False},
                "verify": {"rows_per_s": args.rows_per_s, "every": "24h"},
                "tables": [{"name": "ITEMS", "primary_key": ["ID"], "index": name}],
            }
        ).encode()
    )
    cdc = [sys.executable, "-m", "cdc_sync", "--config", str(config)]
    loaded = subprocess.run([*cdc, "bootstrap"], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    source_cpu, sink_cpu = postgres_cpu(), cpu_seconds(meili_pid())
    verifier = subprocess.Popen([*cdc, "verify", "--continuous"], stderr=subprocess.DEVNULL)
    try:
        while True:
            status = json.loads(
                subprocess.run([*cdc, "status", "--json"], capture_output=True, text=True).stdout
            )
            found = status["tables"][0]["verify_pass"] or {}
            if found.get("last"):
                break
            time.sleep(2)
        verifier_cpu = cpu_seconds(verifier.pid)
        source_cpu, sink_cpu = postgres_cpu() - source_cpu, cpu_seconds(meili_pid()) - sink_cpu
    finally:
        verifier.terminate()
        verifier.wait(60)
    last = found["last"]
    print(
        json.dumps(
            {
                "rows": args.rows,
                "rows_per_s_budget": args.rows_per_s,
                "pass_wall_s": last["seconds"],
                "rows_read": last["rows_read"],
                "ids_read": last["ids_read"],
                "reads_per_s": round((last["rows_read"] + last["ids_read"]) / last["seconds"], 1),
                "verifier_cpu_s": round(verifier_cpu, 1),
                "postgresql_cpu_s": round(source_cpu, 1),
                "meilisearch_cpu_s": round(sink_cpu, 1),
                "drift": last["found"],
            },
            indent=2,
        )
    )
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
