"""Bootstrap rate vs a direct bulk load into the same Meilisearch, and bootstrap peak memory.

Run by hand against the local stack (``eval "$(dev/stack env)"`` first):

    python bench/bootstrap_rate.py --rows 200000 --memory-at 50000 200000

For each size a SQLite table is generated. The direct bulk load sends the same
documents (mapped and serialised in advance, held in memory) to a fresh index in
batches of the same size with every task enqueued at once, then waits for the
last one: the physical limit.
``cdc-sync bootstrap`` runs as a child process; its wall time and its peak RSS
(``/usr/bin/time``) are measured.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import meilisearch

from cdc_sync.config import TableSettings
from cdc_sync.documents.mapping import Upsert, document_for_row
from cdc_sync.documents.serialise import dumps

TABLE = {"name": "ITEMS", "primary_key": ["ID"]}


def make_source(path: Path, rows: int) -> None:
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE ITEMS (ID INTEGER PRIMARY KEY, CASE_NO TEXT, TITLE TEXT, BODY TEXT, "
        "STATUS TEXT, AMOUNT NUMERIC, MODIFIED_DATE TEXT)"
    )
    db.executemany(
        "INSERT INTO ITEMS VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            (
                i,
                f"C-{i:08d}",
                f"title of case {i}",
                f"some body text for row {i} " * 4,
                ("OPEN", "CLOSED", "HOLD")[i % 3],
                i * 1.25,
                f"2024-01-{i % 28 + 1:02d}T10:00:00",
            )
            for i in range(1, rows + 1)
        ),
    )
    db.commit()
    db.close()


def documents(path: Path) -> list[dict[str, Any]]:
    table = TableSettings(**TABLE)  # type: ignore[arg-type]
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    docs = []
    for row in db.execute("SELECT * FROM ITEMS ORDER BY ID"):
        op = document_for_row(table, dict(row))
        assert isinstance(op, Upsert)
        docs.append(op.document)
    db.close()
    return docs


def direct_load(client: meilisearch.Client, docs: list[dict[str, Any]], batch: int) -> float:
    uid = f"bench_direct_{uuid.uuid4().hex[:8]}"
    client.wait_for_task(client.create_index(uid, {"primaryKey": "id"}).task_uid)
    index = client.index(uid)
    payloads = [dumps(docs[i : i + batch]) for i in range(0, len(docs), batch)]
    started = time.perf_counter()
    tasks = [index.add_documents_raw(p, "id", "application/json").task_uid for p in payloads]
    for task in tasks:
        result = client.wait_for_task(task, timeout_in_ms=600_000, interval_in_ms=25)
        assert result.status == "succeeded", result.error
    elapsed = time.perf_counter() - started
    client.delete_index(uid)
    return elapsed


def write_config(folder: Path, source: Path, uid: str) -> Path:
    config = folder / "bench.toml"
    config.write_text(
        f"""
[source]
url = "sqlite:///{source}"
[kafka]
bootstrap_servers = "{os.environ["KAFKA_BOOTSTRAP_SERVERS"]}"
topic_prefix = "bench{uuid.uuid4().hex[:8]}"
partitions = 1
[meilisearch]
url = "{os.environ["MEILI_URL"]}"
api_key = "{os.environ["MEILI_MASTER_KEY"]}"
[state]
url = "sqlite:///{folder / "state.db"}"
[http]
enabled = false
[logging]
format = "json"
[[tables]]
name = "ITEMS"
primary_key = ["ID"]
index = "{uid}"
"""
    )
    return config


def bootstrap(
    client: meilisearch.Client, folder: Path, source: Path, batch: int
) -> tuple[float, float, int]:
    """(wall seconds, load-phase rows/s from the log, peak RSS in MiB) of one bootstrap."""
    uid = f"bench_boot_{uuid.uuid4().hex[:8]}"
    config = write_config(folder, source, uid)
    # /usr/bin/time reports the child's own peak RSS; wait4 on a child forked from this
    # (large) process would count the pages it inherited before exec.
    usage = folder / "rss.txt"
    command = ["/usr/bin/time", "-f", "%M", "-o", str(usage), sys.executable, "-m", "cdc_sync"]
    command += ["--config", str(config), "bootstrap", "--batch-size", str(batch)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    err = done.stderr
    if done.returncode != 0:
        raise SystemExit(f"bootstrap failed:\n{err[-2000:]}")
    rate = 0.0
    for line in err.splitlines():
        if '"loaded ' in line:
            rate = float(json.loads(line)["rate"])
    client.delete_index(uid)
    return elapsed, rate, int(usage.read_text().split()[-1]) // 1024


def measure(rows: int, memory_at: list[int], batch: int = 5000) -> list[dict[str, Any]]:
    client = meilisearch.Client(os.environ["MEILI_URL"], os.environ["MEILI_MASTER_KEY"], timeout=60)
    lines: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for size in sorted({rows, *memory_at}):
            source = folder / f"source_{size}.db"
            make_source(source, size)
            line: dict[str, Any] = {"rows": size}
            if size == rows:
                direct = direct_load(client, documents(source), batch)
                line["direct_rows_per_s"] = round(size / direct)
            wall, load_rate, rss = bootstrap(client, folder, source, batch)
            line |= {
                "bootstrap_wall_s": round(wall, 2),
                "bootstrap_rows_per_s": round(size / wall),
                "bootstrap_load_phase_rows_per_s": round(load_rate),
                "bootstrap_peak_rss_mib": rss,
            }
            if size == rows:
                line["ratio_wall"] = round(
                    line["bootstrap_rows_per_s"] / line["direct_rows_per_s"], 3
                )
                line["ratio_load_phase"] = round(load_rate / line["direct_rows_per_s"], 3)
            print(json.dumps(line), flush=True)
            lines.append(line)
    return lines


def figure(quick: bool) -> dict[str, Any]:
    """Bootstrap / direct bulk load (whole run and load phase), and peak RSS at two sizes."""
    rows, small = (50_000, 10_000) if quick else (200_000, 50_000)
    runs = [measure(rows, [small] if i == 0 else []) for i in range(1 if quick else 3)]
    ratios = [line["ratio_wall"] for run in runs for line in run if "ratio_wall" in line]
    return {
        "rows": rows,
        "ratio_wall_median": statistics.median(ratios),
        "ratios_wall": ratios,
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--memory-at", type=int, nargs="*", default=[50_000, 200_000])
    parser.add_argument("--batch-size", type=int, default=5000)
    args = parser.parse_args()
    measure(args.rows, args.memory_at, args.batch_size)


if __name__ == "__main__":
    main()
