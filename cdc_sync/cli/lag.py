"""`cdc-sync lag [--json]`: committed offset, end offset and lag per partition."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from cdc_sync.cli.context import AppContext
from cdc_sync.config import Settings
from cdc_sync.kafka.groups import GroupOffsets
from cdc_sync.kafka.lag import GroupLag, group_lag


def configured_lag(settings: Settings) -> GroupLag:
    """The numbers `kafka-consumer-groups --describe` shows, for the configured topics."""
    topics = settings.topics()
    return group_lag(GroupOffsets(settings.kafka), settings.kafka.group_id, topics)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object with a row per partition.")
@click.pass_obj
def lag(app: AppContext, as_json: bool) -> None:
    """Per partition: the group's committed offset, the end offset and the lag.

    Where the group has committed nothing, lag shows "-" as in Kafka's tools, and
    every record of that partition counts as pending (the consumer starts at the
    earliest offset): total_lag is 0 only when nothing is left to apply.
    """
    report = configured_lag(app.settings)
    if as_json:
        click.echo(json.dumps(report.as_json()))
        return
    for topic in report.missing_topics:
        click.echo(f"topic {topic} does not exist (nothing has been published to it yet)")
    if not report.partitions:
        return
    table = Table("topic", "partition", "committed", "end", "lag", title=report.group)
    for r in report.partitions:
        table.add_row(
            r.topic,
            str(r.partition),
            "-" if r.committed is None else str(r.committed),
            str(r.end),
            f"- ({r.pending} pending)" if r.lag is None else str(r.lag),
        )
    Console().print(table)
    summary = f"total lag {report.total:,}"
    if report.uncommitted:
        summary += (
            f" ({report.uncommitted} partition(s) with nothing committed: "
            "every record in them counts)"
        )
    click.echo(summary)


COMMANDS = [lag]
