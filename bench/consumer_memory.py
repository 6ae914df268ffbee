"""Consumer peak RSS over a backlog: the same at 100,000 and 1,000,000 events (SPEC §10: < 250 MB).

Run against the local stack (``eval "$(dev/stack env)"`` first)::

    python bench/consumer_memory.py --events 100000 1000000

Publishes each backlog, then runs `cdc-sync consume --until-caught-up` over it
under /usr/bin/time and reports the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from consumer_rate import measure


def figure(quick: bool) -> dict[str, Any]:
    sizes = (20_000, 200_000) if quick else (100_000, 1_000_000)
    runs = [measure(n, "small", direct=False) for n in sizes]
    peaks = [r["peak_rss_mib"] for r in runs]
    return {
        "peak_rss_mib": dict(zip(map(str, sizes), peaks, strict=True)),
        "growth": round(peaks[-1] / peaks[0], 3),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    for n in args.events:
        print(json.dumps(measure(n, "small", direct=False)), flush=True)


if __name__ == "__main__":
    main()
