"""Every performance figure of SPEC §10 in one go, written to bench/results/latest.json.

    bench/run [--quick] [--only NAME ...]

Runs against the local stack (`dev/stack up`). Each figure is a ratio or a
percentile taken within this run, with the runs behind every median; the
machine's description and its load before and after each figure are recorded,
since the figures mean little on a busy machine. Not part of CI.

A figure is a module in bench/ with ``figure(quick: bool) -> dict``; list it
in FIGURES.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
FIGURES = [
    "consumer_rate",
    "consumer_memory",
    "latency",
    "restart",
    "bootstrap_rate",
    "writer_overhead",
    "relay_rate",
    "relay_latency",
    "compose_rate",
]


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    meminfo = Path("/proc/meminfo").read_text().split()
    versions: dict[str, str] = {"python": platform.python_version()}
    try:
        import httpx

        meili = httpx.get(
            f"{os.environ['MEILI_URL']}/version",
            headers={"Authorization": f"Bearer {os.environ.get('MEILI_MASTER_KEY', '')}"},
        ).json()
        versions["meilisearch"] = meili["pkgVersion"]
    except Exception as exc:  # the description is best effort
        versions["meilisearch"] = f"unknown ({exc})"
    kafka_bin = os.environ.get("KAFKA_BIN")
    if kafka_bin:
        done = subprocess.run(
            [f"{kafka_bin}/kafka-topics", "--version"], capture_output=True, text=True
        )
        versions["kafka"] = done.stdout.strip().split()[0] if done.stdout.strip() else "unknown"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20, 1),
        "kernel": platform.release(),
        "versions": versions,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and smaller runs")
    parser.add_argument("--only", nargs="*", choices=FIGURES, help="just these figures")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json")
    args = parser.parse_args()
    sys.path.insert(0, str(BENCH))
    result: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "figures": {},
    }
    for name in args.only or FIGURES:
        print(f"== {name}", flush=True)
        entry: dict[str, Any] = {"load_before": load()}
        started = time.monotonic()
        try:
            entry |= importlib.import_module(name).figure(args.quick)
        except Exception as exc:  # one failing figure must not lose the others
            traceback.print_exc()
            entry["error"] = f"{type(exc).__name__}: {exc}"
        entry |= {"load_after": load(), "seconds": round(time.monotonic() - started, 1)}
        result["figures"][name] = entry
        print(json.dumps(entry, indent=1), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
