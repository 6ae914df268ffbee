"""`cdc-sync lag [--json]`: committed offset, end offset and lag per partition."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import click
from rich.console import Console
from rich.table import Table

from cdc_sync.cli.context import AppContext
from cdc_sync.config import Settings
from cdc_sync.kafka.consumer import KafkaConsumer


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int | None
    """None when the group has committed nothing here (kafka-consumer-groups shows "-")."""


def group_lag(settings: Settings) -> list[PartitionLag]:
    """The numbers `kafka-consumer-groups --describe` shows, for the configured topics."""
    kafka = KafkaConsumer(settings.kafka)
    try:
        topics = [t.topic_name(settings.kafka.topic_prefix) for t in settings.tables]
        partitions = kafka.partitions_of(topics)
        committed = kafka.committed(partitions)
        marks = kafka.watermarks(partitions)
        rows = []
        for partition in partitions:
            end = marks[partition][1]
            offset = committed.get(partition)
            rows.append(
                PartitionLag(
                    partition.topic,
                    partition.partition,
                    offset,
                    end,
                    None if offset is None else max(end - offset, 0),
                )
            )
        return rows
    finally:
        kafka.close()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object with a row per partition.")
@click.pass_obj
def lag(app: AppContext, as_json: bool) -> None:
    """Per partition: the group's committed offset, the end offset and the lag."""
    settings = app.settings
    rows = group_lag(settings)
    if as_json:
        total = sum(r.lag or 0 for r in rows)
        click.echo(
            json.dumps(
                {
                    "group": settings.kafka.group_id,
                    "total_lag": total,
                    "partitions": [asdict(r) for r in rows],
                }
            )
        )
        return
    table = Table("topic", "partition", "committed", "end", "lag", title=settings.kafka.group_id)
    for r in rows:
        table.add_row(
            r.topic,
            str(r.partition),
            "-" if r.committed is None else str(r.committed),
            str(r.end),
            "-" if r.lag is None else str(r.lag),
        )
    Console().print(table)


COMMANDS = [lag]
