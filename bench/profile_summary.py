"""Where the consumer's CPU time goes, per record, from py-spy's collapsed stacks.

    python bench/consumer_rate.py --profile /tmp/consume.txt
    python bench/profile_summary.py /tmp/consume.txt --records 100000 --rate 250

Each sample is put in the stage of its innermost frame that names one
(serialising inside batching counts as serialise); samples outside the
consumer loop are start-up and shut-down.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("serialise", ("dumps (", "orjson")),
    ("http: enqueue", ("Writer._enqueue", "DocumentSink.enqueue", "TaskClient.enqueue")),
    ("http: task poll", ("Writer.poll", "TaskClient.finished")),
    ("decode", ("decode_record", "decode_batch", "_decode (", "relay_row")),
    ("map", ("operation_for_event", "operation_for_row", "_document (", "document_for_row")),
    ("validate", ("check_document",)),
    ("batch", ("PartitionBatch.add", "merge (", "_intake")),
    ("kafka: fetch", ("KafkaConsumer.consume",)),
    ("kafka: commit", ("_commit",)),
    ("dead letters", ("DeadLetterQueue",)),
    ("flow control", ("_flow_control", "has_capacity", "buffered_bytes")),
    ("dispatch", ("_dispatch", "Writer.submit")),
    ("collect", ("_collect", "_account", "mark_done")),
    ("loop: other", ("run_once",)),
)


def stage_of(stack: str) -> str:
    frames = stack.split(";")
    for frame in reversed(frames):
        for stage, needles in STAGES:
            if any(needle in frame for needle in needles):
                return stage
    return "start-up, shut-down"


def summarise(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack:
            counts[stage_of(stack)] += int(n)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--rate", type=float, default=250, help="py-spy samples per second")
    args = parser.parse_args()
    counts = summarise(args.profile)
    total = sum(counts.values())
    per_sample_us = 1e6 / args.rate
    loop = sum(n for stage, n in counts.items() if stage != "start-up, shut-down")
    print(f"{'stage':24} {'samples':>8} {'share':>6} {'µs/record':>10}")
    for stage, n in counts.most_common():
        us = n * per_sample_us / args.records
        print(f"{stage:24} {n:8d} {n / total:6.1%} {us:10.1f}")
    print(
        f"{'consumer loop, total':24} {loop:8d} {'':6} {loop * per_sample_us / args.records:10.1f}"
    )


if __name__ == "__main__":
    main()
